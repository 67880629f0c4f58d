"""read_document on real transcripts (PDPilot, AnnoMI) and on every supported format and error."""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from caseframe.errors import CaseframeError, InvalidInput, NotFound
from caseframe.ingest import (
    SUPPORTED_EXTENSIONS,
    ReadDocument,
    detect_turns,
    read_document,
    segment,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PDPILOT = SHARED / "data" / "pdpilot-interviews"
ANNOMI = SHARED / "data" / "annomi" / "AnnoMI-full.csv"
PDPILOT_LABEL = re.compile(r"^[\s\d]*(Dan|Participant|Particpant):", re.MULTILINE)


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"shared test data missing: {path} (expected next to the repository)")
    return path


def _speakers(doc: ReadDocument) -> list[str]:
    return [t.speaker for t in doc.turns]


def _check_turns_valid(doc: ReadDocument) -> None:
    """Turns are ordered, disjoint, trimmed, and start with their speaker's label."""
    previous = 0
    for i, turn in enumerate(doc.turns):
        assert turn.index == i
        assert previous <= turn.start < turn.end <= len(doc.text)
        piece = doc.text[turn.start : turn.end]
        assert piece == piece.strip()
        assert piece.lstrip("*_").startswith(turn.speaker)
        previous = turn.end


# --- real data: PDPilot -------------------------------------------------------------------


def _pdpilot_transcripts() -> list[Path]:
    paths = sorted(_need(PDPILOT / "text").glob("P*.txt"))
    assert len(paths) == 7
    return paths


@pytest.mark.parametrize("name", [f"P{i}" for i in range(1, 8)])
def test_pdpilot_text_transcripts_have_one_turn_per_label(name):
    path = _need(PDPILOT / "text" / f"{name}.txt")
    doc = read_document(path)
    raw = path.read_text(encoding="utf-8")
    labels = PDPILOT_LABEL.findall(raw)
    assert doc.source_format == "txt" and doc.encoding == "utf-8"
    assert _speakers(doc) == labels  # exact: same speakers, same order
    assert {"Dan", "Participant"} <= set(_speakers(doc))
    _check_turns_valid(doc)
    # The paragraph number (missing on a few lines repeated at page breaks) lies outside.
    for turn in doc.turns:
        line_start = doc.text.rfind("\n", 0, turn.start) + 1
        prefix = doc.text[line_start : turn.start].strip(" \f")
        assert prefix == "" or prefix.isdigit()


def test_pdpilot_coded_segment_lies_in_a_participant_turn():
    doc = read_document(_need(PDPILOT / "text" / "P1.txt"))
    at = doc.text.index("We typically use them to identify trends")
    (turn,) = [t for t in doc.turns if t.start <= at < t.end]
    assert turn.speaker == "Participant"
    assert doc.text[turn.start :].startswith("Participant: We typically use them")
    assert doc.text[: turn.end].endswith("against the other feature.")


