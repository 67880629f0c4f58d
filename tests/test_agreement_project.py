"""Agreement through the project store: matrix rules, real AnnoMI data, characters, errors."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from caseframe.analysis.agreement import COEFFICIENTS, matrix_from_dataset, per_code_agreement
from caseframe.api import Project
from caseframe.errors import InvalidInput, NotFound
from caseframe.interop.coded_dataset import read_coded_dataset
from caseframe.store.queries import codings as codings_q

TEN_CODER = [7, 27, 55, 56, 66, 109, 130]  # AnnoMI conversations all ten experts coded
THERAPIST = ["reflection", "question", "therapist_input", "other"]
CLIENT = ["change", "neutral", "sustain"]


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def annomi_dataset(shared: Path, folder: Path) -> Path:
    """The ten-coder AnnoMI conversations as a coded-segment dataset (one label per turn)."""
    frame = pd.read_csv(shared / "data" / "annomi" / "AnnoMI-full.csv")
    frame = frame[frame["transcript_id"].isin(TEN_CODER)]
    folder.mkdir()
    turns = frame.drop_duplicates(["transcript_id", "utterance_id"])
    turns = turns.sort_values(["transcript_id", "utterance_id"])
    write_csv(folder / "codebook.csv", ["code"], [[c] for c in THERAPIST + CLIENT])
    write_csv(
        folder / "segments.csv",
        ["id", "text", "document", "speaker"],
        [
            [
                f"{r.transcript_id}:{r.utterance_id}",
                r.utterance_text,
                f"mi{r.transcript_id}",
                r.interlocutor,
            ]
            for r in turns.itertuples()
        ],
    )
    label = np.where(
        frame["interlocutor"] == "therapist",
        frame["main_therapist_behaviour"],
        frame["client_talk_type"],
    )
    write_csv(
        folder / "codings.csv",
        ["segment_id", "coder", "code"],
        [
            [f"{t}:{u}", f"expert{a}", lab]
            for t, u, a, lab in zip(
                frame["transcript_id"],
                frame["utterance_id"],
                frame["annotator_id"],
                label,
                strict=True,
            )
            if isinstance(lab, str)
        ],
    )
    return folder


@pytest.fixture(scope="module")
def annomi(shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("annomi")
    folder = annomi_dataset(shared, root / "ds")
    project = Project.init(root / "proj")
    project.import_coded(folder)
    yield project, folder
    project.close()


def test_project_alpha_equals_dataset_alpha(annomi):
    """Every coefficient per class equals the dataset-level computation on the same data."""
    project, folder = annomi
    for coders in (None, ["expert0", "expert1"]):
        mine = project.agreement(coders=coders, bootstrap=0)
        ref = per_code_agreement(matrix_from_dataset(read_coded_dataset(folder), coders), 0)
        assert [c.code for c in mine.per_code] == THERAPIST + CLIENT
        for a, b in zip(mine.per_code, ref.per_code, strict=True):
            assert a.units == b.units == 428
            for name in COEFFICIENTS:
                assert a.values[name] == pytest.approx(b.values[name], abs=1e-12, nan_ok=True)
        for name in COEFFICIENTS:
            assert mine.overall[name] == pytest.approx(ref.overall[name], abs=1e-12)
    # and one class against the krippendorff package, from the raw CSV
    frame = pd.read_csv(folder / "codings.csv")
    segments = pd.read_csv(folder / "segments.csv")["id"]
    table = (
        frame.assign(v=frame["code"].eq("reflection").astype(float))
        .pivot_table(index="coder", columns="segment_id", values="v", aggfunc="max")
        .reindex(columns=segments)
        .fillna(0.0)
    )
    alpha = krippendorff.alpha(reliability_data=table.to_numpy(), level_of_measurement="nominal")
    assert project.agreement(bootstrap=0).code("reflection").values[
        "krippendorff_alpha"
    ] == pytest.approx(alpha)


@pytest.mark.parametrize(
    ("codes", "anchor", "units"), [(THERAPIST, 0.737, 216), (CLIENT, 0.467, 212)]
)
def test_multiclass_matches_provenance_anchor(annomi, codes, anchor, units):
    project, _ = annomi
    result = project.multiclass_agreement(codes)
    assert result["units"] == units
    assert round(result["krippendorff_alpha"], 3) == anchor  # PROVENANCE.md
    assert round(result["fleiss_kappa"], 3) == anchor  # "Fleiss identical to 3 d.p."


def test_character_kappa_matches_sklearn_on_real_spans(annomi):
    project, _ = annomi
    result = project.character_agreement(["expert0", "expert1"], ["sustain", "change"])
    codings = project.codings_frame(coders=["expert0", "expert1"])
    lengths = {d: len(project.document(d).text) for d in result["documents"]}
    for row in result["per_code"]:
        for entry in row["per_document"]:
            n = lengths[entry["document"]]
            arrays = []
            for coder in ("expert0", "expert1"):
                mask = np.zeros(n, dtype=int)
                sub = codings[
                    (codings["coder"] == coder)
                    & (codings["code"] == row["code"])
                    & (codings["document"] == entry["document"])
                ]
                for s, e in zip(sub["start"], sub["end"], strict=True):
                    mask[s:e] = 1
                arrays.append(mask)
            if len(set(arrays[0])) == len(set(arrays[1])) == 1 and arrays[0][0] == arrays[1][0]:
                assert entry["cohen_kappa"] is None
                continue
            assert entry["cohen_kappa"] == pytest.approx(cohen_kappa_score(*arrays))
            assert entry["percent_agreement"] == pytest.approx(np.mean(arrays[0] == arrays[1]))
    assert result["overall"]["domain"]["u_alpha"] is not None  # the two codes never overlap


def test_summary_for_a_multi_coder_project(annomi, example):
    project, _ = annomi
    summary = project.agreement_summary(bootstrap=50)
    report = project.agreement(bootstrap=0)
    assert summary["coders"] == [f"expert{i}" for i in range(10)]
    assert summary["units"] == 428 and summary["kappa_kind"] == "fleiss"
    assert summary["krippendorff_alpha"] == pytest.approx(report.overall["krippendorff_alpha"])
    assert summary["gwet_ac1"] == pytest.approx(report.overall["gwet_ac1"])
    assert "Krippendorff's alpha = 0.71" in summary["text"] and summary["text"].count(".") >= 1
    assert example.agreement_summary() is None  # one consensus coder only


# --------------------------------------------------------------------------- the matrix rules


@pytest.fixture
def spans_project(shared, tmp_path):
    """Three real survey answers (LLMCode data) as units of one document, codes in a tree."""
    src = shared / "data" / "llmcode-games-as-art" / "bopp_test_coded_texts.csv"
    texts = [r["text"] for r in csv.DictReader(src.open(encoding="utf-8"))]
    texts = [re.sub(r"\s+", " ", t).strip() for t in texts if len(t) > 200][:4]
    folder = tmp_path / "ds"
    folder.mkdir()
    write_csv(
        folder / "codebook.csv",
        ["code", "parent"],
        [["emotion", ""], ["calm", "emotion"], ["art", ""]],
    )
    write_csv(
        folder / "segments.csv",
        ["id", "text", "document"],
        [["u0", texts[0], "answers"], ["u1", texts[1], "answers"], ["u2", texts[2], "answers"]]
        + [["v0", texts[3], "other"]],
    )
    write_csv(folder / "codings.csv", ["segment_id", "coder", "code"], [["u0", "ann", "art"]])
    project = Project.init(tmp_path / "proj")
    project.import_coded(folder)
    yield project
    project.close()


def test_overlap_rule_seen_and_categories(spans_project):
    p = spans_project
    units = p.meaning_units("answers", "imported")
    u0, u1, u2 = units
    p.add_coding("answers", u0.start + 2, u0.start + 12, "calm", "ann")  # short, inside u0
    # all of u1 and three characters of u2: u2 does not count (3 < half of the shorter)
    p.add_coding("answers", u1.start, u2.start + 3, "emotion", "ann")
    p.add_coding("answers", u0.start, u1.end, "calm", "bob")  # both u0 and u1
    p.add_coding("other", 0, 10, "art", "cai")  # cai saw only the other document
    m = p.agreement_matrix(coders=["ann", "bob", "cai"], codes=["emotion"])
    assert [u.document for u in m.units] == ["answers"] * 3 + ["other"]
    assert m.applied[:, 0, 0].tolist() == [True, True, False, False]  # ann, calm counts as emotion
    assert m.applied[:, 1, 0].tolist() == [True, True, False, False]
    # ann: coder_documents (import-coded) marks both documents; bob: his coded document only
    assert m.seen.tolist() == [[True, True, False]] * 3 + [[True, False, True]]
    exact = p.agreement_matrix(coders=["ann", "bob"], codes=["emotion"], exact=True)
    assert exact.applied[:, :, 0].sum(axis=0).tolist() == [1, 0]  # only ann's own emotion coding
    # default codes: every code used, each on its own codings, in tree order
    assert p.agreement_matrix(coders=["ann", "bob"]).codes == ["emotion", "calm", "art"]


def test_character_kappa_with_partial_spans(spans_project):
    p = spans_project
    text = p.document("answers").text
    n = len(text)
    ann, bob = [(5, 60), (100, 180), (300, 320)], [(30, 90), (150, 200), (310, 330), (400, 420)]
    for s, e in ann:
        p.add_coding("answers", s, e, "art", "ann2")
    for s, e in bob:
        p.add_coding("answers", s, e, "art", "bob2")
    p.add_coding("other", 0, 5, "art", "ann2")
    result = p.character_agreement(["ann2", "bob2"], ["art"])
    assert result["documents"] == ["answers"]  # bob2 never saw "other"
    row = result["per_code"][0]
    a, b = np.zeros(n, int), np.zeros(n, int)
    for s, e in ann:
        a[s:e] = 1
    for s, e in bob:
        b[s:e] = 1
    assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert row["per_document"][0]["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert row["coded"] == {"ann2": int(a.sum()), "bob2": int(b.sum())}
    assert -1 < row["u_alpha"] < 1
    for s, e in ann:  # a coder who marks exactly what ann2 marked
        p.add_coding("answers", s, e, "art", "twin")
    twin = p.character_agreement(["ann2", "twin"], ["art"])["per_code"][0]
    assert twin["cohen_kappa"] == pytest.approx(1.0) and twin["u_alpha"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- bad input


def test_single_coder_real_data_is_refused(shared, tmp_path):
    """NHS patient-experience comments carry one labeller's codes."""
    frame = pd.read_csv(shared / "data" / "nhs-patient-experience" / "neas_comments.csv")
    frame = frame.dropna(subset=["FFT answer"]).head(30)
    columns = list(frame.columns)[list(frame.columns).index("Not assigned") :]
    codes = [c.replace("/", " or ") for c in columns]  # '/' separates code paths
    folder = tmp_path / "nhs"
    folder.mkdir()
    write_csv(folder / "codebook.csv", ["code"], [[c] for c in codes])
    write_csv(
        folder / "segments.csv",
        ["id", "text"],
        [[str(r["Comment ID"]), str(r["FFT answer"])] for _, r in frame.iterrows()],
    )
    write_csv(
        folder / "codings.csv",
        ["segment_id", "coder", "code"],
        [
            [str(r["Comment ID"]), "labeller", code]
            for _, r in frame.iterrows()
            for c, code in zip(columns, codes, strict=True)
            if r[c] == 1
        ],
    )
    p = Project.init(tmp_path / "proj")
    p.import_coded(folder)
    with pytest.raises(
        InvalidInput, match=r"at least two coders.*only one human coder \('labeller'\)"
    ):
        p.agreement()
    assert p.agreement_summary() is None
    with pytest.raises(InvalidInput, match="you chose only 'labeller'"):
        p.agreement(coders=["labeller"])
    p.close()


