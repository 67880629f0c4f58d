"""Codebook and coded-segment spreadsheets (MAXQDA, NVivo, Taguette layouts), CSV and XLSX."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from caseframe.errors import InvalidInput
from caseframe.interop.spreadsheets import find_segment, read_codebook_sheet, read_codings_sheet
from caseframe.store import schema as t

TEXT = (
    "Intervjuare: Hur går det?\n"
    "A5: Det är bra 😀 men svårt att få tid\nför handledning.\n"
    "A5: Budgeten är osäker. Budgeten är osäker.\n"
)


def xlsx(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def dump(project) -> list:
    with project.store.read() as conn:
        return [
            sorted(map(repr, conn.execute(select(tb)).all())) for tb in t.metadata.sorted_tables
        ]


@pytest.fixture
def with_document(project, tmp_path):
    path = tmp_path / "A5.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert project.import_documents([path])[0].ok
    return project


def test_maxqda_codebook_with_separators(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "Code,Memo\nEkonomi,Pengar\nEkonomi > Budget,Årlig budget\nTid\\Handledning,\n",
        encoding="utf-8",
    )
    book, report = read_codebook_sheet(path, separator=None)
    # '\' is detected first; a '>' path then stays one name unless --separator says so
    names = sorted(c.name for c in book.walk_codes())
    assert names == ["Ekonomi", "Ekonomi > Budget", "Handledning", "Tid"]
    book, _ = read_codebook_sheet(path, separator=">")
    ekonomi = next(c for c in book.codes if c.name == "Ekonomi")
    assert [c.name for c in ekonomi.children] == ["Budget"] and ekonomi.description == "Pengar"
    assert report.is_empty


def test_taguette_and_nvivo_codebooks(project, tmp_path):
    taguette = tmp_path / "taguette.csv"
    taguette.write_text(
        "tag,description,number of highlights\ninteresting,,3\nCFIR.Process,Champions,1\n",
        encoding="utf-8",
    )
    book, report = read_codebook_sheet(taguette)
    assert [c.name for c in book.codes] == ["interesting", "CFIR.Process"]
    assert any("number of highlights" in line for line in report.lines())
    nvivo = xlsx(
        tmp_path / "nvivo.xlsx",
        [
            ["Name", "Description", "Files", "References"],
            ["Nodes\\Ekonomi", "Pengar", 2, 5],
            ["Nodes\\Ekonomi\\Budget", None, 1, 1],
        ],
    )
    result = project.import_codebook_sheet(nvivo, dry_run=True)
    assert result.plan.counts()["added"] == 2 and project.codes() == []
    project.import_codebook_sheet(nvivo)
    assert project.code("Budget").path == "Ekonomi/Budget"
    assert project.import_codebook_sheet(nvivo).plan.counts()["unchanged"] == 2


def test_find_segment_tolerates_rewrapped_whitespace():
    hits = find_segment(TEXT, "svårt att få tid för handledning.")
    assert len(hits) == 1
    start, end = hits[0]
    assert TEXT[start:end] == "svårt att få tid\nför handledning."
    assert len(find_segment(TEXT, "Budgeten är osäker.")) == 2
    assert find_segment(TEXT, "finns inte") == []


def test_maxqda_codings_xlsx(with_document, tmp_path):
    project = with_document
    path = xlsx(
        tmp_path / "segments.xlsx",
        [
            [
                "Color",
                "Document group",
                "Document name",
                "Code",
                "Beginning",
                "End",
                "Segment",
                "Created by",
                "Comment",
            ],
            [None, "", "A5", "Hinder\\Tid", 2, 3, "svårt att få tid för handledning.", "Åsa", "ok"],
            [None, "", "A5", "Hinder\\Ekonomi", 4, 4, "Budgeten är osäker.", "Åsa", None],
            [None, "", "A5", "Hinder\\Ekonomi", 4, 4, "Budgeten är osäker.", "Åsa", None],
            [None, "", "A5.txt", "Positivt", 2, 2, "bra 😀", "Björn", None],
        ],
    )
    rows, report = read_codings_sheet(path)
    assert [r.code_path for r in rows][0] == ("Hinder", "Tid")
    assert any("beginning" in line for line in report.lines())
    result = project.import_codings_sheet(path)
    assert result.added == {"coders": 2, "codes": 4, "codings": 4}
    frame = project.codings_frame().sort_values("start")
    assert list(frame.code_path) == ["Positivt", "Hinder/Tid", "Hinder/Ekonomi", "Hinder/Ekonomi"]
    budget = frame[frame.code == "Ekonomi"]
    assert list(budget.text) == ["Budgeten är osäker."] * 2 and budget.start.nunique() == 2
    assert frame.iloc[1].memo == "ok"


def test_unplaced_segment_stores_nothing(with_document, tmp_path):
    project = with_document
    path = tmp_path / "taguette.csv"
    path.write_text(
        "id,document,tag,content\n1,A5,Tid,bra 😀\n2,A5,Tid,finns inte\n3,B7,Tid,bra\n",
        encoding="utf-8",
    )
    before = dump(project)
    with pytest.raises(InvalidInput, match="segment not found.*and 1 more"):
        project.import_codings_sheet(path, coder="Åsa")
    assert dump(project) == before
    with pytest.raises(InvalidInput, match="coder"):
        project.import_codings_sheet(path)
    result = project.import_codings_sheet(path, coder="Åsa", skip_unplaced=True)
    assert result.added["codings"] == 1
    assert sum(e.count for e in result.report.of_kind("skipped") if "line" in e.what) == 2


def test_missing_columns_and_bad_files(project, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("document,code\nA5,Tid\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no segment text column"):
        project.import_codings_sheet(path, coder="Åsa")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(InvalidInput, match="xlsx"):
        project.import_codebook_sheet(broken)
    pdf = tmp_path / "codes.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(InvalidInput, match="spreadsheets"):
        read_codebook_sheet(pdf)
