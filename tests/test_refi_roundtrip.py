"""Export -> validate -> import -> export on a generated project with hard Unicode text."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import xmlschema

from caseframe.interop.refi import (
    PROJECT_TARGET,
    RefiCase,
    RefiCode,
    RefiCodebook,
    RefiCoding,
    RefiLink,
    RefiNote,
    RefiProject,
    RefiSelection,
    RefiSet,
    RefiSource,
    RefiUser,
    RefiVariable,
    read_qdc,
    read_qdpx,
    sort_targets,
    write_qdc,
    write_qdpx,
)

REFI = Path(__file__).resolve().parents[1].parent / "shared" / "refi"

# Swedish letters, an emoji outside the BMP, a ZWJ emoji sequence, combining accents, CRLF.
TEXT_A = (
    "Intervjuare: Hur går arbetet med kamratstödjarna?\r\n"
    "A5: Det är bra 😀 men svårt att få tid för handledning.\r\n"
    'A5: Chefen sa "café" och cafe\u0301 – naïve.\r\n'
)
TEXT_B = (
    "B11: Sjuksköterskan 👩\u200d⚕️ höll i det.\nB11: Ekonomin är osäker; ångest över budgeten.\n"
)


def guid(n: int) -> str:
    return f"{n:08X}-0000-4000-8000-{n:012X}"


def span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


@pytest.fixture(scope="module")
def schemas() -> tuple[xmlschema.XMLSchema, xmlschema.XMLSchema]:
    if not (REFI / "Project-mrt2019.xsd").is_file():
        pytest.fail(f"REFI-QDA schemas missing: expected them in {REFI} (see PROVENANCE.md)")
    return (
        xmlschema.XMLSchema(str(REFI / "Project-mrt2019.xsd")),
        xmlschema.XMLSchema(str(REFI / "Codebook.xsd")),
    )


def generated_project() -> RefiProject:
    u1, u2 = guid(1), guid(2)
    codes = [
        RefiCode(
            guid(10),
            "Organisation",
            is_codable=False,
            description="Tema: organisation\r\nmed flera rader",
            color="#1F77B4",
            children=[
                RefiCode(guid(11), "Handledning", description="Stöd från chef", color="#ABC"),
                RefiCode(guid(12), "Ekonomi 💰", children=[RefiCode(guid(13), "Budgetår")]),
            ],
        ),
        RefiCode(guid(14), "Kombinerande tecken e\u0301"),
    ]
    s_emoji = span(TEXT_A, "men svårt")
    s_crlf = span(TEXT_A, "A5: Chefen")
    s_comb = span(TEXT_A, "cafe\u0301")
    s_zwj = span(TEXT_B, "👩\u200d⚕️ höll")
    source_a = RefiSource(
        guid(20),
        "A5 intervju.txt",
        TEXT_A,
        description="Chef, region A",
        creating_user=u1,
        created="2024-05-01T09:00:00Z",
        selections=[
            RefiSelection(
                guid(21),
                *s_emoji,
                name="efter emoji",
                creating_user=u1,
                created="2024-05-01T10:00:00Z",
                codings=[
                    RefiCoding(guid(31), guid(11), u1, "2024-05-01T10:00:01Z"),
                    RefiCoding(guid(32), guid(11), u2),
                ],
            ),
            RefiSelection(guid(22), *s_crlf, codings=[RefiCoding(guid(33), guid(13), u2)]),
            RefiSelection(guid(23), *s_comb, description="kombinerande accent"),
        ],
        codings=[RefiCoding(guid(34), guid(14), u1)],
        variables={"Region": ("Text", "A"), "Sidor": ("Integer", 3)},
    )
    source_b = RefiSource(
        guid(25),
        "B11.txt",
        TEXT_B,
        selections=[RefiSelection(guid(26), *s_zwj, codings=[RefiCoding(guid(35), guid(12), u1)])],
    )
    variables = [
        RefiVariable(guid(40), "Region", "Text", description="Region (A, B, C)"),
        RefiVariable(guid(41), "Sidor", "Integer"),
        RefiVariable(guid(42), "Privat", "Boolean"),
        RefiVariable(guid(43), "Andel", "Float"),
        RefiVariable(guid(44), "Start", "Date"),
        RefiVariable(guid(45), "Intervjuad", "DateTime"),
        RefiVariable(guid(46), "Saknas", "Text"),
    ]
    cases = [
        RefiCase(
            guid(50),
            "A5",
            description="Chef på öppenvårdsmottagning",
            variables={
                "Region": ("Text", "Västra Götaland"),
                "Privat": ("Boolean", False),
                "Andel": ("Float", 0.0000125),
                "Start": ("Date", date(2019, 3, 1)),
                "Intervjuad": ("DateTime", datetime(2020, 2, 3, 14, 30, tzinfo=UTC)),
                "Saknas": ("Text", None),
            },
            source_guids=[guid(20)],
            selection_guids=[guid(21), guid(22)],
            code_guids=[guid(11)],
        ),
        RefiCase(guid(51), "B11", variables={"Sidor": ("Integer", -4)}, source_guids=[guid(25)]),
    ]
    notes = [
        RefiNote(guid(60), "Projektmemo", "Rad ett\r\nRad två 😀", targets=[PROJECT_TARGET]),
        RefiNote(
            guid(61),
            "Kodmemo",
            "Om handledning",
            description="definition",
            creating_user=u2,
            created="2024-05-02T08:00:00Z",
            targets=sort_targets([guid(11), guid(21), guid(31), guid(20), guid(50), guid(70)]),
        ),
        RefiNote(guid(62), None, "Memo om memo", targets=[guid(61)]),
    ]
    return RefiProject(
        name="Kamratstöd – Grim et al.",
        origin="caseframe test",
        description="Genererat projekt för rundresa",
        users=[RefiUser(u1, "Åsa Öberg", "AÖ"), RefiUser(u2, "Jörgen")],
        codes=codes,
        variables=variables,
        cases=cases,
        sources=[source_a, source_b],
        notes=notes,
        links=[RefiLink(guid(80), guid(11), guid(13), "påverkar", "OneWay", "#FF0000")],
        sets=[
            RefiSet(
                guid(70),
                "Facilitatorer",
                "koder och källor",
                code_guids=[guid(11), guid(12)],
                source_guids=[guid(20)],
                note_guids=[guid(61)],
            ),
            RefiSet(guid(71), "Bara koder", code_guids=[guid(13)]),
        ],
        extensions={
            "codings": {guid(31): {"valence": "barrier", "strength": -2}},
            "codes": {guid(11): {"framework_component": "sis:O10", "kind": "category"}},
            "meaning_units": [{"source": guid(20), "start": 0, "end": 51, "scheme": "turn"}],
            "assessments": [{"case": guid(50), "component": "sis:O10", "rating": 2}],
        },
    )


def test_round_trip_is_lossless_and_schema_valid(tmp_path: Path, schemas) -> None:
    project_schema, _ = schemas
    original = generated_project()
    first = tmp_path / "first.qdpx"
    export_report = write_qdpx(original, first)
    assert export_report.is_empty
    with zipfile.ZipFile(first) as archive:
        project_schema.validate(archive.read("project.qde").decode("utf-8"))
        names = sorted(archive.namelist())
        sidecar = json.loads(archive.read("caseframe/extensions.json"))
    assert names == sorted(
        [
            "project.qde",
            "caseframe/extensions.json",
            f"sources/{guid(20)}.txt",
            f"sources/{guid(25)}.txt",
        ]
    )
    assert sidecar["format"] == "caseframe-refi-extensions"

    imported, report = read_qdpx(first, strict=True)
    assert report.is_empty, report.lines()
    assert imported == original

    second = tmp_path / "second.qdpx"
    write_qdpx(imported, second)
    assert second.read_bytes() == first.read_bytes()  # deterministic, same project


def test_offsets_are_code_points_and_crlf_is_kept(tmp_path: Path) -> None:
    original = generated_project()
    path = tmp_path / "p.qdpx"
    write_qdpx(original, path)
    with zipfile.ZipFile(path) as archive:
        raw = archive.read(f"sources/{guid(20)}.txt")
    assert raw.startswith(b"Intervjuare") and b"\r\n" in raw  # UTF-8, no BOM, CRLF
    text = raw.decode("utf-8")
    imported, _ = read_qdpx(path)
    after_emoji = imported.sources[0].selections[0]
    assert text[after_emoji.start : after_emoji.end] == "men svårt"
    # the same position counted in UTF-16 units and in bytes is different
    utf16 = len(text[: after_emoji.start].encode("utf-16-le")) // 2
    utf8 = len(text[: after_emoji.start].encode("utf-8"))
    assert after_emoji.start < utf16 < utf8
    # the combining accent is two code points and stays so (no silent normalisation)
    combining = imported.sources[0].selections[2]
    assert text[combining.start : combining.end] == "cafe\u0301"
    assert combining.end - combining.start == 5


def test_codebook_round_trip(tmp_path: Path, schemas) -> None:
    _, codebook_schema = schemas
    book = generated_project().codebook()
    assert [s.name for s in book.sets] == ["Bara koder"]  # only code-only sets
    path = tmp_path / "codes.qdc"
    write_qdc(book, path)
    codebook_schema.validate(str(path))
    again, report = read_qdc(path, strict=True)
    assert report.is_empty
    assert again == RefiCodebook(origin=book.origin, codes=book.codes, sets=book.sets)


def test_export_reports_what_it_cannot_carry(tmp_path: Path) -> None:
    project = generated_project()
    project.sources[1].rich_text_path = "internal://X.docx"
    project.cases[1].variables["Ny"] = ("Text", "odefinierad")
    report = write_qdpx(project, tmp_path / "p.qdpx")
    lines = report.lines()
    assert any("rich-text" in line for line in lines)
    assert any("without a definition" in line for line in lines)
    imported, _ = read_qdpx(tmp_path / "p.qdpx", strict=True)
    assert imported.cases[1].variables["Ny"] == ("Text", "odefinierad")
