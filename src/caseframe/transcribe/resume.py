"""Resume state: what an unfinished transcription has recognised so far, chunk by chunk.

After each finished chunk the recognised passages and the offset where the next chunk starts are
written to a small JSON file, named after the recording's SHA-256 and the settings that shape
the result, so a run that was interrupted (Ctrl-C, a crash, a closed laptop) starts again at
the next chunk. The file holds transcript text that has not been pseudonymised yet, so it lives
outside the project folder (like the key file), readable only by its owner, and is deleted once
the document is stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from caseframe.transcribe.engine import Segment, Word
from caseframe.util.atomic import atomic_write

STATE_ENV = "CASEFRAME_TRANSCRIBE_STATE"
FORMAT = 1


def default_state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "caseframe" / "transcribe"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ResumeState:
    path: Path
    fingerprint: dict
    next_index: int = 0
    next_start: float = 0.0
    language: str | None = None
    loudest: float = float("-inf")
    segments: list[Segment] = field(default_factory=list)

    @classmethod
    def open(cls, folder: Path, audio_sha256: str, fingerprint: dict) -> ResumeState:
        """The saved state of this recording under these settings, or a fresh one."""
        settings = json.dumps(fingerprint, sort_keys=True).encode()
        name = f"{audio_sha256[:32]}-{hashlib.sha256(settings).hexdigest()[:12]}.json"
        state = cls(folder / name, {"audio_sha256": audio_sha256, **fingerprint})
        try:
            data = json.loads(state.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return state
        if data.get("format") != FORMAT or data.get("fingerprint") != state.fingerprint:
            return state
        state.next_index = int(data["next_index"])
        state.next_start = float(data["next_start"])
        state.language = data.get("language")
        state.loudest = float(data.get("loudest", float("-inf")))
        state.segments = [
            Segment(s, e, text, tuple(Word(*w) for w in words))
            for s, e, text, words in data["segments"]
        ]
        return state

    @property
    def resumed(self) -> bool:
        return self.next_index > 0

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "next_index": self.next_index,
            "next_start": self.next_start,
            "language": self.language,
            "loudest": self.loudest if self.loudest != float("-inf") else -1e9,
            "segments": [
                [s.start, s.end, s.text, [[w.start, w.end, w.text] for w in s.words]]
                for s in self.segments
            ],
        }
        atomic_write(self.path, json.dumps(data, ensure_ascii=False), private=True)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
