"""Subtitles from a transcribed document: WebVTT (with voice tags) and SubRip.

Each timed passage becomes one or more cues of at most two lines; a long passage is split at
word boundaries and its time shared out by length, the way captioning guidelines keep a cue
readable. The speaker is the label of the turn the passage lies in (`<v Name>` in WebVTT,
"Name: " in SubRip), which caseframe's own importer reads back as turns.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LINE_CHARS = 42


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    speaker: str | None
    text: str


def cues(text: str, segments: Sequence[Any], turns: Sequence[Any]) -> list[Cue]:
    """Cues for rows with start/end (characters) and start_ms/end_ms; turns give speakers."""
    ordered = sorted(turns, key=lambda tr: tr.start)
    out: list[Cue] = []
    for seg in segments:
        speaker = next((tr.speaker for tr in ordered if tr.start <= seg.start < tr.end), None)
        out.extend(_split(Cue(seg.start_ms, seg.end_ms, speaker, text[seg.start : seg.end])))
    return out


def _split(cue: Cue) -> list[Cue]:
    """Lines of at most LINE_CHARS, two to a cue; the passage's time shared out by length."""
    lines = textwrap.wrap(" ".join(cue.text.split()), LINE_CHARS, break_long_words=False)
    if len(lines) <= 2:
        return [Cue(cue.start_ms, cue.end_ms, cue.speaker, "\n".join(lines))]
    pieces = ["\n".join(lines[i : i + 2]) for i in range(0, len(lines), 2)]
    total = sum(len(p) for p in pieces)
    span = cue.end_ms - cue.start_ms
    out, done = [], 0
    for piece in pieces:
        start = cue.start_ms + span * done // total
        done += len(piece)
        out.append(Cue(start, cue.start_ms + span * done // total, cue.speaker, piece))
    return out


def _stamp(ms: int, sep: str) -> str:
    hours, rest = divmod(max(ms, 0), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(items: Sequence[Cue]) -> str:
    blocks = ["WEBVTT"]
    for n, cue in enumerate(items, 1):
        body = _escape(cue.text)
        if cue.speaker:
            body = f"<v {_escape(cue.speaker)}>{body}"
        timing = f"{_stamp(cue.start_ms, '.')} --> {_stamp(cue.end_ms, '.')}"
        blocks.append(f"{n}\n{timing}\n{body}")
    return "\n\n".join(blocks) + "\n"


def to_srt(items: Sequence[Cue]) -> str:
    blocks = []
    for n, cue in enumerate(items, 1):
        body = f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text
        timing = f"{_stamp(cue.start_ms, ',')} --> {_stamp(cue.end_ms, ',')}"
        blocks.append(f"{n}\n{timing}\n{body}")
    return "\n\n".join(blocks) + "\n"


FORMATS = {"vtt": to_vtt, "srt": to_srt}
