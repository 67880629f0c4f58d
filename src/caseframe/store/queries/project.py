"""The project row: the study's name, description and settings (one row, id 1)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from caseframe.store import schema as t
from caseframe.store.core import new_guid, now


def name(conn: Connection) -> str | None:
    return conn.scalar(select(t.project.c.name))


def insert(conn: Connection, name: str) -> None:
    stamp = now()
    conn.execute(
        t.project.insert().values(
            id=1,
            name=name,
            description="",
            settings={},
            guid=new_guid(),
            created_at=stamp,
            updated_at=stamp,
        )
    )
