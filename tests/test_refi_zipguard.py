"""One zip guard (caseframe.util.zipguard) for every archive caseframe reads: .qdpx, .docx, .odt
and .xlsx refuse the same hostile archives with one line; spreadsheets read our own neutralised
cells back unchanged; REFI imports are audited in their own transaction."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from caseframe.api import Project
from caseframe.errors import InvalidInput
from caseframe.ingest import read_document
from caseframe.interop.refi import read_qdpx
from caseframe.interop.spreadsheets import read_codebook_sheet, read_table
from caseframe.interop.tables import write_csv, write_xlsx

HOSTILE = {
    "zip slip": ({"../escape.txt": b"x"}, "climbs out of the archive"),
    "absolute path": ({"/etc/cron.d/x": b"x"}, "absolute path"),
    "zip bomb": ({"bomb.bin": b"\0" * (3 * 1024 * 1024)}, "zip bomb"),
}


def archive(path: Path, entries: dict[str, bytes], base: dict[str, bytes] | None = None) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in {**(base or {}), **entries}.items():
            out.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())
    return path


def workbook_bytes() -> dict[str, bytes]:
    book = Workbook()
    book.active.append(["code", "description"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source:
        return {name: source.read(name) for name in source.namelist()}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("suffix", [".qdpx", ".docx", ".odt", ".xlsx"])
def test_every_archive_format_refuses_the_same_hostile_entries(tmp_path, case, suffix):
    entries, message = HOSTILE[case]
    base = {
        ".qdpx": {"project.qde": b"<Project/>"},
        ".docx": {"word/document.xml": b"<w/>"},
        ".odt": {"content.xml": b"<office/>"},
        ".xlsx": workbook_bytes(),
    }[suffix]
    path = archive(tmp_path / f"hostile{suffix}", entries, base)
    with pytest.raises(InvalidInput) as refused:
        if suffix == ".qdpx":
            read_qdpx(path)
        elif suffix == ".xlsx":
            read_table(path)
        else:
            read_document(path)
    line = refused.value.line()
    assert message in line and "\n" not in line and path.name in line


def test_a_text_file_named_xlsx_is_refused_in_one_line(tmp_path):
    path = tmp_path / "codes.xlsx"
    path.write_text("code\nA\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a zip archive") as refused:
        read_codebook_sheet(path)
    assert refused.value.__cause__ is None


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_our_neutralised_cells_come_back_unchanged(tmp_path, suffix):
    frame = pd.DataFrame(
        {
            "code": ["=Budget", "+Time", "Plain"],
            "description": ["=SUM(A1:A2)", "@mention", "-minus first"],
        }
    )
    path = tmp_path / f"codes{suffix}"
    if suffix == ".csv":
        write_csv(frame, path)
    else:
        write_xlsx({"codes": frame}, path)
    book, _ = read_codebook_sheet(path, separator="/")
    assert [(c.name, c.description) for c in book.codes] == list(
        zip(frame["code"], frame["description"], strict=True)
    )


def test_refi_imports_are_audited_in_their_transaction(project, example, tmp_path):
    out, _ = example.export_qdpx(tmp_path / "study.qdpx")
    before = len(project.audit_entries())
    project.import_qdpx(out, dry_run=True, actor="dry")
    assert len(project.audit_entries()) == before  # a dry run rolls its entry back too
    result = project.import_qdpx(out, actor="kg")
    [entry] = project.audit_entries(actor="kg")
    assert (entry.action, entry.entity_type, entry.entity_id) == ("import", "qdpx", "study.qdpx")
    assert entry.after["added"] == result.added
    with pytest.raises(InvalidInput):  # refused: nothing stored, no entry
        project.import_qdpx(archive(tmp_path / "bad.qdpx", {"../x": b"x"}), actor="kg")
    assert len(project.audit_entries(actor="kg")) == 1
    copy, _ = Project.from_qdpx(out, tmp_path / "copy", actor="lead")
    with copy:
        [created] = copy.audit_entries(actor="lead")
        assert created.action == "import" and created.after["added"]["codings"] == 93
    book = tmp_path / "codes.qdc"
    example.export_qdc(book)
    project.import_qdc(book, actor="ed")
    assert project.audit_entries(actor="ed")[0].action == "merge codebook"
