"""The audit log: who changed what, when, with the state before and after.

An entry is written on the same connection as the change it describes, so the two commit or roll
back together. Entry ids only grow, so they double as the project's change sequence (what the web
workspace's live updates follow): on PostgreSQL each entry also sends a NOTIFY on `CHANNEL`,
delivered to listeners when the transaction commits (and never if it rolls back); on SQLite
readers poll for ids above the last one they saw.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from caseframe.store import schema as t
from caseframe.store.core import now

CHANNEL = "caseframe_changes"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    before: Any
    after: Any


def jsonable(value: Any) -> Any:
    """Before/after values as plain JSON (dataclasses, dates and tuples included)."""
    if value is None:
        return None
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


@functools.cache
def _notify():  # built once: every audited change sends one
    return select(func.pg_notify(CHANNEL, bindparam("id")))


def record(
    conn: Connection,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None,
    before: Any = None,
    after: Any = None,
) -> int:
    """Write one entry in the caller's transaction; returns its id."""
    row = {
        "at": now(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": jsonable(before),
        "after": jsonable(after),
    }
    entry_id = conn.execute(t.audit_log.insert(), row).inserted_primary_key[0]
    if conn.dialect.name == "postgresql":
        conn.execute(_notify(), {"id": str(entry_id)})
    return entry_id


def entries(
    conn: Connection,
    *,
    since: datetime | None = None,
    after_id: int | None = None,
    entity_types: Sequence[str] | None = None,
    actor: str | None = None,
    limit: int | None = 500,
    newest_first: bool = True,
) -> list[AuditEntry]:
    c = t.audit_log.c
    query = select(t.audit_log)
    if since is not None:
        query = query.where(c.at >= since)
    if after_id is not None:
        query = query.where(c.id > after_id)
    if entity_types:
        query = query.where(c.entity_type.in_(list(entity_types)))
    if actor:
        query = query.where(c.actor == actor)
    query = query.order_by(c.id.desc() if newest_first else c.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        AuditEntry(r.id, r.at, r.actor, r.action, r.entity_type, r.entity_id, r.before, r.after)
        for r in conn.execute(query)
    ]


# -- the change sequence (live updates in the web workspace) -------------------------------------


def latest_id(conn: Connection) -> int:
    """The newest entry's id (0 for an empty log)."""
    return int(conn.scalar(select(func.max(t.audit_log.c.id))) or 0)


def ids_between(conn: Connection, after_id: int, up_to: int) -> list[tuple[int, datetime]]:
    """Every entry's id and time with after_id < id <= up_to, oldest first (of any type)."""
    c = t.audit_log.c
    query = select(c.id, c.at).where(c.id > after_id, c.id <= up_to).order_by(c.id)
    return [(r.id, r.at) for r in conn.execute(query)]


def changes_between(
    conn: Connection, after_id: int, up_to: int, entity_types: Sequence[str]
) -> list[AuditEntry]:
    """Entries of these types with after_id < id <= up_to, oldest first (reading up to a known
    id keeps the scan short however many entries of other types were written)."""
    c = t.audit_log.c
    query = (
        select(t.audit_log)
        .where(c.id > after_id, c.id <= up_to, c.entity_type.in_(list(entity_types)))
        .order_by(c.id)
    )
    return [
        AuditEntry(r.id, r.at, r.actor, r.action, r.entity_type, r.entity_id, r.before, r.after)
        for r in conn.execute(query)
    ]


def listen(conn: Connection) -> None:
    """Subscribe a PostgreSQL connection (in autocommit mode) to the change notifications."""
    conn.exec_driver_sql(f"LISTEN {CHANNEL}")


def wait_for_notification(conn: Connection, timeout: float) -> bool:
    """Block until a change notification arrives on a listening connection or `timeout`
    seconds pass; True if one (or more: all waiting ones are taken) arrived."""
    driver = conn.connection.driver_connection  # psycopg 3
    got = False
    for _note in driver.notifies(timeout=timeout, stop_after=1):
        got = True
    if got:  # take the others already waiting, so that one read covers them all
        for _note in driver.notifies(timeout=0.001):
            pass
    return got
