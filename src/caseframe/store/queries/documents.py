"""Documents: their text, speaker turns, meaning units and case links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select

from caseframe.errors import NotFound
from caseframe.model import Document, MeaningUnit, SpeakerTurn
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import document_case_keys, document_row
from caseframe.util.names import unknown

LIST_HINT = "caseframe documents list"
# (start, end, speaker) or (start, end, speaker, external id, split)
UnitSpan = Sequence[Any]


def find(conn: Connection, ref: str | int, *, length_only: bool = False) -> Row:
    """A document by id, name, or file name without its extension; an unknown name is refused
    with the closest known names. `length_only`: id, name and text length (see document_row)."""
    try:
        return document_row(conn, ref, length_only=length_only)
    except NotFound:
        names = list(conn.scalars(select(t.documents.c.name).order_by(t.documents.c.name)))
        raise unknown("document", str(ref), names, LIST_HINT) from None


def find_many(conn: Connection, refs: Iterable[str]) -> dict[str, Row | NotFound]:
    """Each reference's row (id, name, text), reading each document once: names in one query,
    the rest (ids, names without extension, unknowns) one by one. Unknown ones map to their
    error so a caller can report every row."""
    wanted = list(dict.fromkeys(refs))
    cols = (t.documents.c.id, t.documents.c.name, t.documents.c.text)
    found: dict[str, Row | NotFound] = {}
    by_name: dict[str, Row] = {}
    for chunk in _chunks(wanted, 500):
        for row in conn.execute(select(*cols).where(t.documents.c.name.in_(chunk))):
            by_name[row.name] = row
    by_id: dict[int, Row] = {r.id: r for r in by_name.values()}
    for ref in wanted:
        if ref in by_name and not ref.isdigit():
            found[ref] = by_name[ref]
            continue
        try:
            row = find(conn, ref)
        except NotFound as exc:
            found[ref] = exc
            continue
        if row.id not in by_id:
            by_id[row.id] = row
        found[ref] = by_id[row.id]
    return found


def names(conn: Connection) -> list[str]:
    return list(conn.scalars(select(t.documents.c.name).order_by(t.documents.c.name)))


def name_with_hash(conn: Connection, digest: str) -> str | None:
    """The document already holding this content, if any."""
    return conn.scalar(select(t.documents.c.name).where(t.documents.c.content_hash == digest))


def name_taken(conn: Connection, name: str) -> bool:
    return conn.scalar(select(t.documents.c.id).where(t.documents.c.name == name)) is not None


def free_name(conn: Connection, name: str) -> str:
    """`name`, or "stem (2).ext", "stem (3).ext", ... the first one not taken."""
    base, n = name, 2
    while name_taken(conn, name):
        name, n = f"{Path(base).stem} ({n}){Path(base).suffix}", n + 1
    return name


def insert(
    conn: Connection,
    *,
    name: str,
    text: str,
    content_hash: str,
    source_format: str,
    source_path: str | None,
    word_count: int,
    stamp: datetime | None = None,
) -> int:
    stamp = stamp or now()
    return conn.execute(
        t.documents.insert().values(
            name=name,
            text=text,
            content_hash=content_hash,
            source_format=source_format,
            source_path=source_path,
            word_count=word_count,
            pseudonymised=False,
            description="",
            meta={},
            guid=new_guid(),
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]


def all_rows(conn: Connection) -> list[Row]:
    return conn.execute(select(t.documents).order_by(t.documents.c.id)).all()


# -- speaker turns and meaning units --------------------------------------------------------------


def turns(conn: Connection, doc_id: int) -> list[SpeakerTurn]:
    return [
        SpeakerTurn(r.idx, r.speaker, r.start, r.end)
        for r in conn.execute(
            select(t.speaker_turns)
            .where(t.speaker_turns.c.document_id == doc_id)
            .order_by(t.speaker_turns.c.idx)
        )
    ]


def insert_turns(conn: Connection, doc_id: int, spans: Sequence[SpeakerTurn]) -> None:
    """Turns numbered in the order given (their own index is not used)."""
    if spans:
        conn.execute(
            t.speaker_turns.insert(),
            [
                {
                    "document_id": doc_id,
                    "idx": i,
                    "speaker": tr.speaker,
                    "start": tr.start,
                    "end": tr.end,
                }
                for i, tr in enumerate(spans)
            ],
        )


def insert_units(conn: Connection, doc_id: int, scheme: str, units: Sequence[UnitSpan]) -> None:
    """Units numbered in the order given; each (start, end, speaker[, external id, split])."""
    if units:
        conn.execute(
            t.meaning_units.insert(),
            [
                {
                    "document_id": doc_id,
                    "scheme": scheme,
                    "idx": i,
                    "start": u[0],
                    "end": u[1],
                    "speaker": u[2],
                    "external_id": u[3] if len(u) > 3 else None,
                    "split": u[4] if len(u) > 4 else None,
                }
                for i, u in enumerate(units)
            ],
        )


def delete_units(conn: Connection, doc_id: int, scheme: str) -> None:
    conn.execute(
        delete(t.meaning_units).where(
            t.meaning_units.c.document_id == doc_id, t.meaning_units.c.scheme == scheme
        )
    )


def unit_ids_by_external(conn: Connection, doc_id: int) -> dict[str, int]:
    return dict(
        conn.execute(
            select(t.meaning_units.c.external_id, t.meaning_units.c.id).where(
                t.meaning_units.c.document_id == doc_id
            )
        ).all()
    )


def meaning_units(
    conn: Connection, document_id: int | None = None, scheme: str | None = None
) -> list[MeaningUnit]:
    query = select(t.meaning_units).order_by(t.meaning_units.c.document_id, t.meaning_units.c.start)
    if document_id is not None:
        query = query.where(t.meaning_units.c.document_id == document_id)
    if scheme:
        query = query.where(t.meaning_units.c.scheme == scheme)
    return [
        MeaningUnit(
            id=r.id,
            document_id=r.document_id,
            scheme=r.scheme,
            index=r.idx,
            start=r.start,
            end=r.end,
            speaker=r.speaker,
            external_id=r.external_id,
            split=r.split,
        )
        for r in conn.execute(query)
    ]


# -- cases --------------------------------------------------------------------------------------


def link_case(conn: Connection, doc_id: int, case_id: int) -> bool:
    """Link a document to a case; False when it already was."""
    exists = conn.execute(
        select(t.document_cases).where(
            t.document_cases.c.document_id == doc_id, t.document_cases.c.case_id == case_id
        )
    ).first()
    if exists:
        return False
    conn.execute(t.document_cases.insert().values(document_id=doc_id, case_id=case_id))
    return True


def case_keys(conn: Connection, doc_id: int) -> tuple[str, ...]:
    return tuple(
        conn.scalars(
            select(t.cases.c.key)
            .join(t.document_cases, t.document_cases.c.case_id == t.cases.c.id)
            .where(t.document_cases.c.document_id == doc_id)
            .order_by(t.cases.c.key)
        )
    )


# -- reading whole documents -------------------------------------------------------------------


def to_document(conn: Connection, row: Row) -> Document:
    return Document(
        id=row.id,
        name=row.name,
        text=row.text,
        content_hash=row.content_hash,
        source_format=row.source_format,
        word_count=row.word_count,
        case_keys=case_keys(conn, row.id),
        turns=tuple(turns(conn, row.id)),
        imported_at=row.created_at,
        guid=row.guid,
        pseudonymised=row.pseudonymised,
    )


def listing(conn: Connection) -> list[dict[str, Any]]:
    """One dict per document (by name): its cases and counts of turns, units and codings."""
    docs = conn.execute(
        select(
            t.documents.c.id,
            t.documents.c.name,
            t.documents.c.word_count,
            t.documents.c.source_format,
            t.documents.c.pseudonymised,
        ).order_by(t.documents.c.name)
    ).all()
    counts = {
        name: dict(
            conn.execute(
                select(table.c.document_id, func.count()).group_by(table.c.document_id)
            ).all()
        )
        for name, table in (
            ("turns", t.speaker_turns),
            ("units", t.meaning_units),
            ("codings", t.codings),
        )
    }
    cases = document_case_keys(conn)
    return [
        {
            "id": d.id,
            "name": d.name,
            "cases": ", ".join(sorted(cases.get(d.id, []))),
            "words": d.word_count,
            "turns": counts["turns"].get(d.id, 0),
            "units": counts["units"].get(d.id, 0),
            "codings": counts["codings"].get(d.id, 0),
            "format": d.source_format,
            "pseudonymised": bool(d.pseudonymised),
        }
        for d in docs
    ]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
