"""Metrics and `bench_suggest` on coded-segment folders built from real data."""

import csv
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score

from caseframe.analysis.agreement_stats import gwet_ac1 as reference_ac1
from caseframe.errors import InvalidInput
from caseframe.suggest.evaluate import LEARNING_CURVE, averages, bench_suggest, gwet_ac1, score

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
JSON_KEYS = {
    "micro_f1",
    "macro_f1",
    "mean_kappa",
    "mean_ac1",
    "units_per_second",
    "fit_seconds",
    "per_code",
}


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests need ../shared beside the repository")
    return path


def _write(folder: Path, codebook, segments, codings) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, cols, rows in [
        ("codebook.csv", ["code", "definition"], codebook),
        ("segments.csv", ["id", "text", "document", "split"], segments),
        ("codings.csv", ["segment_id", "coder", "code"], codings),
    ]:
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, cols)
            w.writeheader()
            w.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def nhs_rows():
    frame = pd.read_csv(_need(SHARED / "data/nhs-patient-experience/neas_comments.csv"))
    frame = frame[frame["FFT answer"].fillna("").str.strip() != ""].head(1000)
    codes = list(frame.columns[11:])
    resp = sorted(frame["Respondent ID"].unique())
    test = set(np.random.default_rng(0).permutation(resp)[: len(resp) // 5])
    segments = [
        {
            "id": r["Comment ID"],
            "text": r["FFT answer"],
            "document": r["Respondent ID"],
            "split": "test" if r["Respondent ID"] in test else "train",
        }
        for _, r in frame.iterrows()
    ]
    codings = [
        {"segment_id": r["Comment ID"], "coder": "labeller", "code": c}
        for _, r in frame.iterrows()
        for c in codes
        if r[c] == 1
    ]
    return [{"code": c, "definition": ""} for c in codes], segments, codings


def test_score_matches_sklearn():
    rng = np.random.default_rng(3)
    T = (rng.random((200, 5)) < [0.3, 0.1, 0.05, 0.5, 0.0]).astype(int)
    P = np.where(rng.random(T.shape) < 0.8, T, 1 - T)
    got = score(T, P, list("abcde"))
    assert got["micro_f1"] == pytest.approx(f1_score(T, P, average="micro"))
    used = T.sum(axis=0) > 0
    assert got["macro_f1"] == pytest.approx(f1_score(T[:, used], P[:, used], average="macro"))
    kappas = [cohen_kappa_score(T[:, j], P[:, j]) for j in range(4)]
    assert got["per_code"]["b"]["kappa"] == pytest.approx(kappas[1])
    assert got["mean_kappa"] == pytest.approx(np.mean(kappas))
    assert got["codes_scored"] == 4


def test_other_averages_match_sklearn():
    """all_codes is scikit-learn's macro-F1 (zero_division=0); an unused code counts κ = 1."""
    rng = np.random.default_rng(4)
    T = (rng.random((300, 6)) < [0.3, 0.1, 0.05, 0.5, 0.0, 0.0]).astype(int)
    P = np.where(rng.random(T.shape) < 0.85, T, 1 - T)
    P[:, 5] = 0  # code f: nobody applies it, so the two sides agree on every unit
    result = score(T, P, list("abcdef"))
    got = averages(result, train_counts=[9, 0, 4, 7, 2, 0])
    assert got["test_support"]["macro_f1"] == pytest.approx(result["macro_f1"])
    assert got["all_codes"]["macro_f1"] == pytest.approx(
        f1_score(T, P, average="macro", zero_division=0)
    )
    kappas = [cohen_kappa_score(T[:, j], P[:, j]) for j in range(5)] + [1.0]
    assert got["all_codes"]["mean_kappa"] == pytest.approx(np.mean(kappas))
    trained = [0, 2, 3, 4]
    assert got["trained_codes"]["codes"] == 4
    assert got["trained_codes"]["macro_f1"] == pytest.approx(
        f1_score(T, P, labels=trained, average="macro", zero_division=0)
    )
    assert got["trained_and_tested"]["mean_kappa"] == pytest.approx(
        np.mean([kappas[j] for j in (0, 2, 3)])
    )


def test_ac1_agrees_with_the_reference_implementation():
    # agreement_stats.gwet_ac1 is checked against irrCAC's published values
    rng = np.random.default_rng(5)
    a = (rng.random(300) < 0.1).astype(int)
    b = np.where(rng.random(300) < 0.9, a, 1 - a)
    yes = a + b
    want = reference_ac1(np.stack([yes, 2 - yes], axis=1)).value
    assert gwet_ac1(a, b) == pytest.approx(want)
    # and with Gwet's two-rater binary formula written out
    q = (a.mean() + b.mean()) / 2
    pe = 2 * q * (1 - q)
    assert gwet_ac1(a, b) == pytest.approx(((a == b).mean() - pe) / (1 - pe))


def test_bench_on_nhs_subset_reports_the_promised_keys(tmp_path, nhs_rows):
    folder = _write(tmp_path / "nhs", *nhs_rows)
    result = bench_suggest(folder, "supervised", learning_curve=True)
    assert JSON_KEYS <= set(result)
    assert result["averages"]["test_support"]["macro_f1"] == result["macro_f1"]
    assert result["micro_f1"] > 0.6
    assert [c["fraction"] for c in result["learning_curve"]] == list(LEARNING_CURVE)
    assert result["learning_curve"][-1]["micro_f1"] == pytest.approx(result["micro_f1"])
    zero = bench_suggest(folder, "baseline")
    assert result["macro_f1"] > zero["macro_f1"]


def test_test_labels_never_reach_the_method(tmp_path, nhs_rows):
    """Scrambling the test split's codings changes the scores but not one prediction."""
    codebook, segments, codings = nhs_rows
    test_ids = [s["id"] for s in segments if s["split"] == "test"]
    shuffled = dict(zip(test_ids, np.random.default_rng(9).permutation(test_ids), strict=True))
    scrambled = [
        c | {"segment_id": shuffled.get(c["segment_id"], c["segment_id"])} for c in codings
    ]
    a = bench_suggest(_write(tmp_path / "a", codebook, segments, codings), "supervised")
    b = bench_suggest(_write(tmp_path / "b", codebook, segments, scrambled), "supervised")
    assert [v["predicted"] for v in a["per_code"].values()] == [
        v["predicted"] for v in b["per_code"].values()
    ]
    assert a["micro_f1"] != b["micro_f1"]


def test_human_human_agreement_on_annomi_multi_coded(tmp_path):
    frame = pd.read_csv(_need(SHARED / "data/annomi/AnnoMI-full.csv"))
    frame = frame[(frame.interlocutor == "therapist") & frame.transcript_id.isin([7, 27, 55])]
    codes = ["reflection", "question", "therapist_input", "other"]
    units = frame.drop_duplicates(["transcript_id", "utterance_id"])
    segments = [
        {
            "id": f"{r.transcript_id}-{r.utterance_id}",
            "text": r.utterance_text,
            "document": r.transcript_id,
            "split": "train" if r.transcript_id == 7 else "test",
        }
        for r in units.itertuples()
    ]
    codings = [
        {
            "segment_id": f"{r.transcript_id}-{r.utterance_id}",
            "coder": f"e{r.annotator_id}",
            "code": r.main_therapist_behaviour,
        }
        for r in frame.itertuples()
    ]
    folder = _write(
        tmp_path / "annomi", [{"code": c, "definition": ""} for c in codes], segments, codings
    )
    result = bench_suggest(folder, "supervised", reference="e0")
    hh = result["human_human"]
    assert hh["pairs"] == 45
    # recompute one coefficient by hand: mean over pairs of the per-code mean κ (sklearn)
    test = frame[frame.transcript_id != 7]
    labels = {
        a: g.set_index(["transcript_id", "utterance_id"]).sort_index().main_therapist_behaviour
        for a, g in test.groupby("annotator_id")
    }
    pair_means = []
    for x, y in itertools.combinations(sorted(labels), 2):
        ks = [
            cohen_kappa_score(labels[x] == c, labels[y] == c)
            for c in codes
            if (labels[x] == c).any() or (labels[y] == c).any()
        ]
        pair_means.append(np.mean([k for k in ks if not np.isnan(k)]))
    assert hh["mean_kappa"] == pytest.approx(np.mean(pair_means), abs=1e-9)
    assert set(result["method_vs_coders"]) == {f"e{i}" for i in range(10)}


def test_bad_dataset_reports_file_and_line(tmp_path):
    folder = _write(
        tmp_path / "bad",
        [{"code": "a", "definition": ""}],
        [{"id": "1", "text": "hi", "split": "test"}],
        [{"segment_id": "2", "coder": "x", "code": "a"}],
    )
    with pytest.raises(InvalidInput, match=r"codings.csv:2: coding names unknown segment"):
        bench_suggest(folder, "supervised")


def test_no_test_split_is_explained(tmp_path):
    folder = _write(
        tmp_path / "nosplit",
        [{"code": "a", "definition": ""}],
        [{"id": "1", "text": "hi", "split": ""}],
        [{"segment_id": "1", "coder": "x", "code": "a"}],
    )
    with pytest.raises(InvalidInput, match="split=test"):
        bench_suggest(folder, "definitions", zero_shot=True)


def test_annomi_expert_agreement_matches_the_documented_figure():
    """PROVENANCE.md of AnnoMI: mean pairwise Cohen κ 0.737 on the 216 therapist turns that all
    10 experts coded (main_therapist_behaviour, 4 classes)."""
    from caseframe.interop.coded_dataset import (
        CodebookEntry,
        CodedDataset,
        DatasetCoding,
        DatasetSegment,
    )
    from caseframe.suggest.evaluate import human_agreement

    frame = pd.read_csv(_need(SHARED / "data/annomi/AnnoMI-full.csv"))
    frame = frame[frame.interlocutor == "therapist"]
    multi = frame.groupby("transcript_id").annotator_id.nunique()
    frame = frame[frame.transcript_id.isin(multi[multi == 10].index)]
    ids = [f"{t}-{u}" for t, u in zip(frame.transcript_id, frame.utterance_id, strict=True)]
    codes = ["reflection", "question", "therapist_input", "other"]
    segments = [DatasetSegment(i, "x", split="test") for i in dict.fromkeys(ids)]
    codings = [
        DatasetCoding(i, f"e{a}", c)
        for i, a, c in zip(ids, frame.annotator_id, frame.main_therapist_behaviour, strict=True)
    ]
    data = CodedDataset(
        Path("."),
        [CodebookEntry(c) for c in codes],
        segments,
        codings,
        [f"e{k}" for k in range(10)],
    )
    hh = human_agreement(data, [s.id for s in segments], data.coders)
    assert len(segments) == 216 and hh["pairs"] == 45
    assert hh["multiclass_kappa"] == pytest.approx(0.737, abs=5e-4)


def test_learning_curve_skips_fractions_too_small_to_learn(tmp_path):
    """A small dataset: the 5 % step has too few codings; it is noted, not fatal."""
    import csv

    from caseframe.suggest.evaluate import bench_suggest

    folder = tmp_path / "small"
    folder.mkdir()
    words = {"Funding": "grant budget money funds", "Supervision": "supervisor guidance coaching"}
    with (folder / "codebook.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "definition"])
        w.writerows([[c, d] for c, d in words.items()])
    segs, cods = [], []
    for i in range(60):
        code = "Funding" if i % 2 else "Supervision"
        segs.append(
            [
                f"s{i}",
                f"we talked about {words[code].split()[i % 3]} item {i}",
                "train" if i < 45 else "test",
            ]
        )
        cods.append([f"s{i}", "consensus", code])
    with (folder / "segments.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "split"])
        w.writerows(segs)
    with (folder / "codings.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["segment_id", "coder", "code"])
        w.writerows(cods)
    result = bench_suggest(folder, method="supervised", learning_curve=True)
    curve = result["learning_curve"]
    assert [p["fraction"] for p in curve] == [0.05, 0.1, 0.25, 0.5, 1.0]
    assert "skipped" in curve[0]
    assert "micro_f1" in curve[-1]
