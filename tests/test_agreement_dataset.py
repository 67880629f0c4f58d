"""Dataset-level agreement: per-code tables, bootstrap, disagreements, consensus, real data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from caseframe.analysis.agreement import (
    CodingMatrix,
    UnitInfo,
    consensus,
    disagreements,
    matrix_from_dataset,
    per_code_agreement,
)
from caseframe.analysis.agreement_stats import gwet_ac1, krippendorff_alpha_nominal
from caseframe.errors import InvalidInput, NotFound
from caseframe.interop.coded_dataset import read_coded_dataset

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ANNOMI = SHARED / "data" / "annomi" / "AnnoMI-full.csv"
NHS = SHARED / "data" / "nhs-patient-experience" / "neas_comments.csv"


def need(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"shared test data missing: {path} (expected ../shared beside the repo)")
    return path


def random_matrix(seed: int, coders: int = 3, units: int = 150, missing: float = 0.0):
    rng = np.random.default_rng(seed)
    rates = np.array([0.03, 0.2, 0.5, 0.8])
    truth = rng.random((units, 1, rates.size)) < rates
    noise = rng.random((units, coders, rates.size)) < 0.15
    applied = truth ^ noise
    seen = rng.random((units, coders)) >= missing
    applied &= seen[:, :, None]
    return CodingMatrix(
        [UnitInfo(f"u{i}", f"d{i // 10}", f"text {i}") for i in range(units)],
        [f"c{k}" for k in range(coders)],
        ["rare", "low", "half", "high"],
        applied,
        seen,
    )


def reliability(matrix: CodingMatrix, j: int) -> np.ndarray:
    return np.where(matrix.seen.T, matrix.applied[:, :, j].T.astype(float), np.nan)


@pytest.mark.parametrize("seed", range(3))
def test_per_code_matches_references_with_missing(seed):
    matrix = random_matrix(seed, coders=4, missing=0.25)
    report = per_code_agreement(matrix, bootstrap=0)
    for j, row in enumerate(report.per_code):
        data = reliability(matrix, j)
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert row.values["krippendorff_alpha"] == pytest.approx(expected, abs=1e-10)
        assert row.values["krippendorff_alpha"] == pytest.approx(
            krippendorff_alpha_nominal(data).value, abs=1e-10
        )
        counts = np.stack([(data == 0).sum(0), (data == 1).sum(0)], axis=1)
        # AC1 on the pairable units (issue 14: one stated unit set per statistic)
        pairable = counts.sum(axis=1) >= 2
        assert row.statistics["gwet_ac1"]["units"] == int(pairable.sum())
        assert row.values["gwet_ac1"] == pytest.approx(gwet_ac1(counts[pairable]).value, abs=1e-10)
        # Fleiss' kappa on the units every coder coded
        complete = counts.sum(axis=1) == 4
        assert row.values["fleiss_kappa"] == pytest.approx(
            sm_fleiss_kappa(counts[complete]), abs=1e-10
        )
        assert row.values["cohen_kappa"] is None  # four coders


def test_per_code_matches_statsmodels_and_sklearn():
    matrix = random_matrix(7, coders=3)
    report = per_code_agreement(matrix, bootstrap=0)
    for j, row in enumerate(report.per_code):
        r = matrix.applied[:, :, j].sum(axis=1)
        table = np.stack([3 - r, r], axis=1)
        assert row.values["fleiss_kappa"] == pytest.approx(sm_fleiss_kappa(table), abs=1e-10)
    pair = matrix.select(coders=["c0", "c2"])
    report = per_code_agreement(pair, bootstrap=0)
    for j, row in enumerate(report.per_code):
        a, b = pair.applied[:, 0, j], pair.applied[:, 1, j]
        assert row.values["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-10)
        assert row.values["percent_agreement"] == pytest.approx((a == b).mean())
    # pooled: every (unit, code) decision as one item
    flat = np.where(pair.seen.T[:, :, None], pair.applied.transpose(1, 0, 2), 0).reshape(2, -1)
    assert report.overall["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=flat.astype(float), level_of_measurement="nominal")
    )
    assert report.overall["cohen_kappa"] == pytest.approx(cohen_kappa_score(flat[0], flat[1]))


def test_bootstrap_intervals_and_json_keys():
    matrix = random_matrix(3)
    report = per_code_agreement(matrix, bootstrap=300, seed=5)
    again = per_code_agreement(matrix, bootstrap=300, seed=5)
    assert report.to_json() == again.to_json()  # seeded: reproducible
    for row in report.per_code:
        lo, hi = row.ci["krippendorff_alpha"]
        assert lo <= row.values["krippendorff_alpha"] <= hi
    data = json.loads(json.dumps(report.to_json()))
    assert set(data) == {"per_code", "overall"}
    required = {"code", "units", "percent_agreement", "cohen_kappa", "fleiss_kappa"}
    required |= {"krippendorff_alpha", "gwet_ac1"}
    for row in data["per_code"]:
        assert required <= set(row)
    assert data["overall"]["mean_over_codes"]["krippendorff_alpha"] == pytest.approx(
        np.mean([r["krippendorff_alpha"] for r in data["per_code"]])
    )
    # the rare code's reading points to AC1 rather than reading a low kappa literally
    rare = report.code("rare")
    assert rare.values["gwet_ac1"] > rare.values["krippendorff_alpha"]


def test_code_never_applied_and_applied_everywhere():
    matrix = random_matrix(1)
    matrix.applied[:, :, 0] = False  # "rare" never applied
    matrix.applied[:, :, 3] = True  # "high" applied to every unit by everyone
    report = per_code_agreement(matrix, bootstrap=100)
    # issue 14: a code nobody applied is listed apart, not a row of figures
    assert report.not_applied == ["rare"]
    assert report.to_json()["overall"]["codes_not_applied"] == ["rare"]
    assert [c.code for c in report.per_code] == ["low", "half", "high"]
    with pytest.raises(NotFound, match="no selected coder applied 'rare'"):
        report.code("rare")
    for name in ("high",):
        row = report.code(name)
        assert row.values["krippendorff_alpha"] is None
        assert row.values["fleiss_kappa"] is None
        assert row.values["percent_agreement"] == 1.0
        assert row.values["gwet_ac1"] == 1.0
        assert row.notes and "undefined" in row.notes[0]
        assert row.ci["krippendorff_alpha"] is None
        assert "undefined" in row.reading
    assert report.overall["mean_over_codes"]["codes_defined"]["krippendorff_alpha"] == 2


def test_different_unit_sets_and_errors():
    matrix = random_matrix(2, coders=2)
    matrix.seen[:50, 1] = False  # coder c1 did not see the first 50 units
    matrix.applied[:50, 1, :] = False
    report = per_code_agreement(matrix, bootstrap=0)
    assert report.per_code[0].units == 100
    keep = slice(50, None)
    a, b = matrix.applied[keep, 0, 2], matrix.applied[keep, 1, 2]
    assert report.code("half").values["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))

    disjoint = random_matrix(2, coders=2)
    disjoint.seen[:75, 1] = False
    disjoint.seen[75:, 0] = False
    disjoint.applied &= disjoint.seen[:, :, None]
    with pytest.raises(InvalidInput, match="no unit .* in common"):
        per_code_agreement(disjoint)
    with pytest.raises(InvalidInput, match="at least two coders"):
        per_code_agreement(matrix.select(coders=["c0"]))
    with pytest.raises(NotFound, match="unknown coder: nobody") as err:
        matrix.select(coders=["nobody"])
    assert "c0, c1" in err.value.line()
    with pytest.raises(NotFound, match="unknown code"):
        matrix.select(codes=["nope"])


def test_disagreements_and_consensus():
    units = [UnitInfo("u1", "d1", "first"), UnitInfo("u2", "d1", "second"), UnitInfo("u3", "d2")]
    applied = np.zeros((3, 3, 1), dtype=bool)
    applied[0, :, 0] = True  # all three apply
    applied[1, :2, 0] = True  # two of three apply
    applied[2, 0, 0] = True  # one applies; c2 did not see u3
    seen = np.ones((3, 3), dtype=bool)
    seen[2, 2] = False
    matrix = CodingMatrix(units, ["c0", "c1", "c2"], ["k"], applied, seen)

    found = disagreements(matrix)
    assert [(d.unit, d.applied_by, d.not_applied_by) for d in found] == [
        ("u2", ("c0", "c1"), ("c2",)),
        ("u3", ("c0",), ("c1",)),
    ]
    assert found[0].text == "second" and found[0].document == "d1"

    decided, open_ = consensus(matrix, rule="majority")
    assert decided == {("u1", "k"): True, ("u2", "k"): True}
    assert [(u.unit, u.reason) for u in open_] == [("u3", "tie")]
    decided, open_ = consensus(matrix, rule="unanimous")
    assert decided == {("u1", "k"): True}
    assert {u.unit for u in open_} == {"u2", "u3"}
    decided, open_ = consensus(matrix, rule="union")
    assert decided == {("u1", "k"): True, ("u2", "k"): True, ("u3", "k"): True} and not open_
    decided, open_ = consensus(matrix, coders=["c1", "c2"], rule="unanimous")
    assert decided == {("u1", "k"): True}
    assert [(u.unit, u.reason) for u in open_] == [
        ("u2", "coders disagree"),
        ("u3", "only one chosen coder saw this unit"),
    ]
    with pytest.raises(InvalidInput, match="unknown consensus rule"):
        consensus(matrix, rule="loudest")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_dataset_from_folder(tmp_path):
    write_csv(tmp_path / "codebook.csv", ["code"], [["support"], ["barrier"]])
    write_csv(
        tmp_path / "segments.csv",
        ["id", "text", "document"],
        [[f"s{i}", f"text {i}", f"doc{i // 3}"] for i in range(6)],
    )
    codings = [["s0", "ann", "support"], ["s1", "ann", "support"], ["s2", "ann", "barrier"]]
    codings += [["s0", "bo", "support"], ["s2", "bo", "barrier"], ["s4", "bo", "barrier"]]
    write_csv(tmp_path / "codings.csv", ["segment_id", "coder", "code"], codings)
    dataset = read_coded_dataset(tmp_path)
    matrix = matrix_from_dataset(dataset)
    assert matrix.coders == ["ann", "bo"] and matrix.codes == ["support", "barrier"]
    assert matrix.seen.all()  # every coder coded every segment (FORMATS.md)
    report = per_code_agreement(matrix, bootstrap=50)
    support = report.code("support")
    a = np.array([1, 1, 0, 0, 0, 0])
    b = np.array([1, 0, 0, 0, 0, 0])
    assert support.values["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert support.applied == {"ann": 2, "bo": 1}
    assert [d.unit for d in disagreements(matrix)] == ["s1", "s4"]

    doc0 = matrix_from_dataset(dataset, documents=["doc0"])
    assert [u.id for u in doc0.units] == ["s0", "s1", "s2"]
    with pytest.raises(NotFound, match="unknown document"):
        matrix_from_dataset(dataset, documents=["doc9"])
    with pytest.raises(NotFound, match="unknown coder: eve"):
        matrix_from_dataset(dataset, coders=["ann", "eve"])
    with pytest.raises(InvalidInput, match="only 'ann'"):
        matrix_from_dataset(dataset, coders=["ann"])


def test_single_coder_real_data_nhs(tmp_path):
    """NHS patient-experience comments carry one labeller's codes: agreement must refuse."""
    frame = pd.read_csv(need(NHS)).dropna(subset=["FFT answer"]).head(40)
    columns = list(frame.columns)
    codes = columns[columns.index("Not assigned") :]
    write_csv(tmp_path / "codebook.csv", ["code"], [[c] for c in codes])
    write_csv(
        tmp_path / "segments.csv",
        ["id", "text"],
        [[str(r["Comment ID"]), str(r["FFT answer"])] for _, r in frame.iterrows()],
    )
    rows = [
        [str(r["Comment ID"]), "labeller", c]
        for _, r in frame.iterrows()
        for c in codes
        if r[c] == 1
    ]
    write_csv(tmp_path / "codings.csv", ["segment_id", "coder", "code"], rows)
    dataset = read_coded_dataset(tmp_path)
    with pytest.raises(InvalidInput, match="at least two coders") as err:
        matrix_from_dataset(dataset)
    assert "labeller" in err.value.line()


