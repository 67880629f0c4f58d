"""The project's change sequence, for live updates in the web workspace.

Every API write records an audit entry in the change's transaction and entry ids only grow, so
the audit log is the sequence (see `complete_until` for ids that show out of order): a reader
keeps the last id it has seen and asks for the entries after it. On PostgreSQL each entry also
sends a NOTIFY at commit, so a listener wakes at once (across workers and hosts); on SQLite the
reader polls, which costs one indexed read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from caseframe.store.core import Store, now
from caseframe.store.queries import audit

KINDS = ("coding", "memo", "code", "document")
GAP_GRACE = 5.0  # seconds a missing entry id may hold back the entries after it


def complete_until(after_id: int, entries: list[tuple[int, datetime]], at: datetime) -> int:
    """The id up to which the sequence can be read without passing a change that is still
    committing. An entry's id is taken when the row is inserted but shows only at commit, so on
    PostgreSQL, with several writers, id 101 can show before 100; a reader that moved past 101
    would never see 100. A missing id therefore holds back the entries after it until it
    shows, or until the entry after it is GAP_GRACE seconds old (the transaction was rolled
    back, and that id never shows). On SQLite, one writer at a time, ids show in order."""
    end = after_id
    for entry_id, written in entries:
        if written.tzinfo is None:  # SQLite gives naive UTC times back
            written = written.replace(tzinfo=UTC)
        if entry_id != end + 1 and (at - written).total_seconds() < GAP_GRACE:
            break
        end = entry_id
    return end


@dataclass(frozen=True)
class Change:
    """One change a page may want to show: `id` is the changed item's id (None for a change
    of many, such as an import of codings), `document_id` the document it belongs to."""

    event_id: int
    kind: str
    action: str
    id: int | str | None
    document_id: int | None
    actor: str

    def payload(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": self.action,
            "id": self.id,
            "document_id": self.document_id,
            "actor": self.actor,
            "event_id": self.event_id,
        }


def _int_or_text(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _document_of(entry: audit.AuditEntry) -> int | None:
    if entry.entity_type == "document":
        for state in (entry.after, entry.before):
            if isinstance(state, dict) and isinstance(state.get("id"), int):
                return state["id"]
        value = _int_or_text(entry.entity_id)
        return value if isinstance(value, int) else None
    for state in (entry.after, entry.before):
        if not isinstance(state, dict):
            continue
        if isinstance(state.get("document_id"), int):
            return state["document_id"]
        if state.get("target_type") == "document" and isinstance(state.get("target_id"), int):
            return state["target_id"]
    return None


def to_change(entry: audit.AuditEntry) -> Change:
    return Change(
        event_id=entry.id,
        kind=entry.entity_type,
        action=entry.action,
        id=_int_or_text(entry.entity_id),
        document_id=_document_of(entry),
        actor=entry.actor,
    )


class ChangeSource:
    """Reads the change sequence of one store; `wait()` blocks until there may be news
    (PostgreSQL: a notification or the timeout; SQLite: the poll interval)."""

    def __init__(self, store: Store, poll_interval: float = 0.3, *, listen: bool = True):
        self.store = store
        self.poll_interval = poll_interval
        self._listener = None
        if listen and store.dialect == "postgresql":
            conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                audit.listen(conn)
            except BaseException:
                conn.close()
                raise
            self._listener = conn

    def latest(self) -> int:
        with self.store.read() as conn:
            return audit.latest_id(conn)

    def read(self, after_id: int, limit: int | None = None) -> tuple[list[Change], int]:
        """The changes after `after_id` (the newest `limit` of them) and the id up to which
        they are complete (`complete_until`); the next read starts there."""
        with self.store.read() as conn:
            newest = audit.latest_id(conn)
            if newest <= after_id:
                return [], max(newest, after_id)
            end = complete_until(after_id, audit.ids_between(conn, after_id, newest), now())
            if end <= after_id:
                return [], after_id
            entries = audit.changes_between(conn, after_id, end, KINDS)
        return [to_change(e) for e in entries[-limit if limit else 0 :]], end

    def wait(self, timeout: float) -> bool:
        if self._listener is None:
            time.sleep(min(timeout, self.poll_interval))
            return True
        return audit.wait_for_notification(self._listener, timeout)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
