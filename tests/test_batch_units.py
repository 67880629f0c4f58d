"""Pure parts of batch work, no cluster: partition planning, labels, summaries, sampling,
keyed pseudonyms."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from caseframe.batch import inputs
from caseframe.batch.pseudonymise_run import derive_secret, keyed_label
from caseframe.batch.sample import allocate, stratified_sample
from caseframe.batch.summary import code_table, wilson
from caseframe.batch.training import unit_labels
from caseframe.errors import InvalidInput


def _csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows(rows)


def test_csv_partitions_cut_between_records_never_inside_quoted_newlines(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "BLOCK", 7)  # many scan blocks: quotes span block edges
    rows = [
        (str(i), f'line one\n"quoted", line {i}\r\nend' if i % 3 else f"plain {i}")
        for i in range(50)
    ]
    path = tmp_path / "a.csv"
    _csv(path, rows)
    parts = inputs.plan([path], rows=4)
    assert [p.rows for p in parts] == [4] * 12 + [2]
    got = [r for p in parts for c in inputs.read_partition(p, "text", "id") for r in c.ids]
    texts = [t for p in parts for c in inputs.read_partition(p, "text", "id") for t in c.texts]
    assert got == [r[0] for r in rows]
    assert texts == [r[1] for r in rows]
    # each partition's first line is the physical line of its first record
    raw = path.read_bytes()
    for p in parts:
        assert raw[: p.start].count(b"\n") + 1 == p.first_line


def test_csv_ids_default_to_file_and_line(tmp_path):
    path = tmp_path / "b.csv"
    _csv(path, [("x", "two\nlines"), ("y", "one")])
    (part,) = inputs.plan([path])
    (chunk,) = inputs.read_partition(part, "text")
    assert chunk.ids == ["b.csv:2", "b.csv:4"]


def test_a_missing_column_is_named_with_the_file(tmp_path):
    path = tmp_path / "c.csv"
    _csv(path, [("1", "a")])
    with pytest.raises(InvalidInput, match="no column 'comment'.*the file has id, text"):
        inputs.check_columns(inputs.plan([path]), ["comment"])


def test_unit_labels_use_the_half_of_the_shorter_overlap_rule():
    units = [(1, 0, 10), (1, 10, 30), (2, 0, 10)]
    codings = [
        (1, 5, 12, 0),  # 5 of 10 chars of unit 0 (half of the shorter, 7): yes; 2 of unit 1: no
        (1, 0, 30, 1),  # covers units 0 and 1
        (2, 8, 30, 0),  # 2 of 10 chars, shorter is 10: no
    ]
    assert unit_labels(units, codings, 2).tolist() == [[1, 1], [0, 1], [0, 0]]


def test_wilson_interval_matches_statsmodels():
    counts = np.array([0, 3, 17, 50, 99])
    n = np.array([10, 40, 100, 50, 120])
    lo, hi = wilson(counts, n)
    ref_lo, ref_hi = proportion_confint(counts, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(lo, ref_lo, atol=1e-6)
    np.testing.assert_allclose(hi, ref_hi, atol=1e-6)


def test_code_table_counts_shares_corrections_and_low_f1_marks():
    rows = pd.DataFrame(
        {
            "site": ["A", "A", "A", "B"],
            "codes": [["x", "y"], ["x"], [], ["y"]],
        }
    )
    cv = {"x": {"precision": 0.6, "recall": 0.5, "f1": 0.615, "kappa": 0.5}, "y": {}}
    table = code_table(rows, ["site"], ["x", "y"], cv, min_f1=0.6).set_index(["site", "code"])
    assert table.loc[("A", "x"), "count"] == 2 and table.loc[("A", "x"), "rows"] == 3
    assert table.loc[("B", "x"), "count"] == 0
    assert table.loc[("A", "x"), "corrected_share"] == pytest.approx(2 / 3 * 0.6 / 0.5)
    assert table.loc[("A", "y"), "low_f1"] == "yes" and table.loc[("A", "x"), "low_f1"] == ""
    assert np.isnan(table.loc[("A", "y"), "corrected_share"])
    with pytest.raises(InvalidInput, match="no column 'month'"):
        code_table(rows, ["month"], ["x"], cv)


def test_allocation_gives_every_stratum_one_then_proportional():
    assert allocate([100, 10, 1], 12) == [9, 2, 1]  # 1 each, then 9 by largest remainder
    assert allocate([100, 10, 1], 2) == [1, 1, 0]
    assert allocate([5, 5], 50) == [5, 5]
    assert sum(allocate([70, 20, 10], 10)) == 10


def test_stratified_sample_is_reproducible_and_covers_rare_first_codes():
    rows = pd.DataFrame(
        {"id": [str(i) for i in range(200)], "codes": [["common"]] * 195 + [["rare"]] * 5}
    )
    one = stratified_sample(rows, 10, seed=3)
    assert len(one) == 10 and (one["stratum"] == "rare").sum() >= 1
    assert one["id"].tolist() == stratified_sample(rows, 10, seed=3)["id"].tolist()


def test_keyed_labels_depend_on_the_name_and_the_secret_only():
    a, b = b"\x01" * 32, b"\x02" * 32
    assert keyed_label(a, "Omar Haddad", "person") == keyed_label(a, "omar  haddad", "person")
    assert keyed_label(a, "Omar Haddad's", "person") == keyed_label(a, "Omar Haddad", "person")
    assert keyed_label(a, "Omar Haddad", "person") != keyed_label(b, "Omar Haddad", "person")
    assert keyed_label(a, "Omar Haddad", "person") != keyed_label(a, "Omar Hadad", "person")
    assert keyed_label(a, "Leeds", "place").startswith("[Town ")


def test_the_secret_is_derived_from_the_key_file_and_its_passphrase(tmp_path):
    from caseframe.privacy import KeyFile

    one, two = tmp_path / "one.key", tmp_path / "two.key"
    KeyFile.create(one, "pass one", scrypt_n=2**14)
    KeyFile.create(two, "pass one", scrypt_n=2**14)
    secret = derive_secret(one, "pass one")
    assert len(secret) == 32 and secret == derive_secret(one, "pass one")
    assert secret != derive_secret(two, "pass one")  # another file, another salt
    assert secret.hex() not in one.read_text(encoding="utf-8")


def test_counts_of_pieces_add_up_to_the_table_of_the_whole():
    from caseframe.batch.summary import add_counts, counts_of

    rng = np.random.default_rng(1)
    rows = pd.DataFrame(
        {
            "site": rng.choice(["A", "B", "C"], 300),
            "month": rng.choice(["2022-01", "2022-02"], 300),
            "codes": [
                list(rng.choice(["x", "y", "z"], rng.integers(0, 3), replace=False))
                for _ in range(300)
            ],
        }
    )
    whole = code_table(rows, ["site", "month"], ["x", "y", "z"], {})
    total = None
    for piece in (rows.iloc[:100], rows.iloc[100:250], rows.iloc[250:]):
        total = add_counts(total, counts_of(piece, ["site", "month"]))
    pd.testing.assert_frame_equal(code_table(total, ["site", "month"], ["x", "y", "z"], {}), whole)
    overall = code_table(rows, [], ["x", "y", "z"], {})
    assert list(overall["rows"]) == [300] * 3
    assert list(overall["count"]) == [sum("xyz"[j] in c for c in rows["codes"]) for j in range(3)]


def test_sampling_over_partitions_draws_the_same_rows_as_in_memory():
    from caseframe.batch.sample import sample_parts

    rows = pd.DataFrame(
        {"id": [str(i) for i in range(90)], "codes": [["a"], ["b"], []] * 30, "text": ["t"] * 90}
    )
    pieces = [rows.iloc[:40], rows.iloc[40:41], rows.iloc[41:]]
    split = sample_parts(lambda i, cols: pieces[i][cols], 3, ["id", "text", "codes"], 7, seed=5)
    whole = stratified_sample(rows, 7, seed=5)
    assert split["id"].tolist() == whole["id"].tolist()
    assert sorted(Counter(split["stratum"]).values()) == [2, 2, 3]
