"""faster-whisper (CTranslate2) from a model folder the user names; never a download.

The folder is what `ct2-transformers-converter` writes (or a published faster-whisper
conversion): model.bin, config.json and tokenizer.json (or vocabulary.*). It is checked before
anything is loaded, so a wrong path is one clear line, and a loaded model is kept for the
process (the web server and the tests load it once).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from caseframe.errors import InvalidInput, NotFound

MODEL_HINT = (
    "name a folder with a Whisper model converted for CTranslate2 (model.bin, config.json, "
    "tokenizer.json); docs/transcription.md says how to get one"
)
EXTRA_HINT = "install the transcription extra: pip install 'caseframe[transcribe]'"


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    """One passage Whisper recognised; times in seconds from the start of the recording."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = field(default=())


@dataclass(frozen=True)
class Settings:
    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 0  # 0: CTranslate2 decides
    beam_size: int = 1
    vad: bool = True  # skip stretches without speech (Silero VAD shipped with faster-whisper)


def check_model_folder(path: str | Path) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise NotFound("no such model folder", where=str(folder), hint=MODEL_HINT)
    if not folder.is_dir():
        raise InvalidInput("the model path is not a folder", where=str(folder), hint=MODEL_HINT)
    missing = [name for name in ("model.bin", "config.json") if not (folder / name).is_file()]
    if not any(
        (folder / n).is_file() for n in ("tokenizer.json", "vocabulary.json", "vocabulary.txt")
    ):
        missing.append("tokenizer.json")
    if missing:
        raise InvalidInput(
            f"not a CTranslate2 Whisper model folder (no {', '.join(missing)})",
            where=str(folder),
            hint=MODEL_HINT,
        )
    return folder.resolve()


def languages() -> tuple[str, ...]:
    """The language codes Whisper knows."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return tuple(_LANGUAGE_CODES)


def check_language(language: str) -> str | None:
    """`auto` → None (Whisper detects it); a Whisper language code → itself; else an error."""
    language = (language or "auto").strip().lower()
    if language == "auto":
        return None
    known = languages()
    if language not in known:
        from caseframe.util.names import closest

        near = closest(language, known)
        guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
        raise InvalidInput(
            f"unsupported language '{language}'",
            hint=guess + "use a Whisper language code such as sv or en, or auto",
        )
    return language


def require_faster_whisper() -> None:
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        raise InvalidInput("faster-whisper is not installed", hint=EXTRA_HINT) from None


@functools.lru_cache(maxsize=1)
def _load(folder: str, device: str, compute_type: str, threads: int) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(folder, device=device, compute_type=compute_type, cpu_threads=threads)


def load_model(path: str | Path, settings: Settings = Settings()) -> Any:
    """The WhisperModel in `path`; one loaded model is kept for the process."""
    require_faster_whisper()
    folder = check_model_folder(path)
    threads = settings.threads or min(os.cpu_count() or 1, 8)
    try:
        return _load(str(folder), settings.device, settings.compute_type, threads)
    except (RuntimeError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(
            f"cannot load the model ({reason})", where=str(folder), hint=MODEL_HINT
        ) from None


def check_model_language(model: Any, language: str | None, where: str) -> None:
    if language not in (None, "en") and not model.model.is_multilingual:
        raise InvalidInput(
            f"the model knows only English; it cannot transcribe '{language}'",
            where=where,
            hint="use a multilingual Whisper model (not a '.en' one)",
        )


def transcribe_samples(
    model: Any,
    samples: np.ndarray,
    language: str | None,
    settings: Settings = Settings(),
    prompt: str | None = None,
) -> tuple[list[Segment], str]:
    """Recognise one chunk; times are relative to the chunk. Returns (segments, language)."""
    raw, info = model.transcribe(
        samples,
        language=language,
        beam_size=settings.beam_size,
        word_timestamps=True,
        vad_filter=settings.vad,
        initial_prompt=prompt or None,
        condition_on_previous_text=True,
    )
    return [_segment(s) for s in raw], info.language


def _segment(raw: Any) -> Segment:
    words: Iterable[Any] = raw.words or ()
    return Segment(
        start=float(raw.start),
        end=float(raw.end),
        text=raw.text,
        words=tuple(Word(float(w.start), float(w.end), w.word) for w in words),
    )
