"""Frameworks: built-in SIS, CFIR 2.0 and PSAT, and the user's own from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select

from caseframe.errors import Conflict
from caseframe.model import Component, Framework, Scale
from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.store.lookup import framework_row


class FrameworksMixin:
    store: Any

    def frameworks(self) -> list[Framework]:
        with self.store.read() as conn:
            keys = list(conn.scalars(select(t.frameworks.c.key).order_by(t.frameworks.c.id)))
            return [_load_framework(conn, k) for k in keys]

    def framework(self, key: str) -> Framework:
        with self.store.read() as conn:
            return _load_framework(conn, key)

    def add_framework(self, path: str | Path, replace: bool = False) -> Framework:
        from caseframe.frameworks.loader import load_framework_file

        fw = load_framework_file(path)
        with self.store.transaction() as conn:
            existing = conn.execute(
                select(t.frameworks).where(t.frameworks.c.key == fw.key)
            ).first()
            if existing is not None:
                if existing.builtin or not replace:
                    raise Conflict(
                        f"framework '{fw.key}' already exists",
                        where=str(path),
                        hint="choose another key"
                        + ("" if existing.builtin else ", or pass --replace"),
                    )
                _replace_components(conn, existing.id, fw)
            else:
                self._store_framework(conn, fw)
        return self.framework(fw.key)

    def protocol(self, framework: str, fmt: str, out: str | Path) -> Path:
        from caseframe.reports.protocol import write_protocol

        return write_protocol(self.framework(framework), fmt, Path(out))

    def _store_framework(self, conn: Connection, fw: Framework) -> int:
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
        _insert_components(conn, fw_id, fw)
        return fw_id


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


def _insert_components(conn: Connection, fw_id: int, fw: Framework) -> None:
    for pos, c in enumerate(fw.components):
        conn.execute(
            t.framework_components.insert().values(
                framework_id=fw_id, key=c.key, **_component_values(c, pos)
            )
        )


def _replace_components(conn: Connection, fw_id: int, fw: Framework) -> None:
    """Update a user framework in place; components still referenced by codes are kept."""
    conn.execute(
        t.frameworks.update()
        .where(t.frameworks.c.id == fw_id)
        .values(name=fw.name, version=fw.version, spec=_spec(fw), updated_at=now())
    )
    existing = {
        r.key: r.id
        for r in conn.execute(
            select(t.framework_components).where(t.framework_components.c.framework_id == fw_id)
        )
    }
    new_keys = {c.key for c in fw.components}
    stale = [cid for key, cid in existing.items() if key not in new_keys]
    if stale:
        conn.execute(delete(t.framework_components).where(t.framework_components.c.id.in_(stale)))
    for pos, c in enumerate(fw.components):
        values = _component_values(c, pos)
        if c.key in existing:
            conn.execute(
                t.framework_components.update()
                .where(t.framework_components.c.id == existing[c.key])
                .values(**values)
            )
        else:
            conn.execute(
                t.framework_components.insert().values(framework_id=fw_id, key=c.key, **values)
            )


def _load_framework(conn: Connection, key: str) -> Framework:
    row = framework_row(conn, key)
    spec = row.spec or {}
    comps = conn.execute(
        select(t.framework_components)
        .where(t.framework_components.c.framework_id == row.id)
        .order_by(t.framework_components.c.position, t.framework_components.c.id)
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
