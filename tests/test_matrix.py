"""Framework matrix and its summaries, checked against counts made from the example's CSVs."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest

from caseframe.errors import InvalidInput, NotFound
from caseframe.example_study import example_data_dir
from test_quotes import paper_quotes


def _codes_csv() -> dict[str, list[str]]:
    with (Path(example_data_dir()) / "codes.csv").open(encoding="utf-8") as fh:
        return {r["code"]: [s for s in r["sis"].split(";") if s] for r in csv.DictReader(fh)}


def test_count_and_respondents_by_region(example):
    counts, people = Counter(), defaultdict(set)
    for row in paper_quotes():
        for key in row["keys"]:
            counts[(key[0], row["category"])] += 1
            people[(key[0], row["category"])].add(key)
    count = example.matrix("region", "categories", "count")
    resp = example.matrix("region", "categories", "respondents")
    assert list(count.index) == ["A", "B", "C"]
    assert len(count.columns) == 9
    for region in "ABC":
        for cat in count.columns:
            assert count.loc[region, cat] == counts[(region, cat)]
            assert resp.loc[region, cat] == len(people[(region, cat)])
    by_resp = example.matrix("respondent", "categories", "count")
    assert list(by_resp.index[:3]) == ["A1", "A2", "A3"] and len(by_resp) == 18
    assert int(by_resp.to_numpy().sum()) == sum(len(r["keys"]) for r in paper_quotes())


def test_framework_columns_follow_the_mappings(example):
    sis = _codes_csv()
    per_cat = Counter()
    for row in paper_quotes():
        per_cat[row["category"]] += len(row["keys"])
    matrix = example.matrix("setting", "sis", "count")
    assert list(matrix.columns[:3]) == ["O1", "O2", "O3"] and len(matrix.columns) == 24
    for comp in matrix.columns:
        expected = sum(n for cat, n in per_cat.items() if comp in sis[cat])
        assert int(matrix[comp].sum()) == expected


def test_valence_and_quote_cells(example):
    val = example.matrix("respondent", "categories", "valence")
    rows = [
        r
        for r in paper_quotes()
        if "A5" in r["keys"] and r["category"] == "The working role of the PSW"
    ]
    c = Counter(r["valence"] for r in rows)
    expected = " ".join(
        f"{s}{c[v]}" for v, s in (("facilitator", "+"), ("barrier", "−"), ("mixed", "±")) if c[v]
    )
    assert val.loc["A5", "The working role of the PSW"] == expected
    quotes = example.matrix("site", "categories", "quotes")
    cell = quotes.loc["A-S1", "The working role of the PSW"]
    assert "“serving as a link [to the users]” (A2)" in cell.split("\n")


def test_summaries_go_stale_when_codings_change(example_copy):
    p = example_copy
    s = p.summarise("A5", "Continuous support", "Much talking time; no supervision.", "KG")
    assert len(s.codings) == 1 and not s.stale
    grid = p.matrix("respondent", "categories", "summary")
    assert grid.loc["A5", "Continuous support"] == "Much talking time; no supervision."
    assert grid.loc["A6", "Continuous support"] == ""
    doc = p.document("A5.txt")
    added = p.add_coding(doc.id, 0, 20, "Continuous support", "KG")
    assert bool(p.summaries().set_index("case").loc["A5", "stale"])
    assert (
        p.matrix("respondent", "categories", "summary")
        .loc["A5", "Continuous support"]
        .startswith("[stale] ")
    )
    s2 = p.summarise("A5", "Continuous support", "Rewritten.")
    assert s2.id == s.id and not s2.stale and len(s2.codings) == 2
    p.update_coding(added.id, valence="barrier")
    assert bool(p.summaries()["stale"].iloc[0])
    p.summarise("A5", "Continuous support", "Again.")
    p.delete_coding(added.id)
    frame = p.summaries()
    assert bool(frame["stale"].iloc[0]) and frame["codings"].iloc[0] == 1
    # a site summary gathers the codings of its respondents
    site = p.summarise("A-S1", "The working role of the PSW", "Link to users.")
    items = [i for q in p.quotes("The working role of the PSW") for i in q.items]
    assert sorted(site.codings) == sorted(
        i.coding_id for i in items if i.document in ("A1.txt", "A2.txt")
    )


def test_export_matrix_workbook(example, tmp_path):
    out = example.export_matrix(tmp_path / "m.xlsx", rows="region")
    book = openpyxl.load_workbook(out)
    assert "categories count" in book.sheetnames and "sis count" in book.sheetnames
    assert "categories summary" in book.sheetnames and "sis summary" not in book.sheetnames
    sheet = book["categories count"]
    header = [c.value for c in sheet[1]]
    frame = example.matrix("region", "categories", "count")
    assert header[1:] == list(frame.columns)
    row_a = [c.value for c in sheet[2]]
    assert row_a[0] == "A" and row_a[1:] == [int(v) for v in frame.loc["A"]]


def test_bad_requests(example, project, tmp_path):
    with pytest.raises(NotFound, match="unknown case kind or attribute"):
        example.matrix("county")
    with pytest.raises(NotFound, match="unknown matrix columns"):
        example.matrix("region", "themesx")
    with pytest.raises(InvalidInput, match="unknown matrix cell"):
        example.matrix("region", "categories", "average")
    with pytest.raises(InvalidInput, match="summary cells need case rows"):
        example.matrix("setting", "categories", "summary")
    with pytest.raises(NotFound, match="unknown coder"):
        example.matrix("region", coder="nobody")
    with pytest.raises(InvalidInput, match="would be empty"):
        project.matrix("respondent", "codes")
    project.add_case("R1", kind="respondent")
    project.add_code("Only code")
    with pytest.raises(InvalidInput, match="would be empty"):
        project.matrix("respondent", "codes")
    with pytest.raises(InvalidInput, match="empty summary"):
        example.summarise("A5", "Continuous support", "  ")
    with pytest.raises(InvalidInput, match="output folder does not exist"):
        example.export_matrix(tmp_path / "missing" / "m.xlsx")
    assert not (tmp_path / "missing").exists()


def test_unknown_names_are_refused_with_the_closest(example, tmp_path):
    # a framework named for code columns is still checked: a typo never passes silently
    with pytest.raises(NotFound, match=r"unknown framework 'sls'.*did you mean 'sis'"):
        example.matrix("region", "categories", framework="sls")
    with pytest.raises(NotFound, match=r"unknown framework 'sls'.*framework list"):
        example.matrix("region", "framework", framework="sls")
    with pytest.raises(NotFound, match=r"unknown matrix columns 'sus'.*did you mean 'sis'"):
        example.matrix("region", "sus")
    with pytest.raises(NotFound, match=r"unknown case kind or attribute 'regoin'.*'region'"):
        example.matrix("regoin")
    with pytest.raises(InvalidInput, match=r"unknown matrix cell 'counts'.*did you mean 'count'"):
        example.matrix("region", "categories", "counts")
    with pytest.raises(NotFound, match="unknown framework 'sls'"):
        example.export_matrix(tmp_path / "m.xlsx", rows="region", framework="sls")
    assert not (tmp_path / "m.xlsx").exists()
    # the framework box may name a framework the columns do not use
    assert example.matrix("region", "categories", framework="SIS").shape == (3, 9)


def test_matrix_column_names_for_headers(example):
    sis = example.framework("sis")
    names = example.matrix_columns("sis")
    assert list(names) == [c.key for c in sis.components]
    assert names["O10"] == sis.component("O10").name
    categories = example.matrix_columns("categories")
    assert list(categories) == list(example.matrix("region", "categories").columns)
    paths = dict(zip(example.codes_frame()["name"], example.codes_frame()["path"], strict=True))
    assert all(categories[c] == paths[c] for c in categories)


def test_summaries_are_audited_in_their_transaction(example_copy):
    s = example_copy.summarise("A5", "Continuous support", "Support came late.", actor="kim")
    again = example_copy.summarise("A5", "Continuous support", "Support came late; then weekly.")
    entries = example_copy.audit_entries(entity_type="matrix_summary")
    assert [(e.action, e.actor, e.entity_id) for e in entries] == [
        ("update", example_copy.actor, str(again.id)),
        ("add", "kim", str(s.id)),
    ]
    assert entries[0].before["text"] == "Support came late."
    assert entries[0].after["codings"] == list(again.codings)
