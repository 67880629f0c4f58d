"""Codings and coders: one coding at a time, or many in one executemany."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import Coding, CodingStatus, Valence
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import code_row, coder_row
from caseframe.store.queries import documents
from caseframe.util.tree import CycleError, ancestors

VALENCES = frozenset(v.value for v in Valence)
# (document id, start, end, code id, coder id): at most one coding each (a unique constraint)
Key = tuple[int, int, int, int, int]


def check_range(start: int, end: int, length: int, document: str) -> None:
    """The one validation of a segment range, used by every interface."""
    if start < 0 or end > length or start >= end:
        raise InvalidInput(
            f"offsets {start}–{end} do not fit document '{document}' (valid: 0–{length}, "
            "start before end)",
            hint="give a start and an end inside the document",
        )


def check_valence(valence: str | None, strength: int | None) -> None:
    if valence is not None and valence not in VALENCES:
        raise InvalidInput(
            f"unknown valence '{valence}'", hint=f"use {', '.join(sorted(VALENCES))}"
        )
    if strength is not None:
        if strength not in (1, 2):
            raise InvalidInput(f"strength {strength} is not 1 or 2")
        if valence is None:
            raise InvalidInput("a strength needs a valence", hint="add --valence")


def duplicate(coder: str, start: int, end: int, document: str, other: str) -> Conflict:
    return Conflict(
        f"{coder} has already coded {start}–{end} of '{document}' with this code ({other})",
        hint="edit that coding instead",
    )


# -- one coding ---------------------------------------------------------------------------------


@functools.cache
def _get():  # built once: run for every coding applied in the workspace
    return select(t.codings).where(t.codings.c.id == bindparam("id"))


@functools.cache
def _same():
    c = t.codings.c
    return select(c.id).where(
        c.document_id == bindparam("document_id"),
        c.start == bindparam("start"),
        c.end == bindparam("end"),
        c.code_id == bindparam("code_id"),
        c.coder_id == bindparam("coder_id"),
    )


def get(conn: Connection, coding_id: int) -> Row | None:
    return conn.execute(_get(), {"id": coding_id}).first()


def require(conn: Connection, coding_id: int, coder: str | None = None) -> Row:
    """The coding's row; with `coder`, only if it is that coder's own."""
    row = get(conn, coding_id)
    if row is None:
        raise NotFound(f"unknown coding {coding_id}")
    if coder is not None:
        owner = coder_row(conn, coder, create=True)
        if row.coder_id != owner.id:
            raise Conflict(
                f"coding {coding_id} belongs to another coder", hint="you can change only your own"
            )
    return row


def to_coding(row: Row) -> Coding:
    return Coding(
        id=row.id,
        document_id=row.document_id,
        start=row.start,
        end=row.end,
        code_id=row.code_id,
        coder_id=row.coder_id,
        valence=row.valence,
        strength=row.strength,
        memo=row.memo,
        score=row.score,
        status=row.status,
        guid=row.guid,
    )


def same(conn: Connection, key: Key) -> int | None:
    """The id of the coding with this document, range, code and coder, if there is one."""
    doc_id, start, end, code_id, coder_id = key
    params = {"document_id": doc_id, "start": start, "end": end, "code_id": code_id}
    return conn.scalar(_same(), {**params, "coder_id": coder_id})


def insert(conn: Connection, values: Mapping[str, Any], stamp: datetime | None = None) -> int:
    return conn.execute(t.codings.insert(), _complete(values, stamp or now())).inserted_primary_key[
        0
    ]


def insert_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert codings with one executemany; each row: document_id, start, end, code_id,
    coder_id and optionally valence, strength, memo, score, status, meaning_unit_id, guid."""
    if not rows:
        return 0
    stamp = now()
    conn.execute(t.codings.insert(), [_complete(r, stamp) for r in rows])
    return len(rows)


def _complete(values: Mapping[str, Any], stamp: datetime) -> dict[str, Any]:
    return {
        "meaning_unit_id": None,
        "valence": None,
        "strength": None,
        "score": None,
        "status": CodingStatus.FINAL.value,
        **values,
        "memo": values.get("memo") or None,
        "guid": values.get("guid") or new_guid(),
        "created_at": stamp,
        "updated_at": stamp,
    }


