"""Signed-in web sessions and failed sign-ins, shared by every web worker through the store."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from sqlalchemy import Connection, Row, bindparam, delete, func, or_, select, text, update

from caseframe.store import schema as t

S = t.web_sessions.c
F = t.sign_in_failures.c
# One advisory-lock key for counting and recording sign-in attempts on PostgreSQL, so that two
# workers cannot both let the last allowed attempt through (SQLite's BEGIN IMMEDIATE does this).
SIGN_IN_LOCK = 0x63_66_73_69  # "cfsi"


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives times back without their zone; every time in the store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def insert(
    conn: Connection, token_hash: str, user_id: int, client: str, user_agent: str, at: datetime
) -> int:
    return conn.execute(
        t.web_sessions.insert().values(
            token_hash=token_hash,
            user_id=user_id,
            created_at=at,
            last_seen_at=at,
            client=client[:100],
            user_agent=user_agent[:300],
        )
    ).inserted_primary_key[0]


def _with_user():
    u = t.users.c
    return select(
        t.web_sessions,
        u.name.label("user_name"),
        u.role.label("user_role"),
        u.coder_id.label("user_coder_id"),
        u.active.label("user_active"),
    ).join(t.users, u.id == S.user_id)


@functools.cache
def _by_token_hash():  # built once: every request reads its session
    return _with_user().where(S.token_hash == bindparam("token_hash"))


def by_token_hash(conn: Connection, token_hash: str) -> Row | None:
    """The session and its user in one read (done on every request)."""
    return conn.execute(_by_token_hash(), {"token_hash": token_hash}).first()


def by_id(conn: Connection, session_id: int) -> Row | None:
    return conn.execute(_with_user().where(S.id == session_id)).first()


def listing(
    conn: Connection, user_id: int | None = None, open_only: bool = True, limit: int = 1000
) -> list[Row]:
    """Sessions newest first; `open_only` leaves out those ended on purpose (timed-out ones
    stay: whether a time limit has passed depends on the settings the caller applies)."""
    query = _with_user()
    if user_id is not None:
        query = query.where(S.user_id == user_id)
    if open_only:
        query = query.where(S.ended_at.is_(None))
    return list(conn.execute(query.order_by(S.id.desc()).limit(limit)))


def touch(conn: Connection, session_id: int, at: datetime) -> None:
    conn.execute(update(t.web_sessions).where(S.id == session_id).values(last_seen_at=at))


def end(
    conn: Connection,
    reason: str,
    at: datetime,
    *,
    session_ids: list[int] | None = None,
    user_id: int | None = None,
) -> list[int]:
    """End the open sessions among `session_ids`, or all of a user's; returns the ids ended."""
    where = [S.ended_at.is_(None)]
    if session_ids is not None:
        where.append(S.id.in_(session_ids))
    if user_id is not None:
        where.append(S.user_id == user_id)
    ids = list(conn.scalars(select(S.id).where(*where).order_by(S.id)))
    if ids:
        conn.execute(
            update(t.web_sessions)
            .where(S.id.in_(ids))
            .values(ended_at=at, ended_reason=reason[:50])
        )
    return ids


def prune(conn: Connection, before: datetime) -> int:
    """Forget sessions ended, or last used, before `before`."""
    result = conn.execute(
        delete(t.web_sessions).where(or_(S.ended_at < before, S.last_seen_at < before))
    )
    return result.rowcount or 0


# -- failed sign-ins ------------------------------------------------------------------------------


def lock_sign_ins(conn: Connection) -> None:
    """Serialise sign-in bookkeeping across workers for the rest of this transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SIGN_IN_LOCK})


def recent_failures(
    conn: Connection, client: str, name: str | None, since: datetime
) -> tuple[int, datetime | None]:
    """How many failures from `client` (for `name`, or for any name) since `since`, and the
    oldest of them."""
    query = select(func.count(), func.min(F.at)).where(F.client == client, F.at > since)
    if name is not None:
        query = query.where(F.name == name)
    count, oldest = conn.execute(query).one()
    return int(count), aware(oldest)


def add_failure(conn: Connection, client: str, name: str, at: datetime) -> int:
    return conn.execute(
        t.sign_in_failures.insert().values(at=at, client=client[:100], name=name[:200])
    ).inserted_primary_key[0]


def clear_failures(conn: Connection, client: str, name: str) -> int:
    """A successful sign-in forgets that client's failures for that name."""
    result = conn.execute(delete(t.sign_in_failures).where(F.client == client, F.name == name))
    return result.rowcount or 0


def prune_failures(conn: Connection, before: datetime) -> None:
    conn.execute(delete(t.sign_in_failures).where(F.at < before))
