"""Users of the web workspace and the project settings the workspace keeps (session key,
session timeouts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, select

from caseframe.errors import NotFound
from caseframe.store import schema as t
from caseframe.store.core import now


def find(conn: Connection, ref: str | int) -> Row:
    """The user with this id (int) or name (str)."""
    column = t.users.c.id if isinstance(ref, int) else t.users.c.name
    row = conn.execute(select(t.users).where(column == ref)).first()
    if row is None:
        raise NotFound(f"unknown user '{ref}'", hint="list users with 'caseframe users list'")
    return row


def by_name(conn: Connection, name: str) -> Row | None:
    return conn.execute(select(t.users).where(t.users.c.name == name)).first()


def listing(conn: Connection) -> list[Row]:
    return list(conn.execute(select(t.users).order_by(t.users.c.name)))


def insert(conn: Connection, name: str, password_hash: str, role: str | None, coder_id: int) -> int:
    stamp = now()
    return conn.execute(
        t.users.insert().values(
            name=name,
            password_hash=password_hash,
            role=role,
            coder_id=coder_id,
            active=True,
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]


def update(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(t.users.update().where(t.users.c.id == user_id).values(**values, updated_at=now()))


def setting(conn: Connection, key: str) -> Any:
    return conn.scalar(select(t.settings.c.value).where(t.settings.c.key == key))


def put_setting(conn: Connection, key: str, value: Any) -> None:
    conn.execute(delete(t.settings).where(t.settings.c.key == key))
    conn.execute(t.settings.insert().values(key=key, value=value))


def add_setting(conn: Connection, key: str, value: Any) -> None:
    """Insert a setting that must not exist yet (IntegrityError when another process won)."""
    conn.execute(t.settings.insert().values(key=key, value=value))
