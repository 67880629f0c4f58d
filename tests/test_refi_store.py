"""REFI-QDA ↔ store: round trips, real samples, merging, and refused files that leave the store
untouched."""

from __future__ import annotations

import filecmp
import zipfile
from pathlib import Path

import pytest
import xmlschema
from sqlalchemy import select

from caseframe.api import Project
from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.interop.refi import (
    RefiCode,
    RefiCoding,
    RefiProject,
    RefiSelection,
    RefiSource,
    RefiUser,
    read_qdpx,
    write_qdc,
    write_qdpx,
)
from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.store.queries import codings as codings_q

REFI = Path(__file__).resolve().parents[1].parent / "shared" / "refi"
SAMPLES = REFI / "samples"

# Swedish letters, an emoji outside the BMP, a ZWJ sequence, a combining accent (NFD), CRLF.
TEXT_A = (
    "Intervjuare: Hur går arbetet med kamratstödjarna?\r\n"
    "A5: Det är bra 😀 men svårt att få tid för handledning.\r\n"
    "A5: Chefen sa cafe\u0301 – naïve – och ångest över budgeten.\r\n"
)
TEXT_B = "B11: Sjuksköterskan 👩\u200d⚕️ höll i det.\nB11: Ekonomin är osäker.\n"


@pytest.fixture(scope="module")
def refi_dir() -> Path:
    if not (REFI / "Project-mrt2019.xsd").is_file() or not SAMPLES.is_dir():
        pytest.fail(f"REFI-QDA schemas and samples missing: expected them in {REFI}")
    return REFI


def fingerprint(project: Project) -> dict[str, list]:
    """Every row of every table: equal fingerprints mean an unchanged store."""
    with project.store.read() as conn:
        return {
            name: sorted(map(repr, conn.execute(select(table)).all()))
            for name, table in t.metadata.tables.items()
        }


def qde_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("project.qde")


