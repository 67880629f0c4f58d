"""Exports of the analyses with hostile project text: a code name, memo, quote or note that
starts with "=" never becomes a live spreadsheet formula, and one holding "<script>" never
becomes markup in report.md or report.html (one test per export format)."""

from __future__ import annotations

import re

import openpyxl
import pytest
from docx import Document

from caseframe.api import Project

SCRIPT_CODE = "<script>alert('code')</script> Funding"
FORMULA_CODE = '=HYPERLINK("http://example.invalid","Supervision")'
MEMO = "<img src=x onerror=alert('memo')> what the funding code covers"
QUOTE = "=SUM(1+1) <script>alert('quote')</script> the money ended after two years"
SUMMARY = "=1+2 summary of R1 <b>bold</b>"


@pytest.fixture
def hostile(tmp_path) -> Project:
    p = Project.init(tmp_path / "hostile")
    p.add_case("S1", kind="site", attributes={"setting": "rural"})
    p.add_case("S2", kind="site", attributes={"setting": "urban"})
    p.add_case("R1", kind="respondent", parent="S1")
    p.add_case("R2", kind="respondent", parent="S2")
    doc = tmp_path / "r1.txt"
    doc.write_text(f"R1: {QUOTE}\nR1: supervision came late.\n", encoding="utf-8")
    (tmp_path / "r2.txt").write_text("R2: plain words here.\n", encoding="utf-8")
    p.import_documents([doc], case="R1")
    p.import_documents([tmp_path / "r2.txt"], case="R2")
    theme = p.add_code("Sustainability", kind="theme")
    funding = p.add_code(SCRIPT_CODE, parent=theme.name, kind="category", maps_to=["sis:O10"])
    supervision = p.add_code(FORMULA_CODE, parent=theme.name, kind="category")
    p.add_memo("code", funding.id, MEMO)
    text = p.document("r1.txt").text
    start = text.index(QUOTE)
    p.add_coding("r1.txt", start, start + len(QUOTE), funding.id, "ann", valence="barrier")
    s = text.index("supervision")
    p.add_coding("r1.txt", s, s + len("supervision came late"), supervision.id, "ann")
    r2 = p.document("r2.txt").text
    p.add_coding("r2.txt", 4, len(r2.rstrip()), funding.id, "ann")
    p.summarise("R1", funding.id, SUMMARY)
    yield p
    p.close()


def _values(path) -> list[tuple[str, object, str]]:
    """(sheet, value, openpyxl data type) of every cell of a workbook."""
    book = openpyxl.load_workbook(path)
    return [
        (ws.title, cell.value, cell.data_type)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def test_report_md_carries_no_html_from_the_project(hostile, tmp_path):
    md = hostile.report("md", tmp_path / "r.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert('code')&lt;/script&gt; Funding" in md  # the heading, as text
    assert "&lt;img src=x onerror=alert('memo')&gt;" in md  # the code's memo
    assert "&lt;script&gt;alert('quote')&lt;/script&gt;" in md  # the quote
    # what is left of HTML is our own: line breaks inside table cells, nothing else
    assert set(re.findall(r"<([a-zA-Z/][^ >]*)", md)) <= {"br"}


def test_report_html_escapes_the_project_text(hostile, tmp_path):
    from lxml import html as lxml_html

    page = lxml_html.parse(str(hostile.report("html", tmp_path / "r.html")))
    assert page.xpath("//script") == [] and page.xpath("//img") == []  # nothing became markup
    text = page.getroot().text_content()
    assert QUOTE in text and SCRIPT_CODE in text and MEMO in text


def test_report_docx_keeps_the_text_as_text(hostile, tmp_path):
    doc = Document(str(hostile.report("docx", tmp_path / "r.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert SCRIPT_CODE in text and f"“{QUOTE}”" in text


def test_matrix_workbook_has_no_live_formula(hostile, tmp_path):
    out = hostile.export_matrix(tmp_path / "m.xlsx", rows="respondent", cols="categories")
    cells = _values(out)
    assert not [c for c in cells if c[2] == "f"]  # no formula cell anywhere
    texts = {str(v) for _s, v, _t in cells}
    assert "'" + FORMULA_CODE in texts  # the column header, neutralised
    assert "'" + SUMMARY in texts  # the summary cell
    assert not [v for v in texts if v.startswith(("=", "+", "@"))]


def test_profiles_workbook_has_no_live_formula(example_copy, tmp_path):
    from caseframe.example_study import load_example_ratings

    load_example_ratings(example_copy)
    example_copy.set_profile_wording("sis", notice="=cmd|' /C calc'!A0 <script>x</script>")
    example_copy.assess(
        "A-S4", {"O1": 2}, rater="ann", at="2030-01-01", note="-2+3 note", replace=True
    )
    out = example_copy.write_profiles("xlsx", tmp_path / "p.xlsx")
    cells = _values(out)
    assert not [c for c in cells if c[2] == "f"]
    texts = {str(v) for _s, v, _t in cells}
    assert "'=cmd|' /C calc'!A0 <script>x</script>" in texts and "'-2+3 note" in texts
    md = example_copy.write_profiles("md", tmp_path / "p.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "&lt;script&gt;x&lt;/script&gt;" in md
