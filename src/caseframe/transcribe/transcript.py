"""From recognised segments to a transcript: text, timed passages, turns split at pauses.

The text holds only what was said: a turn's passages joined by spaces, one turn per line.
Speaker labels live on the turns, not in the text, so a coder can relabel a turn without
touching the (immutable) text or any coding's offsets. Offsets are Unicode code points.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from caseframe.transcribe.engine import Segment

DEFAULT_SPEAKER = "Speaker"
TURN_GAP = "\n"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TimedSpan:
    """Characters [start, end) of the text, said from start_ms to end_ms of the recording."""

    start: int
    end: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: int
    end: int


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[TimedSpan, ...]
    turns: tuple[Turn, ...]
    words: tuple[TimedSpan, ...]  # kept in memory to mute replaced names; never stored


def speaker_labels(speakers: str | Sequence[str] | None) -> list[str]:
    """`"Interviewer, Manager"` → ["Interviewer", "Manager"] (empty names dropped)."""
    if speakers is None:
        return []
    parts = speakers.split(",") if isinstance(speakers, str) else list(speakers)
    return [p.strip() for p in parts if p and p.strip()]


def label_for(turn_index: int, labels: Sequence[str]) -> str:
    """A first guess: the first two labels alternate, turn by turn; one label names them all."""
    if not labels:
        return DEFAULT_SPEAKER
    return labels[turn_index % min(2, len(labels))]


def build(
    segments: Sequence[Segment],
    *,
    pause: float = 1.0,
    speakers: Sequence[str] = (),
    duration: float | None = None,
) -> Transcript:
    """The transcript of `segments` (in recording order; times in seconds).

    A new turn starts where the silence between two passages is at least `pause` seconds.
    Times are clamped so that passages never overlap and never pass `duration`.
    """
    text: list[str] = []
    length = 0
    timed: list[TimedSpan] = []
    words: list[TimedSpan] = []
    turns: list[Turn] = []
    turn_start = -1
    last_end = 0.0
    limit = duration if duration and duration > 0 else None
    for seg in segments:
        body = clean(seg.text)
        if not body:
            continue
        start = max(seg.start, last_end)  # passages never overlap or go back in time
        end = max(seg.end, start)
        if limit is not None:
            start, end = min(start, limit), min(end, limit)
        new_turn = turn_start < 0 or start - last_end >= pause
        if new_turn:
            if turn_start >= 0:
                turns.append(Turn(label_for(len(turns), speakers), turn_start, length))
                text.append(TURN_GAP)
                length += len(TURN_GAP)
            turn_start = length
        else:
            text.append(" ")
            length += 1
        timed.append(TimedSpan(length, length + len(body), _ms(start), _ms(end)))
        words.extend(_words(seg, body, length, start, end))
        text.append(body)
        length += len(body)
        last_end = end
    if turn_start >= 0:
        turns.append(Turn(label_for(len(turns), speakers), turn_start, length))
    return Transcript("".join(text), tuple(timed), tuple(turns), tuple(words))


def clean(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def remap(
    transcript: Transcript,
    new_text: str,
    map_span: Callable[[int, int], tuple[int, int]],
    relabel: Callable[[str], str] = lambda s: s,
) -> Transcript:
    """The same transcript after its text was rewritten (pseudonymised): spans moved."""

    def moved(span):
        start, end = map_span(span.start, span.end)
        return replace(span, start=start, end=end)

    return Transcript(
        new_text,
        tuple(moved(s) for s in transcript.segments),
        tuple(replace(moved(t), speaker=relabel(t.speaker)) for t in transcript.turns),
        (),
    )


def spans_to_times(
    words: Sequence[TimedSpan], spans: Sequence[tuple[int, int]], pad_ms: int = 150
) -> list[tuple[int, int]]:
    """The stretches of the recording (ms) where the text in `spans` was said, merged."""
    hits = sorted(
        (max(0, w.start_ms - pad_ms), w.end_ms + pad_ms)
        for w in words
        for s, e in spans
        if w.start < e and s < w.end
    )
    merged: list[tuple[int, int]] = []
    for start, end in hits:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _words(seg: Segment, body: str, offset: int, start: float, end: float) -> list[TimedSpan]:
    """Each recognised word's place in `body` (found in order) and time, within the segment."""
    out = []
    pos = 0
    for word in seg.words:
        token = clean(word.text)
        if not token:
            continue
        at = body.find(token, pos)
        if at < 0:
            continue
        pos = at + len(token)
        w_start = min(max(word.start, start), end)
        w_end = min(max(word.end, w_start), end)
        out.append(TimedSpan(offset + at, offset + pos, _ms(w_start), _ms(w_end)))
    return out


def _ms(seconds: float) -> int:
    return max(0, int(round(seconds * 1000)))
