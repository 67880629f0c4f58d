"""WebVTT (.vtt) and SubRip (.srt) captions to transcript text with speaker turns.

Cue numbers, ids, timings, styling tags and NOTE/STYLE/REGION blocks are dropped. Each cue
becomes one paragraph. A speaker comes from a WebVTT voice tag (`<v Name>`) or from a
"Name: text" line (Zoom writes these, and SubRip has nothing else). The first paragraph of a
speaker's run is written "Name: text", so `detect_turns` finds the same turns in the text; the
next cues by the same voice, or cues without a voice, continue that turn.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from caseframe.errors import InvalidInput
from caseframe.ingest.turns import split_label
from caseframe.model import SpeakerTurn

_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[^\s>]+)?[ \t]+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")  # "{\an8}" positioning codes found in .srt files
_VTT_SKIP = ("NOTE", "STYLE", "REGION")


@dataclass(frozen=True)
class Captions:
    text: str
    turns: tuple[SpeakerTurn, ...]
    warnings: tuple[str, ...]


def read_vtt(text: str, where: str) -> Captions:
    blocks = _blocks(text)
    warnings: list[str] = []
    if not blocks or not blocks[0][1][0].lstrip().startswith("WEBVTT"):
        warnings.append("no WEBVTT header line; read as WebVTT anyway")
    else:
        blocks = blocks[1:]
    pieces: list[tuple[str | None, str]] = []
    for line_no, lines in blocks:
        if lines[0].split(maxsplit=1)[0] in _VTT_SKIP:
            continue
        payload = _payload(lines)
        if payload is None:
            warnings.append(f"line {line_no}: not a cue (no timing line); skipped")
            continue
        pieces.extend(_cue_pieces(payload, voices=True))
    return _render(pieces, where, "WebVTT", warnings)


def read_srt(text: str, where: str) -> Captions:
    warnings: list[str] = []
    pieces: list[tuple[str | None, str]] = []
    for line_no, lines in _blocks(text):
        payload = _payload(lines)
        if payload is None:
            warnings.append(f"line {line_no}: not a subtitle block (no timing line); skipped")
            continue
        pieces.extend(_cue_pieces(payload, voices=False))
    return _render(pieces, where, "SubRip", warnings)


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as (1-based first line number, lines)."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _payload(lines: list[str]) -> list[str] | None:
    """Lines after the timing line (an optional cue id or number may precede it)."""
    for i, line in enumerate(lines[:2]):
        if _TIMING.match(line):
            return lines[i + 1 :]
    return None


def _cue_pieces(lines: list[str], voices: bool) -> list[tuple[str | None, str]]:
    """(speaker or None, text) runs of one cue; a new voice or label starts a new run."""
    pieces: list[tuple[str | None, list[str]]] = []
    for raw in lines:
        speaker = None
        voice = _VOICE.search(raw) if voices else None
        if voice:
            speaker = voice.group(1).strip()
        line = html.unescape(_TAG.sub("", _ASS_OVERRIDE.sub("", raw))).strip()
        if not line:
            continue
        if speaker is None:
            label = split_label(line)
            if label:
                speaker, line = label
        if speaker is not None or not pieces:
            pieces.append((speaker, [line] if line else []))
        else:
            pieces[-1][1].append(line)
    return [(speaker, " ".join(words)) for speaker, words in pieces if words]


def _render(
    pieces: list[tuple[str | None, str]], where: str, kind: str, warnings: list[str]
) -> Captions:
    if not pieces:
        raise InvalidInput(
            f"has no {kind} cues with text", where=where, hint="check that it is a caption file"
        )
    out: list[str] = []
    length = 0
    turns: list[SpeakerTurn] = []
    current: str | None = None
    turn_start = turn_end = 0
    for speaker, body in pieces:
        if out:
            out.append("\n\n")
            length += 2
        if speaker is not None and speaker != current:
            if current is not None:
                turns.append(SpeakerTurn(len(turns), current, turn_start, turn_end))
            current, turn_start = speaker, length
            body = f"{speaker}: {body}".rstrip()
        out.append(body)
        length += len(body)
        turn_end = length
    if current is not None:
        turns.append(SpeakerTurn(len(turns), current, turn_start, turn_end))
    return Captions("".join(out), tuple(turns), tuple(warnings))
