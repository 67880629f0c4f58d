"""PDF text layer to text (pypdf).

A PDF holds positioned glyphs, not whitespace: pypdf fills word gaps with spaces or tabs as the
layout suggests (the PDPilot transcripts come out with a tab between every word). Runs of spaces
and tabs are therefore collapsed to one space and lines are trimmed; pages are separated by a
blank line. Scanned pages have no text layer and need OCR, which is out of scope here.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from contextlib import contextmanager

from caseframe.errors import InvalidInput

_GAPS = re.compile(r"[ \t\u00a0]+")


def read_pdf(data: bytes, where: str) -> tuple[str, tuple[str, ...]]:
    from pypdf import PdfReader

    notes: list[str] = []
    with _pypdf_messages(notes):
        try:
            reader = PdfReader(io.BytesIO(data))
            encrypted = reader.is_encrypted
        except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError...
            raise _damaged(where, exc) from None
        if encrypted and not _open_without_password(reader):
            raise InvalidInput(
                "is an encrypted PDF",
                where=where,
                hint="remove the password (open it and save or print a copy) and import again",
            )
        try:
            pages = [page.extract_text() or "" for page in reader.pages]
        except Exception as exc:
            raise _damaged(where, exc) from None
    cleaned = [_clean(page) for page in pages]
    if not any(cleaned):
        raise InvalidInput(
            "has no text layer; run OCR first",
            where=where,
            hint="e.g. ocrmypdf, then import the result",
        )
    blank = [str(i + 1) for i, page in enumerate(cleaned) if not page]
    if blank:
        notes.append(f"page(s) {', '.join(blank)} have no text layer and were skipped")
    return "\n\n".join(page for page in cleaned if page), tuple(dict.fromkeys(notes))


def _open_without_password(reader) -> bool:
    """Many PDFs are encrypted only to set permissions, with an empty user password."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # unsupported algorithm, missing crypto backend
        return False


def _clean(page: str) -> str:
    lines = (_GAPS.sub(" ", line).strip() for line in page.splitlines())
    return "\n".join(lines).strip()


def _damaged(where: str, exc: Exception) -> InvalidInput:
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return InvalidInput(
        f"is not a readable PDF ({detail})",
        where=where,
        hint="open it in a PDF viewer and save or print a new copy",
    )


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"pdf: {record.getMessage()}")


@contextmanager
def _pypdf_messages(sink: list[str]):
    """pypdf logs or warns about repairable damage; keep that as document warnings."""
    logger = logging.getLogger("pypdf")
    handler = _Collect(sink)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        sink.extend(f"pdf: {w.message}" for w in caught)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
