"""Frameworks and their components (built-in SIS, CFIR 2.0, PSAT and the user's own)."""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, select

from caseframe.model import Component, Framework, Scale
from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.store.lookup import framework_row


def keys(conn: Connection) -> list[str]:
    return list(conn.scalars(select(t.frameworks.c.key).order_by(t.frameworks.c.id)))


def row_with_key(conn: Connection, key: str) -> Row | None:
    """The framework stored under exactly `key` (None if there is none)."""
    return conn.execute(select(t.frameworks).where(t.frameworks.c.key == key)).first()


def load(conn: Connection, key: str) -> Framework:
    """A framework by key (any case); an unknown key is refused with the closest keys."""
    return _framework(conn, framework_row(conn, key))


def load_all(conn: Connection) -> list[Framework]:
    return [
        _framework(conn, r)
        for r in conn.execute(select(t.frameworks).order_by(t.frameworks.c.id)).all()
    ]


def insert(conn: Connection, fw: Framework) -> int:
    stamp = now()
    fw_id = conn.execute(
        t.frameworks.insert().values(
            key=fw.key,
            name=fw.name,
            version=fw.version,
            builtin=fw.builtin,
            spec=_spec(fw),
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]
    if fw.components:
        conn.execute(
            t.framework_components.insert(),
            [
                {"framework_id": fw_id, "key": c.key, **_component_values(c, pos)}
                for pos, c in enumerate(fw.components)
            ],
        )
    return fw_id


def replace(conn: Connection, fw_id: int, fw: Framework) -> None:
    """Update a user framework in place; components still referenced by codes are kept."""
    fc = t.framework_components.c
    conn.execute(
        t.frameworks.update()
        .where(t.frameworks.c.id == fw_id)
        .values(name=fw.name, version=fw.version, spec=_spec(fw), updated_at=now())
    )
    existing = dict(conn.execute(select(fc.key, fc.id).where(fc.framework_id == fw_id)).all())
    new_keys = {c.key for c in fw.components}
    stale = [cid for key, cid in existing.items() if key not in new_keys]
    if stale:
        conn.execute(delete(t.framework_components).where(fc.id.in_(stale)))
    for pos, c in enumerate(fw.components):
        values = _component_values(c, pos)
        if c.key in existing:
            conn.execute(
                t.framework_components.update().where(fc.id == existing[c.key]).values(**values)
            )
        else:
            conn.execute(
                t.framework_components.insert().values(framework_id=fw_id, key=c.key, **values)
            )


def _spec(fw: Framework) -> dict:
    return {
        "description": fw.description,
        "levels": list(fw.levels),
        "scale": None
        if fw.scale is None
        else {
            "minimum": fw.scale.minimum,
            "maximum": fw.scale.maximum,
            "anchors": {str(k): v for k, v in fw.scale.anchors.items()},
        },
        "level_maxima": dict(fw.level_maxima),
        "citation": fw.citation,
    }


def _component_values(c: Component, pos: int) -> dict:
    return dict(
        name=c.name,
        level=c.level,
        kind=c.kind,
        parent_key=c.parent_key,
        definition=c.definition,
        questions=list(c.questions),
        keywords=list(c.keywords),
        examples=list(c.examples),
        position=c.position or pos,
    )


def _framework(conn: Connection, row: Row) -> Framework:
    spec = row.spec or {}
    fc = t.framework_components.c
    comps = conn.execute(
        select(t.framework_components).where(fc.framework_id == row.id).order_by(fc.position, fc.id)
    ).all()
    scale = spec.get("scale")
    return Framework(
        key=row.key,
        name=row.name,
        version=row.version,
        description=spec.get("description", ""),
        levels=tuple(spec.get("levels", [])),
        components=tuple(
            Component(
                key=c.key,
                name=c.name,
                level=c.level,
                definition=c.definition,
                questions=tuple(c.questions or []),
                keywords=tuple(c.keywords or []),
                examples=tuple(c.examples or []),
                parent_key=c.parent_key,
                kind=c.kind,
                position=c.position,
            )
            for c in comps
        ),
        scale=None
        if not scale
        else Scale(
            scale["minimum"],
            scale["maximum"],
            {int(k): v for k, v in (scale.get("anchors") or {}).items()},
        ),
        level_maxima=dict(spec.get("level_maxima", {})),
        citation=spec.get("citation", ""),
        builtin=row.builtin,
    )
