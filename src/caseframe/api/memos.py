"""Memos on the project, a document, a case, a code or a coding."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from caseframe.errors import InvalidInput, NotFound
from caseframe.model import Memo
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import case_row, code_row, document_row

TARGETS = ("project", "document", "case", "code", "coding")


def target_id(conn: Connection, target_type: str, target: str | int | None) -> int | None:
    if target_type not in TARGETS:
        raise InvalidInput(f"unknown memo target '{target_type}'", hint=f"use {', '.join(TARGETS)}")
    if target_type == "project":
        return None
    if target is None:
        raise InvalidInput(f"a {target_type} memo needs the {target_type} it is about")
    if target_type == "document":
        return document_row(conn, target).id
    if target_type == "case":
        return case_row(conn, str(target)).id
    if target_type == "code":
        return code_row(conn, target).id
    row = conn.execute(select(t.codings.c.id).where(t.codings.c.id == int(target))).first()
    if row is None:
        raise NotFound(f"unknown coding {target}")
    return row.id


class MemosMixin:
    store: Any

    def add_memo(
        self,
        target_type: str,
        target: str | int | None,
        text: str,
        author: str | None = None,
        title: str | None = None,
    ) -> Memo:
        if not text.strip():
            raise InvalidInput("empty memo", hint="write the memo's text")
        with self.store.transaction() as conn:
            tid = target_id(conn, target_type, target)
            stamp = now()
            memo_id = conn.execute(
                t.memos.insert().values(
                    target_type=target_type,
                    target_id=tid,
                    title=title,
                    text=text,
                    author=author,
                    guid=new_guid(),
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]
        return Memo(memo_id, target_type, tid, text, author, title)

    def memos_frame(self, target_type: str | None = None, target: str | int | None = None):
        with self.store.read() as conn:
            query = select(t.memos).order_by(t.memos.c.id)
            if target_type:
                query = query.where(t.memos.c.target_type == target_type)
                if target is not None or target_type == "project":
                    query = query.where(
                        t.memos.c.target_id == target_id(conn, target_type, target)
                        if target_type != "project"
                        else t.memos.c.target_id.is_(None)
                    )
            rows = conn.execute(query).all()
        return pd.DataFrame.from_records(
            [
                {
                    "id": r.id,
                    "target_type": r.target_type,
                    "target_id": r.target_id,
                    "title": r.title,
                    "text": r.text,
                    "author": r.author,
                }
                for r in rows
            ],
            columns=["id", "target_type", "target_id", "title", "text", "author"],
        )
