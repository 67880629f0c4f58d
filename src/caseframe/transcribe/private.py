"""Pseudonymising a transcript before it is stored: the text, the file name, the speaker labels,
and where in the recording each replaced name was said (so the audio can be muted there).

The detections come from the project's privacy scan (`Project.scan_texts`, with the key); this
module applies the accepted ones with `caseframe.privacy.pseudonymise` and moves every span.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from caseframe.privacy import pseudonymise
from caseframe.transcribe import transcript
from caseframe.transcribe.transcript import Transcript

_SPACES = str.maketrans("_-.", "   ")  # a file name's separators read as spaces when scanning


def targets(text: Transcript, name: str) -> dict[str, str]:
    """What to scan: {target: text} for the transcript, its file name and each label."""
    out = {name: text.text, file_target(name): name.translate(_SPACES)}
    out.update({label_target(name, label): label for label in labels(text)})
    return out


def labels(text: Transcript) -> list[str]:
    return sorted({t.speaker for t in text.turns})


def file_target(name: str) -> str:
    return f"{name} (file name)"


def label_target(name: str, label: str) -> str:
    return f"{name} (speaker {label})"


def apply(
    text: Transcript, name: str, accepted: dict[str, list[Any]], book: Any
) -> tuple[Transcript, str, list[tuple[int, int]]]:
    """(pseudonymised transcript, file name, stretches of audio to mute in ms); `book` learns
    any new pseudonyms (save the key afterwards, before storing)."""
    dets = accepted.get(name, [])
    new_text, offsets, _r = pseudonymise(text.text, dets, book)
    name_dets = [
        dataclasses.replace(d, text=name[d.start : d.end])
        for d in accepted.get(file_target(name), [])
    ]
    new_name = pseudonymise(name, name_dets, book)[0].replace("/", "-") if name_dets else name
    relabelled = {
        label: pseudonymise(label, accepted[label_target(name, label)], book)[0]
        for label in labels(text)
        if accepted.get(label_target(name, label))
    }
    mute = transcript.spans_to_times(text.words, [(d.start, d.end) for d in dets])
    moved = transcript.remap(text, new_text, offsets.map_span, lambda s: relabelled.get(s, s))
    return moved, new_name, mute
