"""Recordings and their timings between the store's snapshot and REFI-QDA (see docs/refi.md).

Export: a transcribed document keeps its <TextSource> (with every coding, as before) and gains
an <AudioSource> with the recording in the archive and one <Transcript> that names the same text
file, with a sync point at the start and at the end of every timed passage. Import: the sync
points become timed passages again (caseframe's own pairs exactly, another tool's points as the
stretches between neighbours) and the recording is stored as the document's media.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    RefiMedia,
    RefiProject,
    RefiSelection,
    RefiSource,
    RefiSyncPoint,
    guid_key,
)
from caseframe.interop.refi.read import normalise_source
from caseframe.interop.refi.values import clean, derived_guid, parse_timestamp, timestamp
from caseframe.store.snapshot import StoreData
from caseframe.util.atomic import atomic_write

#: Marks caseframe's layout in the extension data: sync points come in (start, end) pairs, one
#: pair per timed passage. Other tools' sync points are read as a sequence.
PAIRS = "start-end pairs"
_SUFFIXES = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
}
_MIME = {v: k for k, v in _SUFFIXES.items()} | {".wav": "audio/wav", ".opus": "audio/ogg"}
_UNKNOWN_TYPE = "application/octet-stream"
_SUFFIX_RE = re.compile(r"^\.[a-z0-9]{1,8}$")


# --------------------------------------------------------------------------- store -> REFI


def add_recordings(
    refi: RefiProject, data: StoreData, blocks_of: Callable[[int], Iterator[bytes]]
) -> None:
    """Give each source with a recording or timings its RefiMedia; `blocks_of(document id)`
    yields a recording's bytes and is called while the archive is written."""
    recordings = {m["document"]: m for m in data.media}
    sources = {guid_key(s.guid): s for s in refi.sources}
    x_docs = refi.extensions.setdefault("documents", {})
    for doc in data.documents:
        row, timed = recordings.get(doc["guid"]), doc.get("timed") or []
        if row is None and not timed:
            continue
        guid = row["guid"] if row else derived_guid("recording", guid_key(doc["guid"]))
        points = []
        for i, (start, end, start_ms, end_ms) in enumerate(timed):
            points.append(
                RefiSyncPoint(derived_guid("sync", guid, str(i), "start"), start, start_ms)
            )
            points.append(RefiSyncPoint(derived_guid("sync", guid, str(i), "end"), end, end_ms))
        media = RefiMedia(
            guid=guid,
            transcript_guid=derived_guid("transcript", guid),
            sync_points=points,
        )
        if row is not None:
            media.name = row["name"]
            media.entry = guid_key(guid) + media_suffix(row["name"], row["mime_type"])
            media.size = row["size"]
            media.blocks = _deferred(blocks_of, row["document_id"])
            media.created = timestamp(row["created_at"])
        sources[guid_key(doc["guid"])].media = media
        x_docs.setdefault(doc["guid"], {})["recording"] = clean(
            {
                "sync": PAIRS,
                "mime_type": row["mime_type"] if row else None,
                "duration_ms": row["duration_ms"] if row else None,
                "sha256": row["sha256"] if row else None,
            }
        )


def pseudonymised_recordings(refi: RefiProject) -> int:
    """How many recordings in the archive belong to pseudonymised documents."""
    docs = refi.extensions.get("documents", {})
    return sum(
        1
        for s in refi.sources
        if s.media is not None
        and s.media.blocks is not None
        and (docs.get(s.guid) or {}).get("pseudonymised")
    )


def media_suffix(name: str, mime_type: str | None) -> str:
    """The file suffix a recording is stored under: its name's, else one for its type."""
    suffix = Path(name).suffix.lower()
    if _SUFFIX_RE.match(suffix) and suffix != ".txt":
        return suffix
    return _SUFFIXES.get(mime_type or "", ".bin")


def _deferred(
    blocks_of: Callable[[int], Iterator[bytes]], document_id: int
) -> Callable[[], Iterator[bytes]]:
    return lambda: blocks_of(document_id)


# --------------------------------------------------------------------------- REFI -> store


def add_recordings_to_snapshot(refi: RefiProject, data: StoreData, report: LossReport) -> None:
    """Timed passages (documents' "timed") and recordings (data.media) from the sources' media.

    Call after from_refi: documents carry the GUIDs of their sources and their stored text."""
    x_docs = (refi.extensions or {}).get("documents", {})
    documents = {d["guid"]: d for d in data.documents}
    for source in refi.sources:
        media = source.media
        doc = documents.get(guid_key(source.guid))
        if media is None or doc is None:
            continue
        extra = (x_docs.get(guid_key(source.guid)) or {}).get("recording") or {}
        doc["timed"] = _timed(source, media, doc["text"], extra.get("sync") == PAIRS, report)
        if media.blocks is None:
            continue
        name = media.name or media.entry or source.name
        suffix = media_suffix(media.entry or name, extra.get("mime_type"))
        times = [p.time_ms for p in media.sync_points]
        data.media.append(
            {
                "document": doc["guid"],
                "guid": guid_key(media.guid),
                "name": name[:300],
                "mime_type": extra.get("mime_type")
                or _MIME.get(suffix, "application/octet-stream"),
                "size": media.size,
                "sha256": extra.get("sha256"),
                "duration_ms": extra.get("duration_ms") or max(times, default=0),
                "created_at": parse_timestamp(media.created),
                "suffix": suffix,
                "blocks": media.blocks,
            }
        )


def _timed(
    source: RefiSource, media: RefiMedia, text: str, pairs: bool, report: LossReport
) -> list[list[int]]:
    """[start, end, start_ms, end_ms] rows, positions mapped onto the stored (normalised) text."""
    points = media.sync_points
    if text != source.text:  # normalised on the way in: move the points with the text
        marks = [RefiSelection(p.guid, p.position, p.position) for p in points]
        _, moved = normalise_source(source.text, marks)
        points = [
            RefiSyncPoint(p.guid, m.start, p.time_ms) for p, m in zip(points, moved, strict=True)
        ]
    if pairs:
        spans = list(zip(points[0::2], points[1::2], strict=False))
    else:
        ordered = sorted(points, key=lambda p: (p.position, p.time_ms))
        spans = [
            (a, b) for a, b in zip(ordered, ordered[1:], strict=False) if a.position < b.position
        ]
    rows = []
    for a, b in spans:
        if 0 <= a.position < b.position <= len(text) and 0 <= a.time_ms <= b.time_ms:
            rows.append([a.position, b.position, a.time_ms, b.time_ms])
        else:
            report.lost("timed passages that do not fit their transcript", "empty or backwards")
    if pairs and len(points) % 2:
        report.lost("sync points without a partner", "a passage needs a start and an end")
    return rows


# --------------------------------------------------------------------------- files


class MediaFolder:
    """Where an import into an SQLite project puts recordings (the project's media folder);
    `discard()` removes what it wrote when the import does not commit."""

    def __init__(self, root: Path, folder: str):
        self.root, self.folder = root, folder
        self.written: list[Path] = []

    def save(self, name: str, blocks: Iterable[bytes]) -> str:
        """Write a recording atomically; returns its path relative to the project folder."""
        target = self.root / self.folder / name
        target.parent.mkdir(exist_ok=True)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                for block in blocks:
                    fh.write(block)

        atomic_write(target, write)
        self.written.append(target)
        return f"{self.folder}/{name}"

    def discard(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()
