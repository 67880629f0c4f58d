"""What other tools really write: codebook namespace variants, NVivo's .docx beside 1-byte text,
ATLAS.ti-style note links, non-text sources, dangling references, cases and variables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx

from caseframe.ingest import read_document
from caseframe.interop.refi import PROJECT_TARGET, read_qdc, read_qdpx

NS = 'xmlns="urn:QDA-XML:project:1.0"'
U = "AD68FBE7-E1EE-4A82-A279-23CC698C89EB"


def g(n: int) -> str:
    return f"{n:08x}-aaaa-4bbb-8ccc-{n:012x}"  # lowercase, as NVivo writes them


def make_zip(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def docx_bytes(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_codebook_namespace_variant_1_colon_0(tmp_path: Path) -> None:
    path = tmp_path / "nvivo.qdc"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1:0" origin="NVivo 12 for Mac">'
        f'<Codes><Code guid="{g(1)}" name="Övrigt" isCodable="false">'
        "<Description>samlar allt annat</Description>"
        f'<Code guid="{g(2)}" name="Barn" isCodable="true" color="#00ff00"/></Code></Codes>'
        f'<Sets><Set guid="{g(3)}" name="s"><MemberCode guid="{g(2).upper()}"/></Set></Sets>'
        "</CodeBook>",
        encoding="utf-8",
    )
    book, report = read_qdc(path, strict=True)
    [top] = book.codes
    assert (top.name, top.is_codable, top.description) == ("Övrigt", False, "samlar allt annat")
    assert top.children[0].color == "#00ff00"
    assert book.sets[0].code_guids == [g(2)]  # resolved to the code's own spelling
    assert any("codebook:1:0" in line for line in report.lines())


def test_nvivo_docx_with_one_byte_plain_text(tmp_path: Path) -> None:
    source = g(10)
    document = (
        f'<Project {NS} name="n" origin="NVivo"><Users><User guid="{U}" name="chris"/></Users>'
        f'<CodeBook><Codes><Code guid="{g(1)}" name="c" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="{source}" name="{g(99)}" '
        f'plainTextPath="internal://{source}.txt" richTextPath="internal://{source}.docx">'
        f'<PlainTextSelection guid="{g(11)}" startPosition="7" endPosition="14" '
        f'creatingUser="{U.lower()}"><Coding guid="{g(12)}" creatingUser="{U}">'
        f'<CodeRef targetGUID="{g(1).upper()}"/></Coding></PlainTextSelection>'
        "</TextSource></Sources></Project>"
    )
    rich = docx_bytes("Första stycket", "Andra 😀")
    path = make_zip(
        tmp_path / "n.qdpx",
        {
            "project.qde": document,
            f"sources/{source}.txt": b"\n",
            f"sources/{source}.docx": rich,
            "sources/.root": b"",
        },
    )
    project, report = read_qdpx(path, strict=True)
    [src] = project.sources
    # the text `caseframe import` gives the same .docx: one reader for every .docx
    (tmp_path / "same.docx").write_bytes(rich)
    assert src.text == read_document(tmp_path / "same.docx").text == "Första stycket\n\nAndra 😀"
    [selection] = src.selections
    assert src.text[selection.start : selection.end] == "stycket"
    assert selection.creating_user == U  # the user's own spelling, matched case-insensitively
    assert selection.codings[0].code_guid == g(1)
    lines = report.lines()
    assert any(".docx" in line and "1 byte" in line for line in lines)
    assert not any(".root" in line for line in lines)  # an empty stray entry carries no data


def test_atlas_style_notes_links_and_non_text_sources(tmp_path: Path) -> None:
    code, note, sel, pic, pic_sel = g(1), g(2), g(3), g(4), g(5)
    document = (
        f'<Project {NS} name="a" basePath="/Users/x">'
        f'<CodeBook><Codes><Code guid="{code}" name="c" isCodable="true"/></Codes></CodeBook>'
        f"<Sources>"
        f'<TextSource guid="{g(6)}" name="t"><PlainTextContent>abc def</PlainTextContent>'
        f'<PlainTextSelection guid="{sel}" startPosition="4" endPosition="7"/>'
        f'<NoteRef targetGUID="{note}"/></TextSource>'
        f'<PictureSource guid="{pic}" path="internal://{pic}.jpg">'
        f'<PictureSelection guid="{pic_sel}" firstX="0" firstY="0" secondX="5" secondY="5">'
        f'<Coding guid="{g(7)}"><CodeRef targetGUID="{code}"/></Coding></PictureSelection>'
        f"</PictureSource></Sources>"
        f'<Notes><Note guid="{note}" name="memo"><PlainTextContent>om citatet</PlainTextContent>'
        f"</Note></Notes>"
        f'<Links><Link guid="{g(8)}" name="Memo-Quotation Relation" direction="OneWay" '
        f'originGUID="{note}" targetGUID="{sel}"/>'
        f'<Link guid="{g(9)}" originGUID="{note}" targetGUID="{pic_sel}"/></Links>'
        f'<Sets><Set guid="{g(20)}" name="bilder"><MemberSource targetGUID="{pic}"/>'
        f'<MemberSource targetGUID="{g(6)}"/></Set></Sets>'
        f'<Graphs><Graph guid="{g(21)}"/></Graphs>'
        "</Project>"
    )
    path = make_zip(
        tmp_path / "a.qdpx", {"project.qde": document, f"sources/{pic}.jpg": b"\xff\xd8jpeg"}
    )
    project, report = read_qdpx(path, strict=True)
    [memo] = project.notes
    assert memo.targets == sorted([g(6), sel], key=str.upper)
    assert project.links == []  # the note link became a note target
    assert project.sets[0].source_guids == [g(6)]
    text = "\n".join(report.lines())
    for expected in (
        "skipped: PictureSources (1)",
        "selections in skipped PictureSources (1)",
        "codings in skipped PictureSources (1)",
        "graphs (1)",
        "names and colours of links from notes (1)",
        "set members (MemberSource) (1)",
        "note attachments (Link) (1)",
        "basePath",
    ):
        assert expected in text, (expected, text)


def test_cases_variables_and_project_notes(tmp_path: Path) -> None:
    var_age, var_region, case, source = g(1), g(2), g(3), g(4)
    document = (
        f'<Project {NS} name="c">'
        f'<Variables><Variable guid="{var_age}" name="ålder" typeOfVariable="Integer"/>'
        f'<Variable guid="{var_region}" name="region" typeOfVariable="Text"/></Variables>'
        f'<Cases><Case guid="{case}" name="A5">'
        f'<VariableValue><VariableRef targetGUID="{var_age}"/><IntegerValue>54</IntegerValue>'
        f"</VariableValue>"
        f'<VariableValue><VariableRef targetGUID="{var_region}"/><TextValue>Skåne</TextValue>'
        f"</VariableValue>"
        f'<SourceRef targetGUID="{source}"/><SourceRef targetGUID="{g(77)}"/></Case></Cases>'
        f'<Sources><TextSource guid="{source}" name="s" plainTextPath="relative-name.txt"/>'
        "</Sources>"
        f'<Notes><Note guid="{g(5)}"><PlainTextContent>övergripande</PlainTextContent></Note>'
        "</Notes>"
        f'<NoteRef targetGUID="{g(5)}"/>'
        "</Project>"
    )
    path = make_zip(
        tmp_path / "c.qdpx",
        {"project.qde": document, "sources/relative-name.txt": "rad\r\nrad två\r\n".encode()},
    )
    project, report = read_qdpx(path, strict=True)
    [c] = project.cases
    assert c.variables == {"ålder": ("Integer", 54), "region": ("Text", "Skåne")}
    assert c.source_guids == [source]
    assert project.sources[0].text == "rad\r\nrad två\r\n"  # CRLF kept as stored
    assert project.notes[0].targets == [PROJECT_TARGET]
    assert any("set members" in line or "case members" in line for line in report.lines())


def test_note_without_text_is_accepted(tmp_path: Path) -> None:
    document = (
        f'<Project {NS} name="n"><Notes><Note guid="{g(1)}" name="tom">'
        "<Description>bara en beskrivning</Description></Note></Notes></Project>"
    )
    project, report = read_qdpx(make_zip(tmp_path / "n.qdpx", {"project.qde": document}))
    assert (project.notes[0].text, project.notes[0].description) == ("", "bara en beskrivning")
    assert report.is_empty
