"""normalise_source: REFI text as stored -> caseframe's NFC / LF text, offsets remapped."""

from __future__ import annotations

import unicodedata

from caseframe.interop.refi import RefiSelection, normalise_source


def sel(text: str, part: str, n: int = 0) -> RefiSelection:
    start = text.index(part)
    return RefiSelection(f"{n:08X}-0000-4000-8000-000000000000", start, start + len(part))


def reference(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def test_crlf_offsets_after_each_line_shift_by_one_per_line() -> None:
    text = "Rad ett\r\nRad två 😀\r\nTredje rad\rfjärde\n"
    parts = ["Rad ett", "två 😀", "Tredje rad", "fjärde", "😀\r\nTredje"]
    selections = [sel(text, p, i) for i, p in enumerate(parts)]
    new_text, remapped = normalise_source(text, selections)
    assert new_text == reference(text)
    for part, s in zip(parts, remapped, strict=True):
        assert new_text[s.start : s.end] == reference(part)
    # each CRLF before the selection moves it back one code point
    assert remapped[2].start == selections[2].start - 2


def test_nfc_composes_combining_marks_and_keeps_offsets() -> None:
    text = "cafe\u0301 och A\u030a och \u1100\u1161\u11a8 slut 👩\u200d⚕️"
    parts = ["cafe\u0301", "A\u030a och", "\u1100\u1161\u11a8", "slut 👩\u200d⚕️"]
    selections = [sel(text, p, i) for i, p in enumerate(parts)]
    new_text, remapped = normalise_source(text, selections)
    assert new_text == reference(text)
    assert [new_text[s.start : s.end] for s in remapped] == [
        "café",
        "Å och",
        "각",
        "slut 👩\u200d⚕️",
    ]


def test_offset_inside_a_shrinking_unit_is_widened() -> None:
    text = "ae\u0301b\r\nc"
    inside_accent = RefiSelection("A", 0, 2)  # ends between 'e' and its accent
    inside_crlf = RefiSelection("B", 4, 7)  # starts between CR and LF
    new_text, (a, b) = normalise_source(text, [inside_accent, inside_crlf])
    assert new_text == "aéb\nc"
    assert new_text[a.start : a.end] == "aé"
    assert new_text[b.start : b.end] == "\nc"


def test_without_nfc_only_newlines_change() -> None:
    text = "e\u0301\r\nx"
    new_text, [s] = normalise_source(text, [RefiSelection("A", 4, 5)], nfc=False)
    assert new_text == "e\u0301\nx" and new_text[s.start : s.end] == "x"
