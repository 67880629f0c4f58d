"""Bytes of a user's text file (a transcript, a CSV) to text: the one encoding detection.

Order of trust: a byte-order mark, then BOM-less UTF-16 (recognised by its pattern of NUL
bytes, which strict UTF-8 would accept), then strict UTF-8, then a legacy 8-bit encoding:
cp1252 (latin-1 where cp1252 leaves a byte undefined) when the result looks like Western
European text, otherwise charset-normalizer's guess. charset-normalizer is not asked first
because it misreads short Swedish cp1252 text (as cp1250 "vĺrden" or cp1006 "Gﺉteborg").
"""

from __future__ import annotations

import codecs
import re

from caseframe.errors import InvalidInput

# Longest BOMs first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 4096
# Control characters (category Cc) except tab, newlines, vertical tab and form feed, which do
# occur in real text files (pdftotext marks page breaks with form feeds).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def decode_bytes(data: bytes, where: str) -> tuple[str, str, tuple[str, ...]]:
    """Decode a text file's bytes; return (text, encoding name, warnings).

    Raises InvalidInput for bytes that are not text in any encoding we accept.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding + " (BOM)", ()
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"starts with a {encoding} byte-order mark but is not valid {encoding} "
                    f"(byte {exc.start + len(bom)})",
                    where=where,
                    hint="re-save it as UTF-8",
                ) from None
    # Before UTF-8: ASCII-range UTF-16 is also valid UTF-8, full of NULs.
    utf16 = _bomless_utf16(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            pass
        else:
            if not _looks_binary(text):
                return text, utf16, (f"no byte-order mark; read as {utf16}",)
    if b"\x00" in data[: _SAMPLE * 16]:
        raise _binary(where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if _looks_binary(text):
            raise _binary(where)
        return text, "utf-8", ()
    text, encoding = _legacy(data, where)
    if _looks_binary(text):
        raise _binary(where)
    return text, encoding, (f"not UTF-8; read as {encoding}, check accented letters",)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM: mostly-Latin text has a NUL in every other byte."""
    sample = data[:_SAMPLE]
    if len(data) % 2 or len(sample) < 4:
        return None
    pairs = len(sample) // 2
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.3 * pairs and even_nuls < 0.02 * pairs:
        return "utf-16-le"
    if even_nuls > 0.3 * pairs and odd_nuls < 0.02 * pairs:
        return "utf-16-be"
    return None


def _legacy(data: bytes, where: str) -> tuple[str, str]:
    western = _western(data)
    if western is not None and _plausibly_western(western[0]):
        return western
    import charset_normalizer  # only for text that is neither UTF nor Western 8-bit

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        if western is not None:
            return western
        raise _binary(where)
    return str(best), best.encoding


def _western(data: bytes) -> tuple[str, str] | None:
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined
        text = data.decode("latin-1")
        return (text, "latin-1") if not _looks_binary(text) else None


def _plausibly_western(text: str) -> bool:
    """Western European text is mostly ASCII letters with some accented ones.

    Other 8-bit encodings read as cp1252 turn nearly every letter into an accented one
    (Cyrillic cp1251 "Интервью" becomes "Èíòåðâüþ"), which this rejects.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    accented = sum(1 for ch in letters if not ch.isascii())
    return accented <= 0.3 * len(letters)


def _looks_binary(text: str) -> bool:
    sample = text[: _SAMPLE * 4]
    return len(_CONTROLS.findall(sample)) > 0.01 * len(sample) or "\x00" in sample


def _binary(where: str) -> InvalidInput:
    return InvalidInput(
        "is not a text file (binary content or unknown encoding)",
        where=where,
        hint="export it as .txt (UTF-8), .docx, .odt or .pdf",
    )
