"""The bundled example study builds into a project that mirrors the published paper."""

from __future__ import annotations

import csv

import pytest

from caseframe.errors import InvalidInput
from caseframe.example_study import example_data_dir, resolve_attribution

RESPONDENTS = (
    {f"A{i}" for i in range(1, 8)}
    | {f"B{i}" for i in range(8, 13)}
    | {f"C{i}" for i in range(13, 19)}
)


def test_structure_matches_the_paper(example):
    respondents = {c.key for c in example.cases() if c.kind == "respondent"}
    assert respondents == RESPONDENTS
    codes = example.codes()
    assert [c.kind for c in codes].count("theme") == 1
    assert [c.kind for c in codes].count("main_category") == 3
    assert [c.kind for c in codes].count("category") == 9
    docs = example.documents_frame()
    assert set(docs["cases"]) <= RESPONDENTS
    assert example.code("The working role of the PSW").mapped_components[:1] == ("sis:O4",)


def test_every_published_quote_is_coded_at_its_exact_text(example, example_build):
    rows = list(csv.DictReader((example_data_dir() / "quotes.csv").open(encoding="utf-8")))
    codings = example.codings_frame()
    assert example_build.quotes == len(rows) == 84
    for row in rows:
        hits = codings[(codings["text"] == row["quote"]) & (codings["code"] == row["category"])]
        assert len(hits) == len(row["attribution"].split(",")), row["quote"]
    for r in codings.itertuples():
        assert example.document(r.document_id).text[r.start : r.end] == r.text


def test_multi_respondent_quote_keeps_the_papers_attribution(example):
    codings = example.codings_frame()
    link = codings[codings["text"] == "serving as a link [to the users]"]
    assert sorted(link["cases"]) == ["A2", "B9", "C15"]


def test_inconsistent_attributions_are_warnings(example_build):
    joined = "\n".join(example_build.warnings)
    assert "'C6'" in joined and "C16" in joined
    assert "'B2'" in joined and "B12" in joined
    assert "'12B'" in joined


def test_resolution_rules():
    assert resolve_attribution("A5", RESPONDENTS) == ("A5", None)
    assert resolve_attribution("12B", RESPONDENTS)[0] == "B12"
    assert resolve_attribution("C6", RESPONDENTS)[0] == "C16"
    with pytest.raises(InvalidInput):
        resolve_attribution("D4", RESPONDENTS)


def test_demo_refuses_a_foreign_folder(tmp_path):
    from caseframe.errors import Conflict
    from caseframe.example_study import build_example

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious")
    with pytest.raises(Conflict, match="not made by 'caseframe demo'"):
        build_example(tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.docx").read_text() == "precious"
