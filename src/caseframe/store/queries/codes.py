"""The code tree: codes, their framework component and mappings, and tree edits."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, exists, func, select

from caseframe.model import Code
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.util import tree

PATH_SEPARATOR = "/"
MANY = 500  # more ids than this: read all rows and filter, not one bound parameter each


def _under(parent_id: int | None):
    return t.codes.c.parent_id.is_(None) if parent_id is None else t.codes.c.parent_id == parent_id


def child_named(conn: Connection, name: str, parent_id: int | None) -> Row | None:
    """The code called `name` directly under `parent_id` (None: at the top level)."""
    return conn.execute(select(t.codes).where(t.codes.c.name == name, _under(parent_id))).first()


def name_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(t.codes.c.id).where(t.codes.c.name == name)).first() is not None


def insert(
    conn: Connection,
    *,
    name: str,
    parent_id: int | None,
    kind: str | None,
    origin: str,
    component_id: int | None,
    description: str = "",
    color: str | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """A new code, placed after its siblings."""
    position = (conn.scalar(select(func.max(t.codes.c.position)).where(_under(parent_id))) or 0) + 1
    stamp = now()
    return conn.execute(
        t.codes.insert().values(
            name=name,
            parent_id=parent_id,
            kind=kind,
            origin=origin,
            component_id=component_id,
            description=description,
            color=color,
            position=position,
            version=1,
            meta=meta or {},
            guid=new_guid(),
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]


def touch(conn: Connection, code_id: int, **values: Any) -> None:
    """Change a code (or only its version): every edit bumps the version for stale-edit checks."""
    conn.execute(
        t.codes.update()
        .where(t.codes.c.id == code_id)
        .values(version=t.codes.c.version + 1, updated_at=now(), **values)
    )


def add_mapping(conn: Connection, code_id: int, component_id: int) -> None:
    cm = t.code_mappings.c
    present = conn.execute(
        select(cm.code_id).where(cm.code_id == code_id, cm.component_id == component_id)
    ).first()
    if present is None:
        conn.execute(t.code_mappings.insert().values(code_id=code_id, component_id=component_id))


def mapped_component_ids(conn: Connection, code_id: int) -> list[int]:
    cm = t.code_mappings.c
    return list(conn.scalars(select(cm.component_id).where(cm.code_id == code_id)))


def parent_links(conn: Connection) -> dict[int, int | None]:
    """code id -> parent id for the whole tree, siblings in display order (one query)."""
    c = t.codes.c
    return dict(conn.execute(select(c.id, c.parent_id).order_by(c.position, c.id)).all())


def children(conn: Connection, parent_id: int) -> list[Row]:
    return conn.execute(select(t.codes).where(t.codes.c.parent_id == parent_id)).all()


def coding_counts(conn: Connection) -> dict[int, int]:
    """code id -> number of codings."""
    c = t.codings.c
    return dict(conn.execute(select(c.code_id, func.count()).group_by(c.code_id)).all())


def move_codings(conn: Connection, source_id: int, target_id: int) -> None:
    """Give `source`'s codings to `target`; one that `target` already has (same segment and
    coder) is dropped rather than doubled."""
    c = t.codings.c
    twin = t.codings.alias("twin")
    conn.execute(
        delete(t.codings).where(
            c.code_id == source_id,
            exists().where(
                and_(
                    twin.c.code_id == target_id,
                    twin.c.document_id == c.document_id,
                    twin.c.start == c.start,
                    twin.c.end == c.end,
                    twin.c.coder_id == c.coder_id,
                )
            ),
        )
    )
    conn.execute(
        t.codings.update().where(c.code_id == source_id).values(code_id=target_id, updated_at=now())
    )


def retarget_notes(conn: Connection, source_id: int, target_id: int) -> None:
    """Memos on a code and matrix summaries of a code follow it into the code it merges into."""
    conn.execute(
        t.memos.update()
        .where(t.memos.c.target_type == "code", t.memos.c.target_id == source_id)
        .values(target_id=target_id)
    )
    conn.execute(
        t.matrix_summaries.update()
        .where(t.matrix_summaries.c.code_id == source_id)
        .values(code_id=target_id)
    )


def delete_code(conn: Connection, code_id: int) -> None:
    conn.execute(delete(t.code_mappings).where(t.code_mappings.c.code_id == code_id))
    conn.execute(delete(t.codes).where(t.codes.c.id == code_id))


def paths(links: dict[int, tuple[str, int | None]]) -> dict[int, str]:
    """code id -> 'Theme/Main category/Category' from (name, parent id) per code."""
    parent_of = {i: p for i, (_n, p) in links.items()}
    kids = tree.children_of(parent_of)
    out: dict[int, str] = {}
    for node, _depth in tree.walk(kids.get(None, []), kids):
        name, parent = links[node]
        out[node] = name if parent is None else out[parent] + PATH_SEPARATOR + name
    return out


def load(conn: Connection, ids: Collection[int] | None = None) -> list[Code]:
    """Codes as model dataclasses, in a few queries whatever their number.

    All codes: in tree order (parents before children, siblings by position). Given `ids`: in
    id order.
    """
    c = t.codes.c
    few = ids is not None and len(ids) <= MANY
    query = select(t.codes).order_by(c.position, c.id)
    rows = conn.execute(query.where(c.id.in_(list(ids))) if few else query).all()
    if few:
        links = {
            r.id: (r.name, r.parent_id)
            for r in conn.execute(select(c.id, c.name, c.parent_id).order_by(c.position, c.id))
        }
    else:
        links = {r.id: (r.name, r.parent_id) for r in rows}
    if ids is not None:
        wanted = set(ids)
        rows = sorted((r for r in rows if r.id in wanted), key=lambda r: r.id)
    if not rows:
        return []
    path_of = paths(links)
    cm = t.code_mappings.c
    mapping_query = select(cm.code_id, cm.component_id)
    if few:
        mapping_query = mapping_query.where(cm.code_id.in_(list(ids)))
    mappings = conn.execute(mapping_query).all()
    refs = component_refs(
        conn, {r.component_id for r in rows if r.component_id} | {m[1] for m in mappings}
    )
    mapped: dict[int, list[str]] = {}
    for code_id, component_id in mappings:
        mapped.setdefault(code_id, []).append(refs[component_id])
    if ids is None:  # tree order: rows whose parents loop are never reached, as before
        order = {node: i for i, node in enumerate(path_of)}
        rows = sorted((r for r in rows if r.id in order), key=lambda r: order[r.id])
    return [
        Code(
            id=r.id,
            name=r.name,
            parent_id=r.parent_id,
            kind=r.kind,
            origin=r.origin,
            description=r.description,
            color=r.color,
            framework_component=refs.get(r.component_id) if r.component_id else None,
            mapped_components=tuple(sorted(mapped.get(r.id, []))),
            guid=r.guid,
            version=r.version,
            path=path_of.get(r.id, r.name),
        )
        for r in rows
    ]


def component_refs(conn: Connection, component_ids: Collection[int]) -> dict[int, str]:
    """component id -> 'framework:component' ("sis:O10")."""
    if not component_ids:
        return {}
    fc = t.framework_components.c
    query = (
        select(fc.id, t.frameworks.c.key, fc.key.label("ckey"))
        .join(t.frameworks, t.frameworks.c.id == fc.framework_id)
        .where(fc.id.in_(list(component_ids)))
    )
    return {r.id: f"{r.key}:{r.ckey}" for r in conn.execute(query)}
