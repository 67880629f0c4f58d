"""Loading recordings and timed passages: part of store/snapshot_load.py's one load.

Only documents this load added get them (a document already in the project keeps its own). The
recording's bytes are streamed, never held whole: into the project's media folder through
`save_file` (SQLite), or into 1 MiB block rows (PostgreSQL). Size and SHA-256 are computed from
the bytes stored, not taken from the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator

from caseframe.store import schema as t
from caseframe.store.core import new_guid
from caseframe.store.queries import media as mq
from caseframe.store.snapshot import Loader

#: save_file(file name, blocks) -> path relative to the project folder
SaveFile = Callable[[str, Iterable[bytes]], str]

_CHUNK = 5000


def load_media(loader: Loader, save_file: SaveFile | None) -> None:
    ids, fresh = loader.ids_of("document"), loader.inserted_documents
    rows, timed = [], set()
    for d in loader.data.documents:
        doc_id = ids.get(d["guid"])
        if doc_id in fresh and doc_id not in timed and d.get("timed"):
            timed.add(doc_id)
            rows += [
                {"document_id": doc_id, "idx": i, "start": s, "end": e, "start_ms": a, "end_ms": b}
                for i, (s, e, a, b) in enumerate(d["timed"])
            ]
    for i in range(0, len(rows), _CHUNK):
        loader.conn.execute(t.timed_segments.insert(), rows[i : i + _CHUNK])

    taken = mq.media_guids(loader.conn)
    with_media: set[int] = set()
    for m in loader.data.media:
        doc_id = ids.get(m["document"])
        if doc_id is None or doc_id not in fresh:
            loader.report.skipped(
                "recordings of documents already in the project", "the project's document is kept"
            )
            continue
        if doc_id in with_media:
            loader.report.lost("further recordings of one document", "a document has one")
            continue
        with_media.add(doc_id)
        guid = m["guid"] if m["guid"].upper() not in taken else new_guid()
        taken.add(guid.upper())
        counted = _Counted(m["blocks"]())
        values = {
            "document_id": doc_id,
            "name": m["name"],
            "mime_type": m["mime_type"],
            "duration_ms": int(m.get("duration_ms") or 0),
            "guid": guid,
            "created_at": m.get("created_at"),
        }
        if save_file is not None:
            path = save_file(f"{guid.lower()}{m['suffix']}", counted)
            media_id = mq.insert_media(
                loader.conn,
                **values,
                size=counted.size,
                sha256=counted.sha256,
                location="file",
                path=path,
            )
        else:
            media_id = mq.insert_media(
                loader.conn, **values, size=0, sha256="", location="store", path=None
            )
            mq.insert_blocks(loader.conn, media_id, _rechunk(counted, mq.BLOCK_SIZE))
            mq.set_media_content(loader.conn, media_id, counted.size, counted.sha256)
        if m.get("sha256") and m["sha256"] != counted.sha256:
            loader.report.warn(
                "recordings whose checksum differs from the exported one",
                "the archive's bytes were stored",
            )
        loader.result.count("recordings")


class _Counted:
    """Blocks passed through, counted and hashed on the way."""

    def __init__(self, blocks: Iterable[bytes]):
        self.blocks = blocks
        self.size = 0
        self._sha = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for block in self.blocks:
            self.size += len(block)
            self._sha.update(block)
            yield block

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def _rechunk(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Blocks of exactly `size` bytes (the last shorter): block rows are addressed by offset."""
    pending = bytearray()
    for block in blocks:
        pending += block
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)
