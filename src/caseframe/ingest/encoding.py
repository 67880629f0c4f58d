"""Bytes to normalised text: encoding detection (shared with CSV reading, in
`caseframe.util.encoding`) and Unicode/newline normalisation."""

from __future__ import annotations

import unicodedata

from caseframe.util.encoding import decode_bytes

__all__ = ["decode_bytes", "normalise_text"]


def normalise_text(text: str) -> str:
    """NFC, "\\n" line ends, no leading BOM: the form every stored document text has."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text
