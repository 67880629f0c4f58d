"""Quotes of the example study against the paper's quotations and attributions (quotes.csv)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from caseframe.analysis.frames import natural_sorted
from caseframe.errors import InvalidInput, NotFound
from caseframe.example_study import example_data_dir, resolve_attribution
from caseframe.store.queries import codings as codings_q

RESPONDENTS = {f"A{i}" for i in range(1, 8)} | {f"B{i}" for i in range(8, 13)}
RESPONDENTS |= {f"C{i}" for i in range(13, 19)}


def paper_quotes() -> list[dict]:
    path = Path(example_data_dir()) / "quotes.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        keys = {resolve_attribution(tok, RESPONDENTS)[0] for tok in row["attribution"].split(",")}
        row["keys"] = tuple(natural_sorted(keys))
    return rows


def test_natural_order():
    assert natural_sorted(["A10", "B1", "A2", "C15", "A1"]) == ["A1", "A2", "A10", "B1", "C15"]


def test_every_paper_quote_with_its_attribution(example):
    expected = {
        (r["category"], r["quote"], "(" + ", ".join(r["keys"]) + ")") for r in paper_quotes()
    }
    got = set()
    for code in example.codes():
        if code.kind == "category":
            got |= {(code.name, q.text, q.attribution) for q in example.quotes(code.name)}
    assert got == expected
    assert len(got) == 84


def test_shared_point_is_one_quote(example):
    quotes = example.quotes("The working role of the PSW")
    link = [q for q in quotes if q.text == "serving as a link [to the users]"]
    assert len(link) == 1
    assert link[0].attribution == "(A2, B9, C15)"
    assert link[0].cases == ("A2", "B9", "C15")
    assert [i.document for i in link[0].items] == ["A2.txt", "B9.txt", "C15.txt"]
    # printed "C15, C18, A4, A6" comes back in natural order
    multi = [r for r in paper_quotes() if r["attribution"] == "C15, C18, A4, A6"]
    if multi:
        (q,) = [q for q in example.quotes(multi[0]["category"]) if q.text == multi[0]["quote"]]
        assert q.attribution == "(A4, A6, C15, C18)"


def test_offsets_slice_the_quoted_text(example):
    texts = {}
    for q in example.quotes(
        "Navigating liminal spaces when implementing peer support in mental health systems"
    ):
        for item in q.items:
            if item.document_id not in texts:
                texts[item.document_id] = example.document(item.document_id).text
            assert texts[item.document_id][item.start : item.end] == q.text
    assert len(texts) == 18


def test_descendants_by_default_exact_on_request(example):
    main = "Incentives and conditions"
    below = example.quotes(main)
    expected = sum(
        1
        for r in paper_quotes()
        if r["category"]
        in {
            "Previous experience and commitment",
            "Opportunities for full-scale support",
            "User movement collaboration",
        }
    )
    assert len(below) == expected == 6
    assert example.quotes(main, exact=True) == []
    assert {q.code for q in below} == {
        "Previous experience and commitment",
        "Opportunities for full-scale support",
        "User movement collaboration",
    }


def test_attribution_by_region_site_and_attribute(example):
    def link(by):
        (q,) = [
            q
            for q in example.quotes("The working role of the PSW", by=by)
            if q.text == "serving as a link [to the users]"
        ]
        return q.attribution

    assert link("region") == "(A, B, C)"
    assert link("site") == "(A-S1, B-S2, C-S3)"
    assert link("setting") == "(municipal social psychiatry, regional psychiatry)"


def test_valence_filter_matches_the_data(example):
    category = "The PSW in the working team"
    for valence in ("facilitator", "barrier", "mixed"):
        quotes = example.quotes(category, valence=valence)
        expected = {
            r["quote"]
            for r in paper_quotes()
            if r["category"] == category and r["valence"] == valence
        }
        assert {q.text for q in quotes} == expected
        assert all(q.valence == valence for q in quotes)


def test_frame_and_machine_codings(example_copy):
    frame = example_copy.quotes_frame("Continuous support")
    assert list(frame["attribution"]) == [
        q.attribution for q in example_copy.quotes("Continuous support")
    ]
    assert len(frame) == 3
    doc = example_copy.document("A5.txt")
    from caseframe.store.lookup import coder_row

    with example_copy.store.transaction() as conn:
        coder_row(conn, "tfidf-model", create=True, kind="machine")
        codings_q.add(
            conn,
            doc.id,
            0,
            10,
            "Continuous support",
            "tfidf-model",
            coder_kind="machine",
            status="suggested",
            score=0.9,
        )
    assert len(example_copy.quotes("Continuous support")) == 3
    assert len(example_copy.quotes("Continuous support", include_machine=True)) == 4
    only = example_copy.quotes("Continuous support", coder="tfidf-model")
    assert [q.text for q in only] == [doc.text[0:10]]


def test_bad_input(example):
    with pytest.raises(NotFound, match="unknown code"):
        example.quotes("No such category")
    with pytest.raises(NotFound, match="unknown case kind or attribute"):
        example.quotes("Continuous support", by="county")
    with pytest.raises(NotFound, match="unknown coder"):
        example.quotes("Continuous support", coder="nobody")
    with pytest.raises(InvalidInput, match="unknown valence"):
        example.quotes("Continuous support", valence="positive")