def unicode_project(root: Path) -> Project:
    """A small project that uses every part of the mapping, with hard Unicode text."""
    p = Project.init(root / "uni", name="Unicode – å ä ö 😀")
    p.add_case("R1", label="Region Ö", kind="region", attributes={"setting": "kommunal"})
    p.add_case(
        "S1",
        kind="site",
        parent="R1",
        attributes={"staff": 12, "budget": 3.5, "opened": "2019-05-01", "peer_led": "true"},
    )
    p.add_case("A5", label="Respondent A5", kind="respondent", parent="S1")
    p.add_case("B11", kind="respondent", parent="S1")
    files = root / "files"
    files.mkdir()
    (files / "A5.txt").write_bytes(TEXT_A.encode("utf-8"))
    (files / "B11 ö.txt").write_bytes(TEXT_B.encode("utf-8"))
    p.import_documents([files / "A5.txt"], case="A5")
    p.import_documents([files / "B11 ö.txt"], case="B11", scheme="paragraph")
    p.add_framework_codes("sis")
    p.add_code("Ekonomi", kind="main_category", color="#FF000080", description="Pengar – ja")
    p.add_code("Budget 😀", parent="Ekonomi", kind="category", maps_to=["sis:O10"])
    a = p.document("A5.txt")
    span = a.text.index("bra 😀 men"), a.text.index("bra 😀 men") + len("bra 😀 men")
    c1 = p.add_coding("A5.txt", *span, "Budget 😀", "Åsa", "barrier", 2, "memo ✓")
    p.add_coding("A5.txt", *span, "Ekonomi", "Åsa", "facilitator")
    c3 = p.add_coding("A5.txt", *span, "Budget 😀", "Björn", "mixed")
    cafe = a.text.index("café")
    p.add_coding("A5.txt", cafe, cafe + 4, "Ekonomi", "Björn")
    b = p.document("B11 ö.txt")
    nurse = b.text.index("👩")
    p.add_coding("B11 ö.txt", nurse, nurse + 4, "Ekonomi", "Åsa")
    with p.store.transaction() as conn:
        codings_q.add(
            conn,
            "B11 ö.txt",
            0,
            4,
            "Ekonomi",
            "tfidf",
            score=0.75,
            status="suggested",
            coder_kind="machine",
        )
        case_id = conn.scalar(select(t.cases.c.id).where(t.cases.c.key == "S1"))
        comp = conn.scalar(
            select(t.framework_components.c.id).where(t.framework_components.c.key == "O10")
        )
        coder = conn.scalar(select(t.coders.c.id).where(t.coders.c.name == "Åsa"))
        stamp = now()
        aid = conn.execute(
            t.assessments.insert().values(
                case_id=case_id,
                component_id=comp,
                rater_id=coder,
                assessed_on=stamp.date(),
                rating=3,
                note="osäker",
                status="rating",
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key[0]
        conn.execute(t.assessment_evidence.insert().values(assessment_id=aid, coding_id=c1.id))
        sid = conn.execute(
            t.sets.insert().values(
                name="Nyckel", description="", guid="ABCDEF00-0000-4000-8000-000000000001"
            )
        ).inserted_primary_key[0]
        conn.execute(
            t.set_members.insert().values(set_id=sid, member_type="document", member_id=a.id)
        )
        conn.execute(
            t.coder_documents.insert().values(coder_id=coder, document_id=a.id, status="done")
        )
        conn.execute(t.settings.insert().values(key="scale_anchors:sis", value={"1": "låg"}))
    p.add_memo("project", None, "Projektets memo", author="Åsa", title="Om")
    p.add_memo("document", "A5.txt", "Dokument\r\nmemo", author="extern person")
    p.add_memo("case", "S1", "Fallmemo 😀")
    p.add_memo("code", "Ekonomi", "Kodmemo")
    p.add_memo("coding", c3.id, "Kodningsmemo")
    return p


def test_example_round_trip_is_identical(example, tmp_path, refi_dir):
    first, report = example.export_qdpx(tmp_path / "a.qdpx")
    assert report.is_empty
    schema = xmlschema.XMLSchema(str(refi_dir / "Project-mrt2019.xsd"))
    schema.validate(qde_of(first).decode("utf-8"))
    copy, result = Project.from_qdpx(first, tmp_path / "copy")
    try:
        assert result.report.is_empty, result.report.lines()
        assert copy.refi_project() == example.refi_project()
        columns = ["document", "start", "end", "text", "code_path", "coder", "valence", "memo"]
        before = example.codings_frame()[columns]
        after = copy.codings_frame()[columns]
        assert len(before) == 84 + 9 and before.equals(after)

        def cases(p):
            return p.cases_frame().sort_values("key").reset_index(drop=True)

        assert cases(copy).equals(cases(example))
        memo_columns = ["target_type", "title", "text", "author"]
        assert copy.memos_frame()[memo_columns].equals(example.memos_frame()[memo_columns])
        second, _ = copy.export_qdpx(tmp_path / "b.qdpx")
        assert filecmp.cmp(first, second, shallow=False)
    finally:
        copy.close()


def test_unicode_round_trip_keeps_everything(tmp_path, refi_dir):
    p = unicode_project(tmp_path)
    try:
        out, _ = p.export_qdpx(tmp_path / "u.qdpx")
        refi, report = read_qdpx(out, strict=True)
        assert report.is_empty
        # codings of two coders on one range are two selections; one coder's two codes share one
        counts = refi.counts()
        assert counts["codings"] == 6 and counts["selections"] == 5
        # offsets are code points: slice the archived UTF-8 file, not bytes or UTF-16 units
        src = next(s for s in refi.sources if s.name == "A5.txt")
        with zipfile.ZipFile(out) as archive:
            stored = archive.read(f"sources/{src.guid}.txt").decode("utf-8")
        sel = next(s for s in src.selections if len(s.codings) == 2)
        assert stored[sel.start : sel.end] == "bra 😀 men"
        prefix = stored[: sel.end]
        assert len(prefix) < len(prefix.encode("utf-16-le")) // 2 < len(prefix.encode())
        cafe = next(s for s in src.selections if s.end - s.start == 4)
        assert stored[cafe.start : cafe.end] == "café"  # composed, one code point for é
        ext = refi.extensions
        assert {"assessments", "coder_documents", "settings", "codings", "cases"} <= set(ext)
        assert [item.name for item in refi.sets] == ["Nyckel"]
        copy, result = Project.from_qdpx(out, tmp_path / "copy")
        try:
            assert result.report.is_empty
            assert copy.refi_project() == p.refi_project()
            assert copy.code("Ekonomi").color == "#FF000080"
            assert copy.code("Budget 😀").mapped_components == ("sis:O10",)
            assert copy.attribute_types() == p.attribute_types()
            frame = copy.codings_frame(include_machine=True)
            machine = frame[frame.coder == "tfidf"].iloc[0]
            assert (machine.status, machine.score, machine.coder_kind) == (
                "suggested",
                0.75,
                "machine",
            )
            assert set(frame.valence.dropna()) == {"barrier", "facilitator", "mixed"}
            with copy.store.read() as conn:
                assert conn.scalar(select(t.assessments.c.note)) == "osäker"
                assert len(conn.execute(select(t.assessment_evidence)).all()) == 1
            assert copy.meaning_units("B11 ö.txt")[0].scheme == "paragraph"
            again, _ = copy.export_qdpx(tmp_path / "again.qdpx")
            assert filecmp.cmp(out, again, shallow=False)
        finally:
            copy.close()
    finally:
        p.close()


def test_crlf_and_nfd_sources_are_normalised_and_remapped(project, tmp_path):
    code = "C0000000-0000-4000-8000-000000000001"
    user = "C0000000-0000-4000-8000-000000000002"
    part = "svårt att få tid"
    start = TEXT_A.index(part)
    nfd_word = "cafe\u0301"
    nfd = TEXT_A.index(nfd_word)
    source = RefiSource(
        "C0000000-0000-4000-8000-000000000003",
        "crlf.txt",
        TEXT_A,
        selections=[
            RefiSelection(
                "C0000000-0000-4000-8000-000000000004",
                start,
                start + len(part),
                codings=[RefiCoding("C0000000-0000-4000-8000-000000000005", code, user)],
            ),
            RefiSelection(
                "C0000000-0000-4000-8000-000000000006",
                nfd,
                nfd + len(nfd_word),
                codings=[RefiCoding("C0000000-0000-4000-8000-000000000007", code, user)],
            ),
        ],
    )
    refi = RefiProject(
        "crlf", users=[RefiUser(user, "Åsa")], codes=[RefiCode(code, "Tid")], sources=[source]
    )
    path = tmp_path / "crlf.qdpx"
    write_qdpx(refi, path)
    result = project.import_qdpx(path)
    assert any("NFC text" in line for line in result.report.lines())
    assert not result.report.has_loss
    doc = project.document("crlf.txt")
    assert "\r" not in doc.text
    texts = sorted(project.codings_frame().text)
    assert texts == sorted([part, "café"])


def test_qc_sample_counts(project, refi_dir):
    path = refi_dir / "samples" / "qc-1.3.2_demo.qdpx"
    refi, _ = read_qdpx(path)
    result = project.import_qdpx(path)
    assert refi.counts()["codes"] == 262 and result.added["codes"] == 262
    assert result.added["documents"] == 2 and result.added["codings"] == 205
    frame = project.codings_frame()
    assert len(frame) == 205
    with project.store.read() as conn:
        selections = set(conn.scalars(select(t.codings.c.selection_guid)))
    assert len(selections) == 158
    # qc line selections end where the next line starts: each coded text is whole lines
    board = next(s for s in refi.sources if s.name == "board_2017.txt")
    first = board.selections[0]
    assert board.text[first.start : first.end] in set(frame.text)
    assert any("without a name" in line for line in result.report.lines())


def test_qc_178_and_nvivo_samples(project, tmp_path, refi_dir):
    result = project.import_qdpx(refi_dir / "samples" / "generated" / "qc-1.7.8_export.qdpx")
    assert result.added == {"coders": 1, "codes": 5, "documents": 2, "codings": 8}
    nvivo = refi_dir / "samples" / "nvivo-mac-15.0.0_qc-sample.qdpx"
    refi, _ = read_qdpx(nvivo)
    other, result = Project.from_qdpx(nvivo, tmp_path / "nvivo")
    try:
        assert result.added["codes"] == 262 and result.added["coders"] == 2
        # both NVivo sources are empty (1-byte text, empty .docx): one document, one reported loss
        assert len(refi.sources) == 2 and result.added["documents"] == 1
        assert any("empty sources" in line for line in result.report.lines())
        lower = next(c.guid for c in refi.walk_codes())
        assert lower == lower.lower() and other.code(refi.codes[0].name).guid == lower.upper()
    finally:
        other.close()


def hostile_files(tmp_path: Path) -> list[Path]:
    src, code = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"

    def qde(start=0, end=3, ref=code, extra=""):
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            + extra
            + '<Project xmlns="urn:QDA-XML:project:1.0" name="t">'
            f'<CodeBook><Codes><Code guid="{code}" name="c" isCodable="true"/></Codes></CodeBook>'
            f'<Sources><TextSource guid="{src}" name="s" plainTextPath="internal://{src}.txt">'
            f'<PlainTextSelection guid="33333333-3333-4333-8333-333333333333" '
            f'startPosition="{start}" endPosition="{end}">'
            f'<Coding guid="44444444-4444-4444-8444-444444444444"><CodeRef targetGUID="{ref}"/>'
            "</Coding></PlainTextSelection></TextSource></Sources></Project>"
        )

    def archive(name: str, entries: dict[str, str | bytes]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as z:
            for entry, data in entries.items():
                z.writestr(zipfile.ZipInfo(entry), data, compress_type=zipfile.ZIP_DEFLATED)
        return path

    text = f"sources/{src}.txt"
    files = [
        archive("slip.qdpx", {"project.qde": qde(), text: "Hej 😀", "../evil.txt": "x"}),
        archive("range.qdpx", {"project.qde": qde(0, 99), text: "Hej 😀"}),
        archive(
            "unknown-code.qdpx",
            {"project.qde": qde(ref="99999999-9999-4999-8999-999999999999"), text: "Hej"},
        ),
        archive(
            "xxe.qdpx",
            {
                "project.qde": qde(extra='<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
                text: "Hej",
            },
        ),
        archive("missing-source.qdpx", {"project.qde": qde()}),
        archive("bad-utf8.qdpx", {"project.qde": qde(), text: b"\xff\xfe\xfa"}),
        archive("no-qde.qdpx", {"other.txt": "x"}),
        archive("broken-xml.qdpx", {"project.qde": "<Project", text: "Hej"}),
        archive(
            "bomb.qdpx", {"project.qde": qde(), text: "Hej", "sources/big.txt": b"\0" * (3 << 20)}
        ),
    ]
    notzip = tmp_path / "notzip.qdpx"
    notzip.write_bytes(b"this is not a zip archive")
    truncated = tmp_path / "truncated.qdpx"
    truncated.write_bytes(
        archive("ok.qdpx", {"project.qde": qde(), text: "Hej"}).read_bytes()[:200]
    )
    return [*files, notzip, truncated]


def test_refused_files_leave_the_store_unchanged(example_copy, tmp_path):
    before = fingerprint(example_copy)
    files = hostile_files(tmp_path)
    for path in files:
        with pytest.raises(InvalidInput, match=".") as caught:
            example_copy.import_qdpx(path)
            pytest.fail(f"{path.name} was not refused")
        assert "\n" not in caught.value.line(), path.name
        assert fingerprint(example_copy) == before, path.name
    assert not (tmp_path / "copy").exists()
    with pytest.raises(InvalidInput):
        Project.from_qdpx(files[1], tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_conflicts_refuse_and_merge_adds_codings(example_copy, example, tmp_path):
    out, _ = example.export_qdpx(tmp_path / "ex.qdpx")
    before = fingerprint(example_copy)
    with pytest.raises(Conflict, match="same text as document"):
        example_copy.import_qdpx(out)
    assert fingerprint(example_copy) == before
    dry = example_copy.import_qdpx(out, on_duplicate="merge", dry_run=True)
    assert dry.existing["codings"] == 93 and fingerprint(example_copy) == before
    # a coding added elsewhere comes in through --merge; everything else is already there
    other = tmp_path / "other"
    copy, _ = Project.from_qdpx(out, other)
    try:
        copy.add_coding("A5.txt", 0, 9, copy.codes()[-1].name, "Ny kodare")
        extra, _ = copy.export_qdpx(tmp_path / "extra.qdpx")
    finally:
        copy.close()
    result = example_copy.import_qdpx(extra, on_duplicate="merge")
    assert result.added == {"coders": 1, "codings": 1}
    assert len(example_copy.codings_frame()) == 94


def test_failure_mid_import_writes_nothing(project, example, tmp_path):
    out, _ = example.export_qdpx(tmp_path / "ex.qdpx")
    project.add_case("extra", attributes={"setting": 5})  # integer attribute: the file has text
    before = fingerprint(project)
    with pytest.raises(CaseframeError, match="setting"):
        project.import_qdpx(out)
    assert fingerprint(project) == before


def test_qdc_merge_dry_run_then_apply(example_copy, tmp_path, refi_dir):
    book = example_copy.refi_project().codebook()
    renamed = book.codes[0].children[0]
    old_name = renamed.name
    renamed.name = "Omdöpt kategori"
    renamed.children.append(
        RefiCode("D0000000-0000-4000-8000-000000000001", "Ny kod", description="ny")
    )
    book.codes.append(
        RefiCode("D0000000-0000-4000-8000-000000000002", book.codes[0].children[1].name)
    )
    path = tmp_path / "book.qdc"
    write_qdc(book, path)
    before = fingerprint(example_copy)
    plan = example_copy.import_qdc(path, dry_run=True).plan
    assert fingerprint(example_copy) == before
    assert plan.counts() == {"added": 2, "renamed": 1, "updated": 0, "unchanged": 12}
    assert plan.of("renamed")[0].old_name == old_name
    example_copy.import_qdc(path)
    assert example_copy.code("Omdöpt kategori").guid == renamed.guid
    added = example_copy.code("Ny kod")
    assert added.description == "ny" and added.path.endswith("Omdöpt kategori/Ny kod")
    again = example_copy.import_qdc(path, dry_run=True).plan.counts()
    assert again["added"] == again["renamed"] == 0


def test_taguette_codebook_lenient(project, refi_dir):
    result = project.import_qdc(refi_dir / "samples" / "generated" / "taguette-1.5.2_codebook.qdc")
    assert result.plan.counts()["added"] == 4
    assert any("schema error" in line for line in result.report.lines())
    with pytest.raises(InvalidInput, match="schema"):
        project.import_qdc(
            refi_dir / "samples" / "generated" / "taguette-1.5.2_codebook.qdc", strict=True
        )


def test_qdc_export_validates(example, tmp_path, refi_dir):
    out, report = example.export_qdc(tmp_path / "codes.qdc")
    schema = xmlschema.XMLSchema(str(refi_dir / "Codebook.xsd"))
    schema.validate(out.read_text(encoding="utf-8"))
    assert out.read_text(encoding="utf-8").count("<Code ") == len(example.codes())
    assert report.has_loss  # kinds and framework mappings cannot travel in a .qdc