def test_unknown_coder_and_no_common_document(spans_project):
    p = spans_project
    p.add_coding("other", 0, 10, "art", "eve")
    with pytest.raises(NotFound, match="unknown coder 'zed'"):
        p.agreement(coders=["ann", "zed"])
    p.add_coding("answers", 0, 10, "art", "fay")
    with pytest.raises(InvalidInput, match="no unit \\(document\\) in common"):
        p.agreement(coders=["eve", "fay"])
    with pytest.raises(InvalidInput, match="no document in common"):
        p.character_agreement(["eve", "fay"])
    with pytest.raises(InvalidInput, match="unknown unit scheme"):
        p.agreement(scheme="words")
    with pytest.raises(NotFound, match="unknown code"):
        p.agreement(coders=["ann", "eve"], codes=["nope"])


def test_machine_coders_only_when_named(spans_project):
    p = spans_project
    with p.store.transaction() as conn:
        codings_q.add(
            conn,
            "answers",
            0,
            30,
            "art",
            "model",
            coder_kind="machine",
            status="suggested",
            score=0.9,
        )
    p.add_coding("answers", 0, 30, "art", "bob")
    assert p.agreement_matrix().coders == ["ann", "bob"]
    m = p.agreement_matrix(coders=["ann", "model"])
    assert m.applied[0, :, -1].tolist() == [True, True]


def test_character_level_states_units_bounds_and_unused_codes(spans_project):
    p = spans_project
    n = len(p.document("answers").text)
    for s, e in [(5, 60), (100, 180)]:
        p.add_coding("answers", s, e, "art", "ann3")
    for s, e in [(30, 90), (150, 200)]:
        p.add_coding("answers", s, e, "art", "bob3")
    result = p.character_agreement(["ann3", "bob3"], ["art", "emotion"])
    assert [r["code"] for r in result["per_code"]] == ["art"]
    assert result["overall"]["codes_not_applied"] == ["emotion"]
    assert result["overall"]["units"] == "characters of the documents every selected coder coded"
    row = result["per_code"][0]
    assert row["units"] == n
    for name, stat in row["statistics"].items():
        assert stat["units"] == n and stat["convention"] == "complete"
        assert stat["value"] is None or -1 <= stat["value"] <= 1, name
        assert stat["value"] is not None or stat["reason"], name
    assert f"{row['cohen_kappa']:.2f}" in row["reading"]
    assert f"{row['u_alpha']:.2f}" in row["reading"]
