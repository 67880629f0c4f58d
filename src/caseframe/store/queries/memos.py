"""Memos on the project, a document, a case, a code or a coding."""

from __future__ import annotations

from sqlalchemy import Connection, select

from caseframe.model import Memo
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now


def insert(
    conn: Connection,
    target_type: str,
    target_id: int | None,
    text: str,
    author: str | None = None,
    title: str | None = None,
) -> Memo:
    stamp = now()
    guid = new_guid()
    memo_id = conn.execute(
        t.memos.insert().values(
            target_type=target_type,
            target_id=target_id,
            title=title,
            text=text,
            author=author,
            guid=guid,
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]
    return Memo(memo_id, target_type, target_id, text, author, title, guid)


def coding_exists(conn: Connection, coding_id: int) -> bool:
    return (
        conn.execute(select(t.codings.c.id).where(t.codings.c.id == coding_id)).first() is not None
    )


def load(
    conn: Connection,
    target_type: str | None = None,
    target_id: int | None = None,
    *,
    of_target: bool = False,
) -> list[Memo]:
    """Memos in the order written; of one kind of target, and with `of_target` of one target
    (`target_id` None: the project's own memos)."""
    m = t.memos.c
    query = select(t.memos).order_by(m.id)
    if target_type:
        query = query.where(m.target_type == target_type)
        if of_target:
            query = query.where(
                m.target_id.is_(None) if target_id is None else m.target_id == target_id
            )
    return [
        Memo(r.id, r.target_type, r.target_id, r.text, r.author, r.title, r.guid)
        for r in conn.execute(query)
    ]


def get(conn: Connection, memo_id: int) -> Memo | None:
    r = conn.execute(select(t.memos).where(t.memos.c.id == memo_id)).first()
    return (
        None
        if r is None
        else Memo(r.id, r.target_type, r.target_id, r.text, r.author, r.title, r.guid)
    )


def update(conn: Connection, memo_id: int, text: str, title: str | None) -> None:
    conn.execute(
        t.memos.update()
        .where(t.memos.c.id == memo_id)
        .values(text=text, title=title, updated_at=now())
    )


def delete_one(conn: Connection, memo_id: int) -> None:
    conn.execute(t.memos.delete().where(t.memos.c.id == memo_id))
