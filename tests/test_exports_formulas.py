"""`export codings`: a memo or transcript text that starts like a spreadsheet formula is written
as text in CSV and XLSX, and `codings import` reads the exported file back unchanged."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from caseframe.api import Project

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A2)"]
TEXT = "=cmd|' /C calc'!A0\nI: What about money?\nR: +46 70 123 45 67 is my number.\n"


@pytest.fixture
def two_projects(tmp_path):
    """Two projects with the same transcript and code tree: one to export from, one to import."""
    (tmp_path / "r1.txt").write_text(TEXT, encoding="utf-8")
    projects = []
    for name in ("a", "b"):
        p = Project.init(tmp_path / name)
        assert p.import_documents([tmp_path / "r1.txt"])[0].ok
        p.add_code("Money")
        p.add_code("Funding", parent="Money")
        projects.append(p)
    yield projects
    for p in projects:
        p.close()


def coded(project: Project) -> None:
    r_start = TEXT.index("R: +46")
    project.add_coding("r1.txt", 0, 18, "Funding", "KG", memo=FORMULAS[0])
    phone = (r_start + 3, r_start + 19)
    project.add_coding("r1.txt", *phone, "Funding", "KG", "barrier", 2, memo=FORMULAS[1])
    project.add_coding("r1.txt", 19, 39, "Money", "AL", memo=FORMULAS[2])
    project.add_coding("r1.txt", 19, 39, "Funding", "AL", "facilitator", memo=FORMULAS[3])


def test_csv_cells_are_text_and_read_back(two_projects, tmp_path):
    source, target = two_projects
    coded(source)
    out = source.export_codings("csv", tmp_path / "codings.csv")
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["memo"] for r in rows] == ["'" + m for m in source.codings_frame()["memo"]]
    first = rows[0]
    assert first["text"] == "'=cmd|' /C calc'!A0" and first["strength"] == ""
    phone = next(r for r in rows if r["valence"] == "barrier")
    assert phone["text"] == "'+46 70 123 45 67" and phone["strength"] == "2"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value

    assert target.import_codings(out) == (4, [])
    mine = target.codings_frame().set_index(["start", "end", "code_path", "coder"])
    theirs = source.codings_frame().set_index(["start", "end", "code_path", "coder"])
    columns = ["memo", "valence", "strength", "text"]
    assert mine[columns].sort_index().equals(theirs[columns].sort_index())
    assert sorted(mine["memo"]) == sorted(FORMULAS)


def test_xlsx_cells_are_strings_not_formulas(two_projects, tmp_path):
    source, _target = two_projects
    coded(source)
    out = source.export_codings("xlsx", tmp_path / "codings.xlsx")
    sheet = openpyxl.load_workbook(out)["codings"]
    header = [c.value for c in sheet[1]]
    memo, text = header.index("memo"), header.index("text")
    cells = [row[memo] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * 4
    assert sorted(c.value for c in cells) == sorted("'" + f for f in FORMULAS)
    first_text = [row[text] for row in sheet.iter_rows(min_row=2)][0]
    assert first_text.data_type == "s" and first_text.value == "'=cmd|' /C calc'!A0"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
