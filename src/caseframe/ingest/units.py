"""Meaning units, word counts and content hashes of a document's normalised text.

Units are `(start, end, speaker)` code-point ranges: trimmed of surrounding whitespace, non-empty,
non-overlapping and in text order. Text before the first speaker turn (a title, field notes) is
cut into paragraphs without a speaker; a paragraph number or timestamp in front of a label lies
between turns and belongs to no unit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence

from caseframe.errors import InvalidInput
from caseframe.ingest.encoding import normalise_text
from caseframe.model import SpeakerTurn

SCHEMES = ("turn", "paragraph", "sentences")

Unit = tuple[int, int, str | None]

# A blank line: only spaces, tabs or form feeds (pdftotext page breaks) between two newlines.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v]*\n\s*")
# A sentence ends at . ! ? or … (plus closing quotes/brackets) before whitespace, unless the next
# word starts with a lower-case letter, so "e.g. this" stays whole (but "Dr. Smith" splits).
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+(\S))")
_WORD = re.compile(r"\w+(?:['’\-]\w+)*")


def segment(
    text: str, turns: Sequence[SpeakerTurn], scheme: str = "turn", window: int = 3
) -> list[Unit]:
    """Cut `text` into meaning units by `scheme` ("turn", "paragraph" or "sentences").

    "turn": one unit per speaker turn, or paragraphs when there are no turns.
    "paragraph": blank-line separated blocks, also cut where a turn starts.
    "sentences": windows of `window` consecutive sentences that never cross a turn boundary.
    """
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"unknown unit scheme {scheme!r}", hint=f"use one of: {', '.join(SCHEMES)}"
        )
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise InvalidInput(f"sentence window must be a whole number ≥ 1, not {window!r}")
    regions = list(_regions(text, turns))
    units: list[Unit] = []
    for start, end, speaker in regions:
        if scheme == "turn":
            if speaker is None:
                units.extend((s, e, None) for s, e in _paragraphs(text, start, end))
            else:
                units.append((start, end, speaker))
        elif scheme == "paragraph":
            units.extend((s, e, speaker) for s, e in _paragraphs(text, start, end))
        else:
            sentences = [
                sentence
                for para in _paragraphs(text, start, end)
                for sentence in _sentences(text, *para)
            ]
            for i in range(0, len(sentences), window):
                group = sentences[i : i + window]
                units.append((group[0][0], group[-1][1], speaker))
    return units


def word_count(text: str) -> int:
    """Number of words: runs of letters/digits, keeping "don't" and "well-being" whole."""
    return sum(1 for _ in _WORD.finditer(text))


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the NFC, "\\n"-newline text encoded as UTF-8."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def _regions(text: str, turns: Sequence[SpeakerTurn]) -> Iterator[Unit]:
    """Text before the first turn (no speaker), then each turn with its speaker."""
    previous_end = 0
    for turn in sorted(turns, key=lambda t: t.start):
        if not (previous_end <= turn.start < turn.end <= len(text)):
            raise InvalidInput(
                f"speaker turn {turn.index} [{turn.start}, {turn.end}) is empty, out of range "
                "or overlaps the previous turn"
            )
        if previous_end == 0 and turn.start > 0:
            # Up to the first label's line: a paragraph number before it is no part of the text.
            yield 0, text.rfind("\n", 0, turn.start) + 1, None
        yield turn.start, turn.end, turn.speaker
        previous_end = turn.end
    if not turns:
        yield 0, len(text), None


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for brk in _PARAGRAPH_BREAK.finditer(text, start, end):
        yield from _trimmed(text, pos, brk.start())
        pos = brk.end()
    yield from _trimmed(text, pos, end)


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for stop in _SENTENCE_END.finditer(text, start, end):
        if stop.group(1).islower():
            continue
        yield from _trimmed(text, pos, stop.end())
        pos = stop.end()
    yield from _trimmed(text, pos, end)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    piece = text[start:end]
    stripped = piece.lstrip()
    if not stripped:
        return
    start += len(piece) - len(stripped)
    yield start, start + len(stripped.rstrip())
