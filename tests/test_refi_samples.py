"""Reading real REFI-QDA exports (NVivo for Mac, qc 1.3.2, qc 1.7.8, Taguette).

Expected counts are derived independently by counting elements with the standard library's
ElementTree (the samples are trusted data), and cross-checked with the figures in PROVENANCE.md.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from caseframe.errors import InvalidInput
from caseframe.interop.refi import guid_key, read_qdc, read_qdpx

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFI = SHARED / "refi"
NS = "{urn:QDA-XML:project:1.0}"


@pytest.fixture(scope="module")
def samples() -> Path:
    folder = REFI / "samples"
    if not (folder / "qc-1.3.2_demo.qdpx").is_file():
        pytest.fail(f"REFI-QDA samples missing: expected them in {folder} (see PROVENANCE.md)")
    return folder


def element_counts(qdpx: Path) -> dict[str, int]:
    with zipfile.ZipFile(qdpx) as archive:
        root = ET.fromstring(archive.read("project.qde"))
    return {
        "users": len(root.findall(f"{NS}Users/{NS}User")),
        "codes": len(root.findall(f"{NS}CodeBook//{NS}Code")),
        "sources": len(root.findall(f"{NS}Sources/{NS}TextSource")),
        "selections": len(root.findall(f".//{NS}PlainTextSelection")),
        "codings": len(root.findall(f".//{NS}Coding")),
    }


def test_qc_132_demo_counts_and_line_selections(samples: Path) -> None:
    path = samples / "qc-1.3.2_demo.qdpx"
    project, report = read_qdpx(path, strict=True)
    expected = element_counts(path)
    counts = project.counts()
    assert {k: counts[k] for k in expected} == expected
    assert (counts["codes"], counts["sources"], counts["selections"], counts["codings"]) == (
        262,
        2,
        158,
        205,
    )
    # qc writes no TextSource name: the file name stands in, and the report says so
    assert sorted(s.name for s in project.sources) == ["admin-1.txt", "board_2017.txt"]
    assert any("without a name" in line for line in report.lines())
    # qc's selections are whole lines "line:N" (0-based), end = start of the next line
    board = next(s for s in project.sources if s.name == "board_2017.txt")
    lines = board.text.splitlines(keepends=True)
    for selection in board.selections:
        number = int(selection.name.removeprefix("line:"))
        assert board.text[selection.start : selection.end] == lines[number]
    # every coding points at a code of the codebook
    code_guids = {c.guid for c in project.walk_codes()}
    assert all(c.code_guid in code_guids for c in project.codings())


def test_qc_178_generated_export(samples: Path) -> None:
    path = samples / "generated" / "qc-1.7.8_export.qdpx"
    project, report = read_qdpx(path, strict=True)
    expected = element_counts(path)
    assert {k: project.counts()[k] for k in expected} == expected
    assert report.is_empty
    site_a = next(s for s in project.sources if s.name == "site_a_manager.txt")
    assert [site_a.text[s.start : s.end] for s in site_a.selections] == [
        line for line in site_a.text.splitlines(keepends=True)[1:]
    ]


def test_nvivo_mac_export(samples: Path) -> None:
    path = samples / "nvivo-mac-15.0.0_qc-sample.qdpx"
    project, report = read_qdpx(path, strict=True)
    expected = element_counts(path)
    counts = project.counts()
    assert {k: counts[k] for k in expected} == expected
    assert (counts["users"], counts["codes"], counts["sources"], counts["codings"]) == (
        2,
        262,
        2,
        0,
    )
    depth = max(_depth(c) for c in project.codes)
    assert depth >= 3  # nested codes (Code inside Code)
    # lowercase GUIDs are kept as written, and compare equal to their uppercase form
    assert all(c.guid == c.guid.lower() for c in project.walk_codes())
    qc_project, _ = read_qdpx(samples / "qc-1.3.2_demo.qdpx")
    qc_keys = {guid_key(c.guid) for c in qc_project.walk_codes()}
    assert {guid_key(c.guid) for c in project.walk_codes()} == qc_keys
    # 1-byte plain text beside a .docx: text comes from the .docx, and the report says so
    lines = report.lines()
    assert any("1 byte" in line and ".docx" in line for line in lines)
    assert any("rich-text" in line for line in lines)
    assert all(s.rich_text_path and s.rich_text_path.endswith(".docx") for s in project.sources)
    assert [s.text for s in project.sources] == ["", ""]  # NVivo's .docx files are empty too
    # attributes that are not kept are listed, never dropped silently
    assert any("modifiedDateTime" in line for line in lines)


def _depth(code) -> int:
    return 1 + max((_depth(c) for c in code.children), default=0)


def test_taguette_codebook_lenient_and_strict(samples: Path) -> None:
    path = samples / "generated" / "taguette-1.5.2_codebook.qdc"
    root = ET.parse(path).getroot()
    expected = len(root.findall(".//{urn:QDA-XML:codebook:1.0}Code"))
    book, report = read_qdc(path)
    assert len(list(book.walk_codes())) == expected == 4
    assert book.origin == "Taguette 1.5.2"
    assert any("Sets" in e.what for e in report.of_kind("warning"))
    with pytest.raises(InvalidInput) as refused:
        read_qdc(path, strict=True)
    assert "\n" not in refused.value.line()
    assert "Sets" in refused.value.line()


def test_real_samples_survive_our_round_trip(samples: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from caseframe.interop.refi import write_qdpx

    qc, _ = read_qdpx(samples / "qc-1.3.2_demo.qdpx")
    write_qdpx(qc, tmp_path / "qc.qdpx")
    again, report = read_qdpx(tmp_path / "qc.qdpx", strict=True)
    assert report.is_empty and again == qc

    # NVivo: lowercase GUIDs come back uppercase (the writer's form), everything else equal;
    # the .docx is not carried (the export report says so)
    nvivo, _ = read_qdpx(samples / "nvivo-mac-15.0.0_qc-sample.qdpx")
    nvivo.extensions = {"codes": {nvivo.codes[0].guid: {"kind": "theme"}}}
    export_report = write_qdpx(nvivo, tmp_path / "nvivo.qdpx")
    assert any("rich-text" in line for line in export_report.lines())
    back, _ = read_qdpx(tmp_path / "nvivo.qdpx", strict=True)
    assert [guid_key(c.guid) for c in nvivo.walk_codes()] == [c.guid for c in back.walk_codes()]
    assert back.extensions == {"codes": {guid_key(nvivo.codes[0].guid): {"kind": "theme"}}}
    assert [replace(s, guid=guid_key(s.guid), rich_text_path=None) for s in nvivo.sources] == [
        replace(s, creating_user=s.creating_user.lower() if s.creating_user else None)
        for s in back.sources
    ]
