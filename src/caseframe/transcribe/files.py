"""Recording files: copying one beside the project, reading it in blocks or by byte range."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from caseframe.util.atomic import atomic_write


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
