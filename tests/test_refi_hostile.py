"""Hostile and broken REFI-QDA files: each refused with one clear line, nothing written."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from caseframe.errors import CaseframeError, InvalidInput, NotFound
from caseframe.interop.refi import (
    Limits,
    RefiCode,
    RefiCoding,
    RefiProject,
    RefiSelection,
    RefiSource,
    read_qdc,
    read_qdpx,
    write_qdpx,
)

SRC = "11111111-1111-4111-8111-111111111111"
CODE = "22222222-2222-4222-8222-222222222222"
SEL = "33333333-3333-4333-8333-333333333333"
CODING = "44444444-4444-4444-8444-444444444444"
TEXT = "Hej världen 😀\n"


def qde(
    *, start: int = 0, end: int = 3, code_ref: str = CODE, path: str = f"internal://{SRC}.txt"
) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="t">'
        f'<CodeBook><Codes><Code guid="{CODE}" name="c" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="{SRC}" name="s" plainTextPath="{path}">'
        f'<PlainTextSelection guid="{SEL}" startPosition="{start}" endPosition="{end}">'
        f'<Coding guid="{CODING}"><CodeRef targetGUID="{code_ref}"/></Coding>'
        "</PlainTextSelection></TextSource></Sources></Project>"
    )


def make_zip(path: Path, entries: dict[str, bytes | str], *, deflate: bool = True) -> Path:
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def valid_entries() -> dict[str, bytes | str]:
    return {"project.qde": qde(), f"sources/{SRC}.txt": TEXT.encode()}


def refused(path: Path, fragment: str, **kwargs) -> str:
    """Read `path`, expect one InvalidInput line containing `fragment`, and no new files."""
    before = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(InvalidInput) as info:
        read_qdpx(path, **kwargs)
    line = info.value.line()
    assert "\n" not in line and fragment in line, line
    assert sorted(p.name for p in path.parent.iterdir()) == before
    return line


def test_valid_minimal_project_reads(tmp_path: Path) -> None:
    project, report = read_qdpx(make_zip(tmp_path / "ok.qdpx", valid_entries()), strict=True)
    assert report.is_empty
    assert project.sources[0].text[0:3] == "Hej"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../evil.txt", "'..'"),
        ("sources/../../evil.txt", "'..'"),
        ("/etc/evil.txt", "absolute path"),
        ("C:/evil.txt", "absolute path"),
        ("..\\evil.txt", "'..'"),
    ],
)
def test_zip_slip_is_refused(tmp_path: Path, name: str, fragment: str) -> None:
    entries = valid_entries() | {name: b"x"}
    refused(make_zip(tmp_path / "slip.qdpx", entries), fragment)


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    entries = valid_entries() | {"sources/bomb.txt": b"\0" * (3 * 1024 * 1024)}
    refused(make_zip(tmp_path / "bomb.qdpx", entries), "zip bomb")


def test_total_size_and_entry_count_limits(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "big.qdpx", valid_entries())
    refused(path, "more than the limit", limits=Limits(max_total_bytes=200))
    refused(path, "entries, more than the limit", limits=Limits(max_entries=1))


XXE = (
    '<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>'
)


@pytest.mark.parametrize("document", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_doctype_and_entities_are_refused(tmp_path: Path, document: str) -> None:
    refused(make_zip(tmp_path / "x.qdpx", {"project.qde": document}), "DOCTYPE")
    qdc = tmp_path / "x.qdc"
    qdc.write_text(document.replace("Project", "CodeBook"))
    with pytest.raises(InvalidInput, match="DOCTYPE"):
        read_qdc(qdc)


def test_selection_outside_source(tmp_path: Path) -> None:
    entries = valid_entries() | {"project.qde": qde(start=2, end=len(TEXT) + 1)}
    line = refused(make_zip(tmp_path / "o.qdpx", entries), "lies outside source")
    assert f"{len(TEXT)} characters" in line
    entries = valid_entries() | {"project.qde": qde(start=5, end=4)}
    refused(make_zip(tmp_path / "r.qdpx", entries), "lies outside source")


def test_selection_may_end_at_the_last_code_point(tmp_path: Path) -> None:
    # TEXT has 14 code points but 18 bytes: an end of 14 is fine, 18 would be outside
    entries = valid_entries() | {"project.qde": qde(start=12, end=len(TEXT))}
    project, _ = read_qdpx(make_zip(tmp_path / "e.qdpx", entries))
    selection = project.sources[0].selections[0]
    assert project.sources[0].text[selection.start : selection.end] == "😀\n"


def test_coding_of_unknown_code(tmp_path: Path) -> None:
    unknown = "99999999-9999-4999-8999-999999999999"
    entries = valid_entries() | {"project.qde": qde(code_ref=unknown)}
    refused(make_zip(tmp_path / "c.qdpx", entries), "not in the codebook")


def test_missing_source_file(tmp_path: Path) -> None:
    refused(make_zip(tmp_path / "m.qdpx", {"project.qde": qde()}), "missing from the archive")


def test_truncated_archive(tmp_path: Path) -> None:
    whole = make_zip(tmp_path / "whole.qdpx", valid_entries()).read_bytes()
    cut = tmp_path / "cut.qdpx"
    cut.write_bytes(whole[: len(whole) // 2])
    refused(cut, "truncated or damaged")


def test_damaged_entry_data(tmp_path: Path) -> None:
    data = bytearray(make_zip(tmp_path / "d.qdpx", valid_entries()).read_bytes())
    offset = data.index(b"PK\x03\x04") + 30 + len("project.qde") + 5
    data[offset : offset + 8] = b"\xff" * 8  # corrupt the deflated project.qde
    damaged = tmp_path / "damaged.qdpx"
    damaged.write_bytes(bytes(data))
    refused(damaged, "")


def test_non_zip_renamed(tmp_path: Path) -> None:
    fake = tmp_path / "notes.qdpx"
    fake.write_text("just some text, renamed to .qdpx\n")
    refused(fake, "not a zip archive")


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_qdpx(tmp_path / "nope.qdpx")


def test_unparseable_xml(tmp_path: Path) -> None:
    entries = valid_entries() | {"project.qde": qde()[:-20]}
    refused(make_zip(tmp_path / "p.qdpx", entries), "cannot be parsed")


def test_schema_invalid_strict_refused_lenient_warned(tmp_path: Path) -> None:
    # an empty <Sets/> (Taguette's quirk) inside a project
    document = qde().replace("</Sources>", "</Sources><Sets/>")
    path = make_zip(tmp_path / "s.qdpx", valid_entries() | {"project.qde": document})
    refused(path, "does not conform to the REFI-QDA schema", strict=True)
    project, report = read_qdpx(path)
    assert project.counts()["codings"] == 1
    assert any("Sets" in line for line in report.lines())


def test_not_a_refi_document(tmp_path: Path) -> None:
    entries = valid_entries() | {"project.qde": "<html><body/></html>"}
    refused(make_zip(tmp_path / "h.qdpx", entries), "not <Project>")
    refused(make_zip(tmp_path / "n.qdpx", {"readme.txt": "x"}), "no project.qde")


def test_invalid_utf8_source(tmp_path: Path) -> None:
    entries = valid_entries() | {f"sources/{SRC}.txt": b"Hej \xe5 v\xe4rlden"}
    refused(make_zip(tmp_path / "u.qdpx", entries), "not valid UTF-8")


def test_duplicate_guid(tmp_path: Path) -> None:
    document = qde().replace(f'guid="{SEL}"', f'guid="{CODE.lower()}"')
    entries = valid_entries() | {"project.qde": document}
    refused(make_zip(tmp_path / "g.qdpx", entries), "used twice")


def test_external_source_is_skipped_not_read(tmp_path: Path) -> None:
    # an absolute:// path must never make the reader open a file on this machine
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    entries = {"project.qde": qde(path=f"absolute:///{secret}")}
    project, report = read_qdpx(make_zip(tmp_path / "ext.qdpx", entries))
    assert project.sources == []
    assert any("outside the archive" in line for line in report.lines())
    assert any("codings in skipped TextSources" in line for line in report.lines())


def test_docx_bomb_inside_archive_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as inner:
        inner.writestr("word/document.xml", b"\0" * (3 * 1024 * 1024))
    document = qde().replace(
        f'plainTextPath="internal://{SRC}.txt"',
        f'plainTextPath="internal://{SRC}.txt" richTextPath="internal://{SRC}.docx"',
    )
    entries = {
        "project.qde": document.replace('endPosition="3"', 'endPosition="0"'),
        f"sources/{SRC}.txt": b"\n",
        f"sources/{SRC}.docx": buffer.getvalue(),
    }
    refused(make_zip(tmp_path / "docx.qdpx", entries, deflate=False), "zip bomb")


def test_failed_export_writes_nothing(tmp_path: Path) -> None:
    bad = RefiProject(
        name="p",
        codes=[RefiCode(CODE, "c")],
        sources=[
            RefiSource(
                SRC,
                "s",
                "abc",
                selections=[
                    RefiSelection(SEL, 0, 2, codings=[RefiCoding(CODING, "9" * 8 + CODE[8:])])
                ],
            )
        ],
    )
    out = tmp_path / "out.qdpx"
    with pytest.raises(InvalidInput, match="not a code"):
        write_qdpx(bad, out)
    assert os.listdir(tmp_path) == []
    # an existing file is left as it was
    out.write_bytes(b"old")
    bad.sources[0].selections[0].codings[0].code_guid = CODE
    bad.sources[0].selections[0].end = 10
    with pytest.raises(InvalidInput, match="lies outside source"):
        write_qdpx(bad, out)
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.qdpx"]
    bad.sources[0].selections[0].end = 2
    bad.codes[0].color = "red"  # not #RRGGBB: caught by schema validation before writing
    with pytest.raises(InvalidInput, match="schema"):
        write_qdpx(bad, out)
    assert out.read_bytes() == b"old"
    bad.codes[0].color = None
    bad.name = "bell \x07"
    with pytest.raises(InvalidInput, match="control character"):
        write_qdpx(bad, out)
    assert out.read_bytes() == b"old"


def test_errors_are_caseframe_errors(tmp_path: Path) -> None:
    assert issubclass(InvalidInput, CaseframeError)
    qdc = tmp_path / "x.qdc"
    make_zip(qdc, valid_entries())
    with pytest.raises(InvalidInput, match="zip archive, not a codebook"):
        read_qdc(qdc)
