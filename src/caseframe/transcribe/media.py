"""A document's recording: what is known about it and its timings, and the file itself
(copied beside the project, read in blocks or by byte range)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseframe.model import SpeakerTurn
from caseframe.util.atomic import atomic_write


@dataclass(frozen=True)
class MediaInfo:
    document_id: int
    name: str
    mime_type: str
    size: int
    duration_ms: int
    sha256: str


@dataclass(frozen=True)
class Timeline:
    document_id: int
    media: MediaInfo | None
    segments: list[Any]  # rows: start, end (characters), start_ms, end_ms
    turns: list[SpeakerTurn]


def media_info(row: Any) -> MediaInfo | None:
    """A `media` row as MediaInfo (None for no row)."""
    if row is None:
        return None
    return MediaInfo(
        row.document_id, row.name, row.mime_type, row.size, row.duration_ms, row.sha256
    )


def copy_into(src: Path, dst: Path) -> None:
    """Copy `src` to `dst` (its folder made if needed), complete or not at all."""
    dst.parent.mkdir(exist_ok=True)
    atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))


def blocks(path: Path, size: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(size), b"")


def byte_range(path: Path, start: int, end: int, block: int = 1 << 16) -> Iterator[bytes]:
    """Bytes [start, end) of the file, in blocks."""
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            data = fh.read(min(block, left))
            if not data:
                return
            left -= len(data)
            yield data
