"""Co-occurrence against a brute-force reference and scikit-learn's Jaccard score."""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import pytest
from sklearn.metrics import jaccard_score

from caseframe.errors import InvalidInput, NotFound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from generate_project import generate_project  # noqa: E402


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from caseframe.api import Project

    path = generate_project(
        tmp_path_factory.mktemp("cooc") / "p",
        transcripts=6,
        words=400,
        codes=20,
        codings=400,
        coders=2,
        regions=2,
        sites=3,
        seed=3,
    )
    p = Project.open(path)
    # codings that cross paragraph borders, so one coding sits in two meaning units
    units = p.meaning_units(document=1, scheme="paragraph")
    p.add_coding(1, units[0].end - 5, units[1].start + 5, "Code 1", "coder1")
    p.add_coding(1, units[1].start, units[2].end, "Category 2", "coder1")
    yield p
    p.close()


def _reference_units(p, by=None):
    """{(group, coder, unit id): set of codes}, by brute force over every coding and unit."""
    codings = p.codings_frame()
    units = p.meaning_units(scheme="paragraph")
    groups = {None: None}
    if by:
        cases = p.cases_frame().set_index("key")
        groups = {key: cases.loc[key, by] for key in cases.index}
    sets: dict = {}
    for row in codings.itertuples():
        for u in units:
            if u.document_id == row.document_id and u.start < row.end and row.start < u.end:
                g = groups[row.cases] if by else None
                sets.setdefault((g, row.coder, u.id), set()).add(row.code)
    return sets


def test_unit_counts_and_jaccard_match_the_reference(small):
    sets = _reference_units(small)
    codes = sorted({c for s in sets.values() for c in s})
    keys = list(sets)
    expected = {}
    for a, b in combinations(codes, 2):
        n = sum(1 for k in keys if {a, b} <= sets[k])
        if n:
            va = [a in sets[k] for k in keys]
            vb = [b in sets[k] for k in keys]
            expected[frozenset((a, b))] = (n, jaccard_score(va, vb))
    got = small.cooccurrence("unit", "jaccard")
    assert len(got) == len(expected) > 0
    for row in got.itertuples():
        n, jac = expected[frozenset((row.code_a, row.code_b))]
        assert row.count == n
        assert row.jaccard == pytest.approx(jac)
    counts = small.cooccurrence("unit", "count")
    assert list(counts.columns) == ["code_a", "code_b", "count"]
    assert counts["count"].is_monotonic_decreasing


def test_overlap_pairs_match_the_reference(small):
    codings = small.codings_frame()
    pairs, totals = {}, codings.groupby("code").size()
    for _key, group in codings.groupby(["document", "coder"]):
        rows = list(group.itertuples())
        for x, y in combinations(rows, 2):
            if x.code != y.code and x.start < y.end and y.start < x.end:
                key = frozenset((x.code, y.code))
                pairs[key] = pairs.get(key, 0) + 1
    got = small.cooccurrence("overlap", "jaccard")
    assert {frozenset((r.code_a, r.code_b)): r.count for r in got.itertuples()} == pairs
    for r in got.itertuples():
        n = pairs[frozenset((r.code_a, r.code_b))]
        assert r.jaccard == pytest.approx(n / (totals[r.code_a] + totals[r.code_b] - n))


def test_split_by_attribute(small):
    sets = _reference_units(small, by="setting")
    got = small.cooccurrence("unit", "count", by="setting")
    assert list(got.columns) == ["group", "code_a", "code_b", "count"]
    assert set(got["group"]) <= {"municipal", "regional"}
    for row in got.itertuples():
        n = sum(
            1 for (g, _c, _u), s in sets.items() if g == row.group and {row.code_a, row.code_b} <= s
        )
        assert row.count == n
    whole = small.cooccurrence("unit", "count").set_index(["code_a", "code_b"])["count"]
    split = got.groupby(["code_a", "code_b"])["count"].sum()
    assert (split.reindex(whole.index).fillna(0) <= whole).all()


def test_bad_input(small, project):
    with pytest.raises(InvalidInput, match="unknown scope"):
        small.cooccurrence("sentence")
    with pytest.raises(InvalidInput, match="unknown measure"):
        small.cooccurrence(measure="dice")
    with pytest.raises(NotFound, match="unknown case kind or attribute"):
        small.cooccurrence(by="county")
    assert project.cooccurrence().empty