def add(
    conn: Connection,
    document: str | int,
    start: int,
    end: int,
    code: str | int,
    coder: str,
    valence: str | None = None,
    strength: int | None = None,
    memo: str | None = None,
    *,
    score: float | None = None,
    status: str = CodingStatus.FINAL,
    coder_kind: str = "human",
    meaning_unit_id: int | None = None,
    guid: str | None = None,
) -> int:
    """Check and insert one coding given by names (or ids); returns its id."""
    doc = documents.find(conn, document, length_only=True)
    check_range(start, end, doc.length, doc.name)
    check_valence(valence, strength)
    code_id = code_row(conn, code).id
    coder_id = coder_row(conn, coder, create=True, kind=coder_kind).id
    key = (doc.id, start, end, code_id, coder_id)
    other = same(conn, key)
    if other is not None:
        raise duplicate(coder, start, end, doc.name, f"coding {other}")
    return insert(
        conn,
        {
            "document_id": doc.id,
            "start": start,
            "end": end,
            "code_id": code_id,
            "coder_id": coder_id,
            "meaning_unit_id": meaning_unit_id,
            "valence": valence,
            "strength": strength,
            "memo": memo,
            "score": score,
            "status": str(status),
            "guid": guid,
        },
    )


def update(conn: Connection, coding_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(
        t.codings.update().where(t.codings.c.id == coding_id).values(updated_at=now(), **values)
    )


def delete_one(conn: Connection, coding_id: int) -> None:
    conn.execute(delete(t.codings).where(t.codings.c.id == coding_id))


# -- many codings -------------------------------------------------------------------------------


def existing(conn: Connection, doc_ids: Iterable[int]) -> dict[Key, int]:
    """Every coding of these documents by (document, start, end, code, coder)."""
    ids = sorted(set(doc_ids))
    c = t.codings.c
    out: dict[Key, int] = {}
    for i in range(0, len(ids), 500):
        query = select(c.id, c.document_id, c.start, c.end, c.code_id, c.coder_id).where(
            c.document_id.in_(ids[i : i + 500])
        )
        for r in conn.execute(query):
            out[(r.document_id, r.start, r.end, r.code_id, r.coder_id)] = r.id
    return out


def listing(
    conn: Connection,
    *,
    code_ids: Sequence[int] | None = None,
    coder_ids: Sequence[int] | None = None,
    document_ids: Sequence[int] | None = None,
    human_only: bool = True,
) -> list[Row]:
    """Codings with document name and text, code name, coder name and kind; ordered by
    document name, start, id. `coder_ids` given: those coders (whatever their kind)."""
    query = (
        select(
            t.codings,
            t.documents.c.name.label("document"),
            t.documents.c.text.label("doc_text"),
            t.codes.c.name.label("code"),
            t.coders.c.name.label("coder"),
            t.coders.c.kind.label("coder_kind"),
        )
        .join(t.documents, t.documents.c.id == t.codings.c.document_id)
        .join(t.codes, t.codes.c.id == t.codings.c.code_id)
        .join(t.coders, t.coders.c.id == t.codings.c.coder_id)
        .order_by(t.documents.c.name, t.codings.c.start, t.codings.c.id)
    )
    if code_ids is not None:
        query = query.where(t.codings.c.code_id.in_(code_ids))
    if coder_ids:
        query = query.where(t.codings.c.coder_id.in_(coder_ids))
    elif human_only:
        query = query.where(t.coders.c.kind == "human")
    if document_ids:
        query = query.where(t.codings.c.document_id.in_(document_ids))
    return conn.execute(query).all()


def code_paths(conn: Connection) -> dict[int, str]:
    """Every code's path 'Theme/Category/Code', from one query."""
    rows = conn.execute(select(t.codes.c.id, t.codes.c.name, t.codes.c.parent_id)).all()
    name = {r.id: r.name for r in rows}
    parent = {r.id: r.parent_id for r in rows}
    out = {}
    for code_id in name:
        try:
            chain = ancestors(code_id, parent)
        except CycleError:  # a damaged tree: show the code alone rather than fail a listing
            chain = []
        out[code_id] = "/".join(name[i] for i in [*reversed(chain), code_id] if i in name)
    return out


def code_under(conn: Connection, name: str, parent_id: int | None) -> int | None:
    """The id of the code named exactly `name` under `parent_id` (None: the top level)."""
    parent = t.codes.c.parent_id
    return conn.scalar(
        select(t.codes.c.id).where(
            t.codes.c.name == name, parent.is_(None) if parent_id is None else parent == parent_id
        )
    )


# -- coders -------------------------------------------------------------------------------------


def coders(conn: Connection) -> list[Row]:
    return conn.execute(select(t.coders).order_by(t.coders.c.name)).all()


def mark_coded(conn: Connection, coder_ids: Iterable[int], doc_id: int) -> None:
    """Record that these coders coded the whole document (agreement counts it as coded)."""
    rows = [{"coder_id": cid, "document_id": doc_id, "status": "done"} for cid in coder_ids]
    if rows:
        conn.execute(t.coder_documents.insert(), rows)