def _maxqda_segments() -> list[tuple[str, str]]:
    """(document, first line of segment) rows of the MAXQDA coded-segment export."""
    rows = []
    text = _need(PDPILOT / "text" / "coded-segments.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        m = re.match(r"(P\d)\s{2,}(.*)", line.strip("\f"))
        if m:
            rows.append((m.group(1), re.split(r"\s{2,}", m.group(2).strip())[-1]))
    return rows


def test_pdpilot_labelled_coded_segments_match_turn_boundaries_and_speakers():
    """Every MAXQDA segment that starts with a label starts exactly at one of our turns."""
    docs = {p.stem: read_document(p) for p in _pdpilot_transcripts()}
    checked = Counter()
    for name, first_line in _maxqda_segments():
        label = re.match(r"(Dan|Participant): ", first_line)
        doc = docs[name]
        at = doc.text.find(first_line[:60])
        if label is None or at < 0:
            continue  # unlabelled segments or ones wrapped differently in the export
        (turn,) = [t for t in doc.turns if t.start <= at < t.end]
        assert (turn.start, turn.speaker) == (at, label.group(1))
        checked[label.group(1)] += 1
    # Figures of this data set: 128 labelled segments are located (77 Dan, 51 Participant).
    assert checked["Dan"] >= 70 and checked["Participant"] >= 45


@pytest.mark.parametrize("name", ["P1", "P5"])
def test_pdpilot_pdf_text_layer_gives_the_same_turns(name):
    text_doc = read_document(_need(PDPILOT / "text" / f"{name}.txt"))
    pdf_doc = read_document(_need(PDPILOT / "pdf" / f"{name}.pdf"))
    assert pdf_doc.source_format == "pdf" and pdf_doc.encoding is None
    assert "\t" not in pdf_doc.text  # pypdf's tab-separated words were collapsed
    assert _speakers(pdf_doc) == _speakers(text_doc)  # P5 includes the one-off "Particpant"
    _check_turns_valid(pdf_doc)
    at = pdf_doc.text.index("We typically use them") if name == "P1" else 0
    if name == "P1":
        assert [t.speaker for t in pdf_doc.turns if t.start <= at < t.end] == ["Participant"]


# --- real data: AnnoMI --------------------------------------------------------------------


def annomi_transcripts(csv_path: Path, out_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """Write each AnnoMI conversation as "therapist: ...\\nclient: ..." text; return utterances.

    Conversations coded by several annotators are listed once per annotator: keep the
    lowest annotator id, and order utterances by utterance_id.
    """
    rows = defaultdict(list)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["transcript_id"], int(row["annotator_id"]))
            rows[key].append(row)
    chosen: dict[str, list[dict]] = {}
    for (transcript, _annotator), utterances in sorted(rows.items(), key=lambda kv: kv[0][1]):
        chosen.setdefault(transcript, utterances)
    conversations = {}
    for transcript, utterances in chosen.items():
        utterances.sort(key=lambda r: int(r["utterance_id"]))
        turns = [(r["interlocutor"], " ".join(r["utterance_text"].split())) for r in utterances]
        lines = [f"{speaker}: {text}" for speaker, text in turns]
        (out_dir / f"annomi-{transcript}.txt").write_text("\n".join(lines) + "\n", "utf-8")
        conversations[transcript] = turns
    return conversations


def test_annomi_conversations_give_therapist_and_client_turns(tmp_path):
    conversations = annomi_transcripts(_need(ANNOMI), tmp_path)
    assert len(conversations) == 133
    utterances = 0
    for transcript, expected in conversations.items():
        doc = read_document(tmp_path / f"annomi-{transcript}.txt")
        assert [(t.speaker, doc.text[t.start : t.end]) for t in doc.turns] == [
            (speaker, f"{speaker}: {text}") for speaker, text in expected
        ]
        utterances += len(expected)
    assert utterances == 9699  # distinct utterances, as stated in the data set's PROVENANCE


# --- formats ------------------------------------------------------------------------------

INTERVIEW = [
    ("Interviewer", "Hur går arbetet i Göteborg?"),
    ("Respondent", "Det går bra. We meet at 10:30 every week."),
    ("Interviewer", "Note: what changed?"),
    ("Respondent", "Funding, see https://example.org for details."),
]


def _interview_lines() -> list[str]:
    return [f"{speaker}: {text}" for speaker, text in INTERVIEW]


def _expect_interview(doc: ReadDocument) -> None:
    assert _speakers(doc) == [speaker for speaker, _ in INTERVIEW]
    for turn, (speaker, text) in zip(doc.turns, INTERVIEW, strict=True):
        assert doc.text[turn.start : turn.end] == f"{speaker}: {text}"
    _check_turns_valid(doc)


def test_docx_paragraphs_and_table_cells_in_order(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("Intervju 3", level=1)
    for line in _interview_lines()[:2]:
        document.add_paragraph(line)
        document.add_paragraph("")  # spacing paragraphs are dropped
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Site"
    table.cell(0, 1).text = "Göteborg"
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "Merged cell"
    for line in _interview_lines()[2:]:
        document.add_paragraph(line)
    path = tmp_path / "interview.DOCX"
    document.save(path)

    doc = read_document(path)
    assert doc.source_format == "docx" and doc.encoding is None
    assert doc.text.split("\n\n") == [
        "Intervju 3",
        *_interview_lines()[:2],
        "Site",
        "Göteborg",
        "Merged cell",
        *_interview_lines()[2:],
    ]
    # The table lies inside the respondent's second turn.
    assert _speakers(doc) == [s for s, _ in INTERVIEW]
    assert "Merged cell" in doc.text[doc.turns[1].start : doc.turns[1].end]


def test_odt_paragraphs_headings_and_tables(tmp_path):
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P, S

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Intervju 3"))
    for line in _interview_lines():
        document.text.addElement(P(text=line))
    table = Table(name="Sites")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    row = TableRow()
    for value in ("Site", "Göteborg"):
        cell = TableCell()
        cell.addElement(P(text=value))
        row.addElement(cell)
    table.addElement(row)
    document.text.addElement(table)
    spaced = P(text="Two")
    spaced.addElement(S(c=3))  # <text:s text:c="3"/> is three spaces
    spaced.addText("spaces")
    document.text.addElement(spaced)
    path = tmp_path / "interview.odt"
    document.save(str(path))

    doc = read_document(path)
    assert doc.source_format == "odt"
    assert doc.text.split("\n\n") == [
        "Intervju 3",
        *_interview_lines(),
        "Site",
        "Göteborg",
        "Two   spaces",
    ]
    assert _speakers(doc) == [s for s, _ in INTERVIEW]


def _matplotlib_pdf(path: Path, pages: list[list[str]]) -> None:
    """A PDF with a real text layer, written by matplotlib (a blank page has no text)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                fig.text(0.05, 0.95 - 0.04 * i, line)
            if not lines:
                fig.add_artist(plt.Rectangle((0.2, 0.2), 0.5, 0.5, color="grey"))
            pdf.savefig(fig)
            plt.close(fig)


def test_pdf_text_layer_with_a_blank_page(tmp_path):
    path = tmp_path / "interview.pdf"
    lines = _interview_lines()
    _matplotlib_pdf(path, [lines[:2], [], lines[2:]])
    doc = read_document(path)
    assert doc.source_format == "pdf"
    _expect_interview(doc)
    assert any("page(s) 2" in w for w in doc.warnings)


def test_pdf_with_empty_user_password_is_read(tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    _matplotlib_pdf(plain, [_interview_lines()])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="", owner_password="owner")
    path = tmp_path / "permissions-only.pdf"
    writer.write(path)
    _expect_interview(read_document(path))


VTT = """WEBVTT - interview 3

NOTE exported by a meeting tool
spanning two lines

STYLE
::cue { color: yellow }

1
00:00:01.000 --> 00:00:04.000
<v Anna Berg>Hej och välkommen.</v>

2
00:00:04.500 --> 00:00:06.000 align:start
<v Anna Berg>Hur länge har ni
arbetat med <i>stödet</i>?

intro-3
00:00:06.500 --> 00:00:09.000
<v.loud Bengt>Sedan 2019 &amp; framåt.</v>

00:09.500 --> 00:12.000
Utan röst: fortsätter Bengt.
"""


def test_vtt_voices_become_turns_and_timings_are_dropped(tmp_path):
    path = tmp_path / "meeting.vtt"
    path.write_text(VTT, encoding="utf-8")
    doc = read_document(path)
    assert doc.source_format == "vtt" and doc.encoding == "utf-8"
    assert doc.text == (
        "Anna Berg: Hej och välkommen.\n\n"
        "Hur länge har ni arbetat med stödet?\n\n"
        "Bengt: Sedan 2019 & framåt.\n\n"
        "Utan röst: fortsätter Bengt."
    )
    # Consecutive cues by Anna form one turn; the cue labelled "Utan röst:" is a new speaker.
    assert _speakers(doc) == ["Anna Berg", "Bengt", "Utan röst"]
    assert doc.text[doc.turns[0].start : doc.turns[0].end].endswith("med stödet?")
    assert detect_turns(doc.text) == doc.turns
    _check_turns_valid(doc)


def test_zoom_style_vtt_with_name_prefixes(tmp_path):
    cues = [
        f"{i + 1}\n00:00:{i:02d}.000 --> 00:00:{i + 1:02d}.000\n{line}"
        for i, line in enumerate(_interview_lines())
    ]
    path = tmp_path / "zoom.vtt"
    path.write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n", encoding="utf-8")
    _expect_interview(read_document(path))


def test_srt_blocks_with_speaker_prefixes(tmp_path):
    srt = (
        "1\r\n00:00:01,000 --> 00:00:03,000\r\n{\\an8}Interviewer: Hur går arbetet\r\n"
        "i <i>Göteborg</i>?\r\n\r\n"
        "2\r\n00:00:03,500 --> 00:00:05,000\r\nRespondent: Det går bra.\r\n\r\n"
        "3\r\n00:00:05,500 --> 00:00:07,000\r\nWe meet at 10:30 every week.\r\n"
    )
    path = tmp_path / "captions.srt"
    path.write_bytes(srt.encode("utf-8"))
    doc = read_document(path)
    assert doc.text == (
        "Interviewer: Hur går arbetet i Göteborg?\n\n"
        "Respondent: Det går bra.\n\n"
        "We meet at 10:30 every week."
    )
    assert _speakers(doc) == ["Interviewer", "Respondent"]
    assert doc.text[doc.turns[1].start : doc.turns[1].end].endswith("every week.")
    assert detect_turns(doc.text) == doc.turns


def test_markdown_is_read_as_text(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Intervju\n\n**I:** Hur mår du?\n\n**R:** Bra.\n", encoding="utf-8")
    doc = read_document(path)
    assert doc.source_format == "md"
    assert [(t.speaker, doc.text[t.start : t.end]) for t in doc.turns] == [
        ("I", "**I:** Hur mår du?"),
        ("R", "**R:** Bra."),
    ]


# --- encodings and normalisation ----------------------------------------------------------

TEXT = "Interviewer: Hur är läget i Göteborg?\nRespondent: “Bra” – tack, Åsa.\n"


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8 (BOM)"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le (BOM)"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be (BOM)"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32-le (BOM)"),
        ("cp1252", b"", "cp1252"),
    ],
)
def test_text_encodings(tmp_path, encoding, prefix, expected):
    path = tmp_path / "interview.txt"
    path.write_bytes(prefix + TEXT.encode(encoding))
    doc = read_document(path)
    assert doc.text == TEXT
    assert doc.encoding == expected
    assert _speakers(doc) == ["Interviewer", "Respondent"]
    assert bool(doc.warnings) == (expected in {"cp1252", "utf-16-le", "utf-16-be"})


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_short_legacy_text_keeps_swedish_letters(tmp_path, encoding):
    # charset-normalizer alone reads these bytes as cp1006/cp1250 ("Gﺉteborg", "vĺrden").
    for i, text in enumerate(["Göteborg", "Intervju i Göteborg om vården och Åsa."]):
        path = tmp_path / f"short{i}.txt"
        path.write_bytes(text.encode(encoding))
        doc = read_document(path)
        assert doc.text == text
        assert doc.encoding in {"cp1252", "latin-1"}


def test_non_western_legacy_encoding_is_detected(tmp_path):
    text = (
        "Интервьюер: Расскажите, как вы начали работать с программой поддержки?\n"
        "Участник: Мы начали два года назад. Сначала было трудно найти людей, "
        "но потом руководство нас поддержало.\n"
    ) * 3
    path = tmp_path / "ru.txt"
    path.write_bytes(text.encode("cp1251"))
    doc = read_document(path)
    assert doc.text == text
    assert doc.encoding == "cp1251"
    assert _speakers(doc) == ["Интервьюер", "Участник"] * 3


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_become_lf(tmp_path, newline):
    path = tmp_path / "dos.txt"
    path.write_bytes(TEXT.replace("\n", newline).encode("utf-8"))
    assert read_document(path).text == TEXT


def test_nfd_input_becomes_nfc(tmp_path):
    path = tmp_path / "nfd.txt"
    decomposed = unicodedata.normalize("NFD", TEXT)
    assert decomposed != TEXT
    path.write_text(decomposed, encoding="utf-8")
    doc = read_document(path)
    assert doc.text == TEXT and unicodedata.is_normalized("NFC", doc.text)


def test_text_without_turns_warns(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Fältanteckningar.\n\nInga talare här.\n", encoding="utf-8")
    doc = read_document(path)
    assert doc.turns == ()
    assert any("no speaker turns" in w for w in doc.warnings)
    assert segment(doc.text, doc.turns) == [(0, 17, None), (19, 35, None)]


# --- errors -------------------------------------------------------------------------------


def _error(path: Path, kind: type[CaseframeError]) -> str:
    with pytest.raises(kind) as info:
        read_document(path)
    line = info.value.line()
    assert "\n" not in line and str(path) in line
    assert info.value.__cause__ is None  # no library traceback chained in
    return line


def test_missing_file(tmp_path):
    assert "not found" in _error(tmp_path / "nope.txt", NotFound)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("Interviewer: hi", encoding="utf-8")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    # chmod cannot lock out root, who runs the tests in CI containers.
    monkeypatch.setattr(Path, "read_bytes", denied)
    assert "cannot read the file (Permission denied)" in _error(path, NotFound)


def test_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert "folder" in _error(folder, InvalidInput)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b" \n\t\r\n  ", "only whitespace"), ("  \n".encode("utf-16"), "no text")],
)
def test_empty_and_whitespace_files(tmp_path, content, message):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert message in _error(path, InvalidInput)


def test_empty_docx(tmp_path):
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(path)
    assert "no text" in _error(path, InvalidInput)


def test_binary_file_renamed_txt(tmp_path):
    png = tmp_path / "figure.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(png)
    plt.close(fig)
    renamed = tmp_path / "figure.txt"
    renamed.write_bytes(png.read_bytes())
    assert "not a text file" in _error(renamed, InvalidInput)
    pdf = tmp_path / "real.txt"
    pdf.write_bytes(_need(PDPILOT / "pdf" / "P1.pdf").read_bytes())
    assert "not a text file" in _error(pdf, InvalidInput)


def test_corrupt_docx(tmp_path):
    text_as_docx = tmp_path / "text.docx"
    text_as_docx.write_text("Interviewer: hi", encoding="utf-8")
    assert "not a zip archive" in _error(text_as_docx, InvalidInput)

    empty_zip = tmp_path / "other.docx"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "not a word document")
    assert "no word/document.xml" in _error(empty_zip, InvalidInput)

    import docx

    good = tmp_path / "good.docx"
    docx.Document().save(good)
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]  # truncated XML
            dst.writestr(item, data)
    assert "damaged Word .docx" in _error(broken, InvalidInput)

    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good.read_bytes()[:-200])
    assert "docx" in _error(truncated, InvalidInput)


def test_corrupt_odt(tmp_path):
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    good = tmp_path / "good.odt"
    document = OpenDocumentText()
    document.text.addElement(P(text="Interviewer: hi"))
    document.save(str(good))
    broken = tmp_path / "broken.odt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "content.xml":
                data = data.replace(b"</office:document-content>", b"")
            dst.writestr(item, data)
    assert "damaged OpenDocument .odt" in _error(broken, InvalidInput)

    not_zip = tmp_path / "plain.odt"
    not_zip.write_bytes(b"Interviewer: hi")
    assert "not a zip archive" in _error(not_zip, InvalidInput)


def test_pdf_without_text_layer(tmp_path):
    path = tmp_path / "scan.pdf"
    _matplotlib_pdf(path, [[]])
    assert "has no text layer; run OCR first" in _error(path, InvalidInput)


def test_encrypted_pdf(tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    _matplotlib_pdf(plain, [_interview_lines()])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="secret", owner_password="secret")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    assert "encrypted PDF" in _error(path, InvalidInput)


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage")
    assert "not a readable PDF" in _error(path, InvalidInput)


def test_caption_file_without_cues(tmp_path):
    path = tmp_path / "empty.vtt"
    path.write_text("WEBVTT\n\nNOTE nothing here\n", encoding="utf-8")
    assert "no WebVTT cues" in _error(path, InvalidInput)
    srt = tmp_path / "prose.srt"
    srt.write_text("Just some prose.\n", encoding="utf-8")
    assert "no SubRip cues" in _error(srt, InvalidInput)


def test_unknown_extension_lists_supported_ones(tmp_path):
    path = tmp_path / "interview.rtf"
    path.write_text("{\\rtf1 hi}", encoding="utf-8")
    line = _error(path, InvalidInput)
    assert "'.rtf'" in line
    for extension in SUPPORTED_EXTENSIONS:
        assert extension in line
    assert set(SUPPORTED_EXTENSIONS) == {".txt", ".md", ".docx", ".odt", ".pdf", ".vtt", ".srt"}