def annomi_table(column: str, speaker: str) -> pd.DataFrame:
    frame = pd.read_csv(need(ANNOMI))
    frame = frame[frame["transcript_id"].isin([7, 27, 55, 56, 66, 109, 130])]
    frame = frame[frame["interlocutor"] == speaker]
    return frame.pivot_table(
        index=["transcript_id", "utterance_id"],
        columns="annotator_id",
        values=column,
        aggfunc="first",
    )


@pytest.mark.parametrize(
    ("column", "speaker", "anchor", "units"),
    [
        ("main_therapist_behaviour", "therapist", 0.737, 216),
        ("client_talk_type", "client", 0.467, 212),
    ],
)
def test_annomi_ten_coder_alpha(column, speaker, anchor, units):
    table = annomi_table(column, speaker)
    classes = sorted(pd.unique(table.to_numpy().ravel()[pd.notna(table.to_numpy().ravel())]))
    coded = table.apply(lambda c: c.map({k: float(i) for i, k in enumerate(classes)}))
    data = coded.to_numpy(dtype=float).T
    alpha = krippendorff_alpha_nominal(data)
    assert alpha.units == units
    assert round(alpha.value, 3) == anchor  # PROVENANCE.md anchor
    assert alpha.value == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )
    # one binary code per class, through the dataset engine
    seen = pd.notna(table).to_numpy()
    labels = table.to_numpy(dtype=object)
    applied = np.stack([labels == c for c in classes], axis=2) & seen[:, :, None]
    matrix = CodingMatrix(
        [UnitInfo(f"{t}:{u}", str(t)) for t, u in table.index],
        [str(c) for c in table.columns],
        list(classes),
        applied,
        seen,
    )
    report = per_code_agreement(matrix, bootstrap=200)
    for j, row in enumerate(report.per_code):
        binary = np.where(seen.T, applied[:, :, j].T.astype(float), np.nan)
        assert row.values["krippendorff_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal")
        )
        assert row.units == units


def test_rare_code_reading_points_to_ac1():
    # 200 units, two coders; the code is applied to 4 units by each, on 2 of them together:
    # raw agreement 98%, but kappa/alpha are only about 0.49 because the code is rare.
    applied = np.zeros((200, 2, 1), dtype=bool)
    applied[[0, 1, 2, 3], 0, 0] = True
    applied[[0, 1, 4, 5], 1, 0] = True
    matrix = CodingMatrix(
        [UnitInfo(str(i)) for i in range(200)],
        ["a", "b"],
        ["rare"],
        applied,
        np.ones((200, 2), bool),
    )
    row = per_code_agreement(matrix, bootstrap=0).per_code[0]
    assert row.values["percent_agreement"] == pytest.approx(0.98)
    assert row.values["cohen_kappa"] == pytest.approx(
        cohen_kappa_score(applied[:, 0, 0], applied[:, 1, 0])
    )
    assert row.values["gwet_ac1"] > 0.95 > 0.6 > row.values["cohen_kappa"]
    assert "rare" in row.reading and "AC1" in row.reading
