"""Memos on the project, a document, a case, a code or a coding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from caseframe.api.base import ProjectBase
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import Memo
from caseframe.store.lookup import case_row, code_row, document_row
from caseframe.store.queries import memos as q
from caseframe.util.names import closest

if TYPE_CHECKING:
    import pandas as pd

TARGETS = ("project", "document", "case", "code", "coding")


def check_target_type(target_type: str) -> None:
    if target_type not in TARGETS:
        near = closest(target_type, TARGETS)
        guess = f"did you mean '{near[0]}'? " if near else ""
        raise InvalidInput(
            f"unknown memo target '{target_type}'", hint=f"{guess}use {', '.join(TARGETS)}"
        )


def target_id(conn: Connection, target_type: str, target: str | int | None) -> int | None:
    """The id of what a memo is about, from what the user typed (a name, key, path or id)."""
    check_target_type(target_type)
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
    if not str(target).strip().isdigit() or not q.coding_exists(conn, int(target)):
        raise NotFound(f"unknown coding {target}", hint="list them with 'caseframe codings list'")
    return int(target)


def _required(conn: Connection, memo_id: int, author: str | None = None) -> Memo:
    memo = q.get(conn, memo_id)
    if memo is None:
        raise NotFound(f"unknown memo {memo_id}")
    if author is not None and memo.author != author:
        raise Conflict(f"memo {memo_id} was written by someone else", hint="change only yours")
    return memo


class MemosMixin(ProjectBase):
    def add_memo(
        self,
        target_type: str,
        target: str | int | None,
        text: str,
        author: str | None = None,
        title: str | None = None,
        *,
        actor: str | None = None,
    ) -> Memo:
        if not text.strip():
            raise InvalidInput("empty memo", hint="write the memo's text")
        with self.writing(actor) as w:
            memo = q.insert(
                w.conn, target_type, target_id(w.conn, target_type, target), text, author, title
            )
            w.audit("add", "memo", memo.id, None, memo)
        return Memo(memo.id, memo.target_type, memo.target_id, memo.text, memo.author, memo.title)

    def memo(self, memo_id: int) -> Memo:
        with self.store.read() as conn:
            return _required(conn, memo_id)

    def update_memo(
        self,
        memo_id: int,
        text: str,
        title: str | None = None,
        *,
        author: str | None = None,
        actor: str | None = None,
    ) -> Memo:
        """New text (and title) of a memo; with `author`, only that author's own memo."""
        if not text.strip():
            raise InvalidInput("empty memo", hint="write the memo's text, or delete the memo")
        with self.writing(actor) as w:
            before = _required(w.conn, memo_id, author)
            q.update(w.conn, memo_id, text, title)
            after = _required(w.conn, memo_id)
            w.audit("update", "memo", memo_id, before, after)
        return after

    def delete_memo(
        self, memo_id: int, *, author: str | None = None, actor: str | None = None
    ) -> None:
        """Delete a memo; with `author`, only that author's own memo."""
        with self.writing(actor) as w:
            before = _required(w.conn, memo_id, author)
            q.delete_one(w.conn, memo_id)
            w.audit("delete", "memo", memo_id, before, None)

    def memos_frame(
        self, target_type: str | None = None, target: str | int | None = None
    ) -> pd.DataFrame:
        import pandas as pd

        if target_type:
            check_target_type(target_type)
        with self.store.read() as conn:
            of_target = bool(target_type) and (target is not None or target_type == "project")
            tid = target_id(conn, target_type, target) if of_target else None
            memos = q.load(conn, target_type, tid, of_target=of_target)
        columns = ["id", "target_type", "target_id", "title", "text", "author"]
        return pd.DataFrame.from_records(
            [{c: getattr(m, c) for c in columns} for m in memos], columns=columns
        )
