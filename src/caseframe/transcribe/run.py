"""Recognising one recording chunk by chunk, resumable, with progress reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseframe.errors import InvalidInput
from caseframe.transcribe import audio, engine
from caseframe.transcribe.resume import ResumeState

PROMPT_CHARS = 200  # the end of the previous chunk, given to Whisper as context


@dataclass(frozen=True)
class Progress:
    path: Path
    done: float  # seconds of the recording finished
    total: float  # seconds in the recording (as its container states; 0 if unknown)
    elapsed: float  # seconds of work in this run
    resumed_from: float  # seconds already done by an earlier, interrupted run

    @property
    def real_time_factor(self) -> float | None:
        """Seconds of work per second of audio in this run (below 1: faster than real time)."""
        worked = self.done - self.resumed_from
        return self.elapsed / worked if worked > 0 else None


@dataclass(frozen=True)
class Recognised:
    segments: list[engine.Segment]
    language: str
    duration: float  # seconds decoded
    resumed_from: float
    elapsed: float


def recognise(
    info: audio.AudioInfo,
    model: Any,
    state: ResumeState,
    *,
    language: str | None,
    settings: engine.Settings = engine.Settings(),
    chunk_seconds: float = 300.0,
    on_progress: Callable[[Progress], None] | None = None,
) -> Recognised:
    """Transcribe the chunks not yet in `state`, saving it after each; return every passage.

    Raises InvalidInput for a silent recording or one where no speech was recognised.
    """
    began = time.monotonic()
    resumed_from = state.next_start
    if language is None and state.language:
        language = state.language  # the language found in the first chunk holds throughout
    end = state.next_start
    if on_progress:  # show the recording at once (a first chunk can take minutes)
        on_progress(Progress(info.path, end, max(info.duration, end), 0.0, resumed_from))
    for chunk in audio.chunks(info, chunk_seconds, state.next_start, state.next_index):
        loud = audio.loudest_dbfs(chunk.samples)
        found: list[engine.Segment] = []
        if loud >= audio.SILENCE_DBFS:
            prompt = " ".join(s.text.strip() for s in state.segments[-5:])[-PROMPT_CHARS:]
            found, detected = engine.transcribe_samples(
                model, chunk.samples, language, settings, prompt
            )
            language = language or detected
            state.language = language
        state.segments.extend(_shift(found, chunk.start, chunk.end))
        state.loudest = max(state.loudest, loud)
        state.next_index, state.next_start = chunk.index + 1, chunk.end
        state.save()
        end = chunk.end
        if on_progress:
            on_progress(
                Progress(
                    info.path,
                    chunk.end,
                    max(info.duration, chunk.end),
                    time.monotonic() - began,
                    resumed_from,
                )
            )
    if state.loudest < audio.SILENCE_DBFS:
        raise InvalidInput(
            "the recording is silent (no sound above "
            f"{audio.SILENCE_DBFS:g} dBFS); nothing to transcribe",
            where=str(info.path),
        )
    if not any(s.text.strip() for s in state.segments):
        raise InvalidInput(
            "no speech was recognised in the recording",
            where=str(info.path),
            hint="check the language (--language) and that the recording holds speech",
        )
    return Recognised(
        list(state.segments),
        state.language or language or "",
        end,
        resumed_from,
        time.monotonic() - began,
    )


def _shift(segments: list[engine.Segment], offset: float, limit: float) -> list[engine.Segment]:
    """Chunk-relative times → recording times, kept inside the chunk."""

    def at(t: float) -> float:
        return min(offset + max(t, 0.0), limit)

    return [
        engine.Segment(
            at(s.start),
            at(s.end),
            s.text,
            tuple(engine.Word(at(w.start), at(w.end), w.text) for w in s.words),
        )
        for s in segments
    ]
