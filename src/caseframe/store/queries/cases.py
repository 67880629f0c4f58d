"""Cases and their typed attributes (the case tree: region → site → respondent, any depth)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from caseframe.model import Case
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now

MANY = 500  # more ids than this: read all rows and filter, not one bound parameter each


def key_exists(conn: Connection, key: str) -> bool:
    return conn.execute(select(t.cases.c.id).where(t.cases.c.key == key)).first() is not None


def keys(conn: Connection) -> list[str]:
    return list(conn.scalars(select(t.cases.c.key).order_by(t.cases.c.id)))


def insert(
    conn: Connection,
    key: str,
    label: str,
    kind: str,
    parent_id: int | None,
    description: str = "",
) -> int:
    stamp = now()
    return conn.execute(
        t.cases.insert().values(
            key=key,
            label=label,
            kind=kind,
            parent_id=parent_id,
            description=description,
            guid=new_guid(),
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]


def set_parent(conn: Connection, case_id: int, parent_id: int | None) -> None:
    conn.execute(
        t.cases.update()
        .where(t.cases.c.id == case_id)
        .values(parent_id=parent_id, updated_at=now())
    )


def parent_links(conn: Connection) -> dict[int, int | None]:
    """case id -> parent id, for the whole tree (one query)."""
    return dict(conn.execute(select(t.cases.c.id, t.cases.c.parent_id)).all())


def attribute_types(conn: Connection) -> dict[str, str]:
    return {r.name: r.type for r in conn.execute(select(t.attributes.c.name, t.attributes.c.type))}


def attribute(conn: Connection, name: str) -> Row | None:
    return conn.execute(select(t.attributes).where(t.attributes.c.name == name)).first()


def insert_attribute(conn: Connection, name: str, type_: str) -> int:
    return conn.execute(
        t.attributes.insert().values(name=name, type=type_, guid=new_guid())
    ).inserted_primary_key[0]


def set_value(conn: Connection, case_id: int, attribute_id: int, value: str) -> None:
    """Set (or with "" clear) one attribute value of a case."""
    ca = t.case_attributes.c
    conn.execute(
        delete(t.case_attributes).where(ca.case_id == case_id, ca.attribute_id == attribute_id)
    )
    if value != "":
        conn.execute(
            t.case_attributes.insert().values(
                case_id=case_id, attribute_id=attribute_id, value=value
            )
        )


def load(conn: Connection, ids: Collection[int] | None = None) -> list[Case]:
    """Cases (all, or those with `ids`) in id order with their own attributes."""
    c = t.cases.c
    few = ids is not None and len(ids) <= MANY
    query = select(t.cases).order_by(c.id)
    rows = conn.execute(query.where(c.id.in_(list(ids))) if few else query).all()
    if few:
        parent_ids = [r.parent_id for r in rows if r.parent_id is not None]
        key_of = dict(conn.execute(select(c.id, c.key).where(c.id.in_(parent_ids))).all())
    else:
        key_of = {r.id: r.key for r in rows}
    if ids is not None and not few:
        wanted = set(ids)
        rows = [r for r in rows if r.id in wanted]
    attrs: dict[int, dict[str, Any]] = {}
    ca = t.case_attributes.c
    query = select(ca.case_id, t.attributes.c.name, ca.value).join(
        t.attributes, t.attributes.c.id == ca.attribute_id
    )
    if few:
        query = query.where(ca.case_id.in_(list(ids)))
    for case_id, name, value in conn.execute(query):
        attrs.setdefault(case_id, {})[name] = value
    return [
        Case(
            id=r.id,
            key=r.key,
            label=r.label,
            kind=r.kind,
            parent_id=r.parent_id,
            parent_key=key_of.get(r.parent_id),
            attributes=attrs.get(r.id, {}),
            guid=r.guid,
        )
        for r in rows
    ]
