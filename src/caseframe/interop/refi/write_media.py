"""Recordings in a .qdpx being written: which go into the archive, and writing one in blocks."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator

from caseframe.errors import InvalidInput
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import RefiProject

#: The largest file REFI-QDA 1.5 allows inside an archive (section 8.5); also zip's limit without
#: ZIP64 extensions.
MAX_INTERNAL_FILE = 2**31 - 1
_ENTRY_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,199}$")


def carried_media(project: RefiProject, report: LossReport) -> set[str]:
    """Entry names of the recordings that go into the archive; a recording over the REFI limit
    stays out (its timings are still written), and the report says so."""
    carried: set[str] = set()
    for source in project.sources:
        media = source.media
        if media is None or media.entry is None or media.blocks is None:
            continue
        if not _ENTRY_RE.match(media.entry) or media.entry.casefold().endswith(".txt"):
            raise InvalidInput(f"recording {media.entry!r} of {source.name!r} has an unusable name")
        if media.entry.casefold() in {c.casefold() for c in carried}:
            raise InvalidInput(f"two recordings would be stored as sources/{media.entry}")
        if media.size is not None and media.size > MAX_INTERNAL_FILE:
            report.lost(
                "recordings larger than 2 GiB",
                "REFI-QDA 1.5 allows at most 2^31-1 bytes per file in an archive (section 8.5); "
                "their timings were exported",
            )
            continue
        carried.add(media.entry)
    return carried


def write_stream(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, blocks: Callable[[], Iterator[bytes]]
) -> None:
    """A recording, block by block. Stored, not deflated: audio is compressed already, and a
    deflated quiet WAV would look like a zip bomb (a huge ratio) to the importer's guard."""
    info.compress_type = zipfile.ZIP_STORED
    written = 0
    with archive.open(info, "w") as entry:
        for block in blocks():
            written += len(block)
            if written > MAX_INTERNAL_FILE:
                raise InvalidInput(
                    f"{info.filename} is larger than REFI-QDA allows in an archive (2^31-1 bytes)",
                    hint="export without recordings (media=False); nothing was written",
                )
            entry.write(block)
