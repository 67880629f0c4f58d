"""The study report: parse the HTML, DOCX and Markdown and compare with the project's data."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from docx import Document
from lxml import html as lxml_html

from caseframe.errors import InvalidInput, NotFound
from caseframe.reports.report import NO_DATA
from test_quotes import paper_quotes

LEVELS = ["Organisational level", "Team level", "Continuous support"]


@pytest.fixture(scope="module")
def html_report(example_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    example_build.project.report("html", out)
    return out


def _table(path, table_id) -> pd.DataFrame:
    return pd.read_html(path, attrs={"id": table_id}, flavor="lxml")[0]


def test_table1_reproduces_the_paper(html_report, example):
    t1 = _table(html_report, "table-1").set_index("Region")
    assert list(t1.columns) == [
        "Respondents",
        "Services",
        "municipal social psychiatry",
        "regional psychiatry",
    ]
    assert t1.loc["A"].tolist() == [7, 6, 7, 0]
    assert t1.loc["B"].tolist() == [5, 4, 0, 5]
    assert t1.loc["C"].tolist() == [6, 6, 3, 3]
    assert t1.loc["Total"].tolist() == [18, 16, 10, 8]
    expected = example.case_table("setting").frame.set_index("group")
    assert (t1.to_numpy() == expected.to_numpy()).all()


def test_table2_lists_24_sis_components_by_level(html_report, example):
    t2 = _table(html_report, "table-2")
    assert list(t2.columns) == LEVELS
    sis = example.framework("sis")
    for level in LEVELS:
        names = [n for n in t2[level].tolist() if isinstance(n, str)]
        assert names == [c.name for c in sis.components if c.level == level]
    assert t2.notna().sum().tolist() == [12, 7, 5]


def test_table3_theme_main_categories_categories(html_report):
    t3 = _table(html_report, "table-3")
    assert len(t3) == 9 and t3["Theme"].nunique() == 1
    assert t3["Main category"].unique().tolist() == [
        "Incentives and conditions",
        "Implementation and organization",
        "Experiences of peer support",
    ]
    assert t3["Category"].tolist()[:3] == [
        "Previous experience and commitment",
        "Opportunities for full-scale support",
        "User movement collaboration",
    ]


def test_results_show_every_quote_with_its_attribution(html_report, example):
    tree = lxml_html.parse(str(html_report))
    found = set()
    for section in tree.xpath("//section[contains(@class, 'depth-2')]"):
        category = section.xpath("./h5/text()")[0]
        for q in section.xpath(".//blockquote[contains(@class, 'quote')]"):
            text = q.xpath(".//span[@class='quote-text']/text()")[0]
            attribution = q.xpath(".//span[@class='attr']/text()")[0]
            found.add((category, text, attribution))
    expected = {
        (r["category"], r["quote"], "(" + ", ".join(r["keys"]) + ")") for r in paper_quotes()
    }
    assert found == expected
    descriptions = tree.xpath("//section[@data-code]/p[@class='description']/text()")
    memos = example.memos_frame("code")
    assert set(memos["text"]) <= set(descriptions)


def test_charts_methods_matrix_and_self_contained(html_report, example):
    text = html_report.read_text(encoding="utf-8")
    tree = lxml_html.parse(str(html_report))
    assert len(tree.xpath("//figure//*[local-name()='svg']")) == 2
    assert not tree.xpath("//script[@src] | //link[@href] | //img[@src]")
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "https://" not in text
    methods = tree.xpath("//section[@id='methods']/p/text()")[0]
    assert "18 respondents" in methods and "16 sites" in methods and "3 regions" in methods
    assert "18 documents" in methods and "1 coder" in methods
    assert "Sustainable Implementation Scale" in methods and "24 components" in methods
    matrix = _table(html_report, "matrix-table").set_index("case")
    expected = example.matrix("respondent", "categories", "count")
    assert (matrix.to_numpy() == expected.to_numpy()).all()
    coverage = _table(html_report, "coverage-table")
    assert coverage["codings"].tolist() == example.coverage().components["codings"].tolist()
    assert "Components never evidenced: O11, T2" in text
    book = _table(html_report, "codebook-table")
    assert len(book) == 13


def test_docx_and_markdown(example, tmp_path):
    out = example.report("docx", tmp_path / "r.docx")
    doc = Document(str(out))
    t1 = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in t1.rows]
    assert rows[0] == [
        "Region",
        "Respondents",
        "Services",
        "municipal social psychiatry",
        "regional psychiatry",
    ]
    assert rows[1] == ["A", "7", "6", "7", "0"] and rows[4] == ["Total", "18", "16", "10", "8"]
    t3 = doc.tables[2]
    assert [r.cells[2].text for r in t3.rows][1:4] == [
        "Previous experience and commitment",
        "Opportunities for full-scale support",
        "User movement collaboration",
    ]
    quotes = {p.text for p in doc.paragraphs if p.style.name == "Quote"}
    assert quotes == {f"“{r['quote']}” (" + ", ".join(r["keys"]) + ")" for r in paper_quotes()}
    assert len(doc.inline_shapes) == 2
    md = example.report("md", tmp_path / "r.md").read_text(encoding="utf-8")
    assert "> “serving as a link [to the users]” (A2, B9, C15)" in md
    assert "| A | 7 | 6 | 7 | 0 |" in md


def test_empty_project_says_there_is_no_data(project, tmp_path):
    for fmt in ("html", "docx", "md"):
        out = project.report(fmt, tmp_path / f"empty.{fmt}")
        if fmt == "docx":
            text = "\n".join(p.text for p in Document(str(out)).paragraphs)
        else:
            text = out.read_text(encoding="utf-8")
        assert NO_DATA in text


def test_bad_output(example, tmp_path):
    with pytest.raises(InvalidInput, match="output folder does not exist"):
        example.report("html", tmp_path / "missing" / "r.html")
    with pytest.raises(InvalidInput, match="unknown format"):
        example.report("pdf", tmp_path / "r.pdf")
    with pytest.raises(InvalidInput, match="is a folder"):
        example.report("html", tmp_path)
    assert list(tmp_path.iterdir()) == []
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(InvalidInput, match="not writable"):
            example.report("html", locked / "r.html")


def test_methods_reports_agreement_when_present(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from caseframe.api import Project
    from generate_project import generate_project

    path = generate_project(
        tmp_path / "p",
        transcripts=4,
        words=300,
        codes=15,
        codings=200,
        coders=2,
        regions=2,
        sites=2,
        seed=1,
    )
    p = Project.open(path)
    try:
        out = p.report("html", tmp_path / "r.html")
        methods = lxml_html.parse(str(out)).xpath("//section[@id='methods']/p/text()")[0]
        summary = p.agreement_summary(bootstrap=0)
        alpha = summary["krippendorff_alpha"]
        # which coders and which units the figures cover (issue 14), then the figures
        assert "Agreement was computed between 2 independent coders" in methods
        assert f"on the {summary['units']:,} meaning units" in methods
        assert f"Krippendorff's alpha = {alpha:.2f}" in methods
        assert "4 documents with 1,200 words" in methods
        assert "200 coded passages were made by 2 coders" in methods
    finally:
        p.close()


def test_report_links_to_the_site_profiles(example_copy, tmp_path):
    from html.parser import HTMLParser

    from caseframe.example_study import load_example_ratings

    load_example_ratings(example_copy)
    out = example_copy.report("html", tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")

    class Links(HTMLParser):
        hrefs: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.hrefs.append(dict(attrs).get("href"))

    parser = Links()
    parser.feed(html)
    assert "profiles.html" in parser.hrefs
    assert 'id="profiles"' in html and "illustrative" in html.lower()


def test_report_refuses_an_unknown_framework_or_attribute(example, tmp_path):
    with pytest.raises(NotFound, match=r"unknown framework 'sls'.*did you mean 'sis'"):
        example.report("md", tmp_path / "r.md", framework="sls")
    with pytest.raises(NotFound, match=r"unknown attribute 'settnig'.*did you mean 'setting'"):
        example.report("md", tmp_path / "r.md", by="settnig")
    assert list(tmp_path.iterdir()) == []
    # named rightly (in any case) the framework sections are there
    md = example.report("md", tmp_path / "r.md", framework="SIS").read_text(encoding="utf-8")
    assert "## Framework coverage" in md and "Table 2. " in md
