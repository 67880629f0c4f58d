"""read_document: one file on disk to normalised text plus speaker turns.

Dispatches on the file extension. Every failure is one InvalidInput/NotFound naming the file;
no library exception escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from caseframe.errors import InvalidInput, NotFound
from caseframe.ingest.encoding import decode_bytes, normalise_text
from caseframe.ingest.formats.office import read_docx, read_odt
from caseframe.ingest.formats.pdf import read_pdf
from caseframe.ingest.formats.subtitles import read_srt, read_vtt
from caseframe.ingest.turns import detect_turns
from caseframe.model import SpeakerTurn


@dataclass(frozen=True)
class ReadDocument:
    text: str  # NFC, "\n" newlines, no BOM
    source_format: str  # "txt", "md", "docx", "odt", "pdf", "vtt" or "srt"
    turns: tuple[SpeakerTurn, ...]
    warnings: tuple[str, ...]
    encoding: str | None  # for text formats; None for docx/odt/pdf


_Reader = Callable[[bytes, str], ReadDocument]


def read_document(path: str | Path) -> ReadDocument:
    """Read one transcript file; raise NotFound or InvalidInput (one line, with the path)."""
    path = Path(path)
    where = str(path)
    reader = _READERS.get(path.suffix.lower())
    if not path.exists():
        raise NotFound("file not found", where=where, hint="check the path")
    if path.is_dir():
        raise InvalidInput("is a folder, not a file", where=where, hint="name the files in it")
    if reader is None:
        raise InvalidInput(
            f"unsupported file type {path.suffix or '(no extension)'!r}",
            where=where,
            hint=f"supported: {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(
            f"cannot read the file ({exc.strerror or exc})", where=where, hint="check permissions"
        ) from None
    if not data:
        raise InvalidInput("is empty (0 bytes)", where=where, hint="nothing to import")
    if not data.strip():
        raise InvalidInput("contains only whitespace", where=where, hint="nothing to import")
    document = reader(data, where)
    if not document.text.strip():
        raise InvalidInput("contains no text (only whitespace)", where=where)
    return document


def _text(source_format: str) -> _Reader:
    def read(data: bytes, where: str) -> ReadDocument:
        raw, encoding, warnings = decode_bytes(data, where)
        text = normalise_text(raw)
        turns = detect_turns(text)
        return ReadDocument(text, source_format, turns, _no_turns(warnings, turns), encoding)

    return read


def _captions(source_format: str, parse) -> _Reader:
    def read(data: bytes, where: str) -> ReadDocument:
        raw, encoding, warnings = decode_bytes(data, where)
        # Pieces of NFC text joined by ASCII stay NFC: the turns' offsets remain valid.
        captions = parse(normalise_text(raw), where)
        return ReadDocument(
            captions.text,
            source_format,
            captions.turns,
            _no_turns(warnings + captions.warnings, captions.turns),
            encoding,
        )

    return read


def _binary(source_format: str, extract) -> _Reader:
    def read(data: bytes, where: str) -> ReadDocument:
        extracted = extract(data, where)
        raw, warnings = extracted if isinstance(extracted, tuple) else (extracted, ())
        text = normalise_text(raw)
        turns = detect_turns(text)
        return ReadDocument(text, source_format, turns, _no_turns(warnings, turns), None)

    return read


def _no_turns(warnings: tuple[str, ...], turns: tuple[SpeakerTurn, ...]) -> tuple[str, ...]:
    if turns:
        return warnings
    return (*warnings, "no speaker turns recognised (no 'Name:' labels at line starts)")


_READERS: dict[str, _Reader] = {
    ".txt": _text("txt"),
    ".md": _text("md"),
    ".docx": _binary("docx", read_docx),
    ".odt": _binary("odt", read_odt),
    ".pdf": _binary("pdf", read_pdf),
    ".vtt": _captions("vtt", read_vtt),
    ".srt": _captions("srt", read_srt),
}
SUPPORTED_EXTENSIONS = tuple(_READERS)
