"""Replace spans of a text and carry every offset (codings, turns) over to the new text.

Remapping rule for a span [start, end) of the old text:
- a boundary outside every replaced range moves by the change in length before it;
- a boundary strictly inside a replaced range snaps outwards to the pseudonym's edge (a start
  to its start, an end to its end), so a coding that covered part of a name covers the whole
  pseudonym and never a piece of one;
- hence a span covering a replacement grows or shrinks with it, and a span wholly inside one
  becomes the pseudonym.
Equivalently: widen the span to whole replaced values, substitute them, and the result is
exactly the new text of the remapped span (tested as a property).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from caseframe.errors import Conflict, InvalidInput
from caseframe.privacy.detect import Detection
from caseframe.privacy.pseudonyms import PseudonymBook


@dataclass(frozen=True)
class _Piece:
    old_start: int
    old_end: int
    new_start: int
    new_end: int


class OffsetMap:
    """Old-text offsets -> new-text offsets after `apply_replacements`."""

    def __init__(self, pieces: Sequence[_Piece], old_length: int, new_length: int):
        self._pieces = list(pieces)
        self._starts = [p.old_start for p in self._pieces]
        self.old_length = old_length
        self.new_length = new_length

    def map_offset(self, pos: int, *, side: str = "start") -> int:
        """New position of a boundary; `side` says which way it snaps inside a replacement."""
        if not 0 <= pos <= self.old_length:
            raise InvalidInput(f"offset {pos} is outside the text (length {self.old_length})")
        i = bisect.bisect_right(self._starts, pos) - 1
        if i < 0:
            return pos
        piece = self._pieces[i]
        if pos == piece.old_start:
            return piece.new_start
        if pos < piece.old_end:
            return piece.new_start if side == "start" else piece.new_end
        return pos - piece.old_end + piece.new_end

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        if start > end:
            raise InvalidInput(f"span [{start}, {end}) ends before it starts")
        if start == end:
            pos = self.map_offset(start, side="start")
            return pos, pos
        return self.map_offset(start, side="start"), self.map_offset(end, side="end")

    def __len__(self) -> int:
        return len(self._pieces)


def apply_replacements(
    text: str, replacements: Iterable[tuple[int, int, str]]
) -> tuple[str, OffsetMap]:
    """Replace each [start, end) with its new text; the spans must not overlap."""
    ordered = sorted(replacements, key=lambda r: (r[0], r[1]))
    for start, end, _new in ordered:
        if not (0 <= start < end <= len(text)):
            raise InvalidInput(
                f"replacement [{start}, {end}) is not a non-empty range inside the text "
                f"(length {len(text)})"
            )
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b[0] < a[1]:
            raise Conflict(
                f"replacements [{a[0]}, {a[1]}) {text[a[0] : a[1]]!r} and [{b[0]}, {b[1]}) "
                f"{text[b[0] : b[1]]!r} overlap",
                hint="accept only one of them",
            )
    out: list[str] = []
    pieces: list[_Piece] = []
    cursor = 0
    new_pos = 0
    for start, end, new in ordered:
        out.append(text[cursor:start])
        new_pos += start - cursor
        out.append(new)
        pieces.append(_Piece(start, end, new_pos, new_pos + len(new)))
        new_pos += len(new)
        cursor = end
    out.append(text[cursor:])
    new_text = "".join(out)
    return new_text, OffsetMap(pieces, len(text), len(new_text))


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    original: str
    pseudonym: str
    category: str
    source: str


def pseudonymise(
    text: str, detections: Iterable[Detection], book: PseudonymBook
) -> tuple[str, OffsetMap, list[Replacement]]:
    """Replace accepted detections with their pseudonyms from `book` (which learns new ones).

    Every detection is checked against the text first, so a review list made for another
    version of the document is refused before the book or the text change.
    """
    detections = list(detections)
    for d in detections:
        if text[d.start : d.end] != d.text:
            raise Conflict(
                f"the text at [{d.start}, {d.end}) is {text[d.start : d.end]!r}, not {d.text!r}",
                hint="scan the document again; the list was made for another version",
            )
    trial = book.copy()  # nothing is learnt unless the whole document goes through
    planned = [
        Replacement(
            d.start,
            d.end,
            d.text,
            trial.assign(d.value or d.text, d.category, d.pseudonym_hint),
            d.category,
            d.source,
        )
        for d in detections
    ]
    new_text, offsets = apply_replacements(text, [(r.start, r.end, r.pseudonym) for r in planned])
    for d in detections:
        book.assign(d.value or d.text, d.category, d.pseudonym_hint)
    return new_text, offsets, planned
