"""Recordings and their timings: media rows, audio blocks, timed segments, turn labels.

Also the few document writes a transcription needs (the transcribed document, its turns and
meaning units) until a shared documents module holds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select, update

from caseframe.store import schema as t
from caseframe.store.core import new_guid, now

BLOCK_SIZE = 1 << 20  # audio kept in the database is split into 1 MiB rows


# -- documents ------------------------------------------------------------------------------------


def document_with_hash(conn: Connection, digest: str) -> str | None:
    return conn.scalar(select(t.documents.c.name).where(t.documents.c.content_hash == digest))


def free_document_name(conn: Connection, name: str) -> str:
    """`name`, or `stem (2).ext`, `stem (3).ext`, ... when it is taken."""
    taken = set(conn.scalars(select(t.documents.c.name)))
    if name not in taken:
        return name
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot else (name, "")
    n = 2
    while f"{stem} ({n}){suffix}" in taken:
        n += 1
    return f"{stem} ({n}){suffix}"


def insert_document(
    conn: Connection,
    *,
    name: str,
    text: str,
    content_hash: str,
    word_count: int,
    source_path: str | None,
    pseudonymised: bool,
    meta: dict,
) -> int:
    stamp = now()
    return conn.execute(
        t.documents.insert().values(
            name=name,
            text=text,
            content_hash=content_hash,
            source_format="audio",
            source_path=source_path,
            word_count=word_count,
            pseudonymised=pseudonymised,
            description="",
            meta=meta,
            guid=new_guid(),
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]


def link_case(conn: Connection, document_id: int, case_id: int) -> None:
    conn.execute(t.document_cases.insert().values(document_id=document_id, case_id=case_id))


def insert_turns(conn: Connection, document_id: int, turns: Iterable[Any]) -> None:
    rows = [
        {
            "document_id": document_id,
            "idx": i,
            "speaker": tr.speaker,
            "start": tr.start,
            "end": tr.end,
        }
        for i, tr in enumerate(turns)
    ]
    if rows:
        conn.execute(t.speaker_turns.insert(), rows)


def insert_units(
    conn: Connection, document_id: int, scheme: str, units: Iterable[tuple[int, int, Any]]
) -> int:
    rows = [
        {
            "document_id": document_id,
            "scheme": scheme,
            "idx": i,
            "start": s,
            "end": e,
            "speaker": spk,
        }
        for i, (s, e, spk) in enumerate(units)
    ]
    if rows:
        conn.execute(t.meaning_units.insert(), rows)
    return len(rows)


# -- timed segments -------------------------------------------------------------------------------


def insert_timed_segments(conn: Connection, document_id: int, segments: Iterable[Any]) -> int:
    rows = [
        {
            "document_id": document_id,
            "idx": i,
            "start": s.start,
            "end": s.end,
            "start_ms": s.start_ms,
            "end_ms": s.end_ms,
        }
        for i, s in enumerate(segments)
    ]
    if rows:
        conn.execute(t.timed_segments.insert(), rows)
    return len(rows)


def timed_segments(conn: Connection, document_id: int) -> list[Row]:
    return list(
        conn.execute(
            select(t.timed_segments)
            .where(t.timed_segments.c.document_id == document_id)
            .order_by(t.timed_segments.c.idx)
        )
    )


# -- speaker turns --------------------------------------------------------------------------------


def turns(conn: Connection, document_id: int) -> list[Row]:
    return list(
        conn.execute(
            select(t.speaker_turns)
            .where(t.speaker_turns.c.document_id == document_id)
            .order_by(t.speaker_turns.c.idx)
        )
    )


def turn(conn: Connection, document_id: int, index: int) -> Row | None:
    return conn.execute(
        select(t.speaker_turns).where(
            t.speaker_turns.c.document_id == document_id, t.speaker_turns.c.idx == index
        )
    ).first()


def turn_count(conn: Connection, document_id: int) -> int:
    return (
        conn.scalar(select(func.count()).where(t.speaker_turns.c.document_id == document_id)) or 0
    )


def set_turn_speaker(conn: Connection, document_id: int, index: int, speaker: str) -> None:
    """Relabel one turn, and the meaning units that lie inside it."""
    row = turn(conn, document_id, index)
    if row is None:
        return
    conn.execute(
        update(t.speaker_turns).where(t.speaker_turns.c.id == row.id).values(speaker=speaker)
    )
    units = t.meaning_units.c
    conn.execute(
        update(t.meaning_units)
        .where(
            and_(
                units.document_id == document_id,
                units.start >= row.start,
                units.end <= row.end,
                units.speaker.is_not(None),
            )
        )
        .values(speaker=speaker)
    )


# -- media ----------------------------------------------------------------------------------------


def insert_media(
    conn: Connection,
    *,
    document_id: int,
    name: str,
    mime_type: str,
    size: int,
    sha256: str,
    duration_ms: int,
    location: str,
    path: str | None,
    guid: str | None = None,
    created_at: Any = None,
) -> int:
    return conn.execute(
        t.media.insert().values(
            document_id=document_id,
            name=name,
            mime_type=mime_type,
            size=size,
            sha256=sha256,
            duration_ms=duration_ms,
            location=location,
            path=path,
            guid=guid or new_guid(),
            created_at=created_at or now(),
        )
    ).inserted_primary_key[0]


def insert_blocks(conn: Connection, media_id: int, blocks: Iterable[bytes]) -> int:
    """Store the audio one block per row (never the whole file in one statement)."""
    count = 0
    for seq, data in enumerate(blocks):
        conn.execute(t.media_blocks.insert().values(media_id=media_id, seq=seq, data=data))
        count += 1
    return count


def media_for_document(conn: Connection, document_id: int) -> Row | None:
    return conn.execute(select(t.media).where(t.media.c.document_id == document_id)).first()


def read_blocks(
    conn: Connection, media_id: int, start: int, end: int, block_size: int = BLOCK_SIZE
) -> Iterator[bytes]:
    """Bytes [start, end) of audio kept in the database, one block row at a time."""
    first, last = start // block_size, (end - 1) // block_size
    for seq in range(first, last + 1):
        data = conn.scalar(
            select(t.media_blocks.c.data).where(
                t.media_blocks.c.media_id == media_id, t.media_blocks.c.seq == seq
            )
        )
        if data is None:
            return
        lo = start - seq * block_size if seq == first else 0
        hi = end - seq * block_size if seq == last else len(data)
        yield bytes(data[lo:hi])


# -- the whole store (REFI exchange) --------------------------------------------------------------


def timed_by_document(conn: Connection) -> dict[int, list[list[int]]]:
    """Every document's timed passages as [start, end, start_ms, end_ms], in order."""
    c = t.timed_segments.c
    found: dict[int, list[list[int]]] = {}
    for r in conn.execute(
        select(c.document_id, c.start, c.end, c.start_ms, c.end_ms).order_by(c.document_id, c.idx)
    ):
        found.setdefault(r.document_id, []).append([r.start, r.end, r.start_ms, r.end_ms])
    return found


def all_media(conn: Connection) -> list[Row]:
    return list(conn.execute(select(t.media).order_by(t.media.c.document_id)))


def media_guids(conn: Connection) -> set[str]:
    return {g.upper() for g in conn.scalars(select(t.media.c.guid))}


def set_media_content(conn: Connection, media_id: int, size: int, sha256: str) -> None:
    """Size and checksum of audio whose blocks were stored after its row (streamed in)."""
    conn.execute(update(t.media).where(t.media.c.id == media_id).values(size=size, sha256=sha256))
