"""The code tree: theme → main category → category → code, deductive or inductive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, select

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import Code, CodeKind, CodeOrigin
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import code_path, code_row, component_ref, component_row
from caseframe.util.csvfile import read_csv_rows

KINDS = {k.value for k in CodeKind}


class CodesMixin:
    store: Any

    # -- writing ------------------------------------------------------------------------------

    def add_code(
        self,
        name: str,
        parent: str | None = None,
        kind: str | None = None,
        description: str = "",
        color: str | None = None,
        framework_component: str | None = None,
        maps_to: list[str] | None = None,
        meta: dict | None = None,
    ) -> Code:
        """Add a code. `framework_component` ("sis:O10") makes it a deductive code of that
        component; `maps_to` links an inductive category to framework components."""
        with self.store.transaction() as conn:
            code_id = self._insert_code(
                conn, name, parent, kind, description, color, framework_component, maps_to, meta
            )
        return self.code(code_id)

    def import_codes(self, path: str | Path, framework: str = "sis") -> list[Code]:
        """Codes from a CSV: code, parent, kind, description, color, and a column named after a
        framework (e.g. `sis`) with semicolon-separated component ids the code maps to."""
        header, rows = read_csv_rows(path, required=("code",))
        names = {row["code"]: line for line, row in rows}
        pending = list(rows)
        created: list[int] = []
        with self.store.transaction() as conn:
            while pending:  # parents first, whatever the row order
                progressed = False
                for item in list(pending):
                    line, row = item
                    parent = row.get("parent") or None
                    if parent and parent in names and not _exists(conn, parent):
                        continue
                    maps = [
                        m.strip()
                        for m in row.get(framework, "").replace(",", ";").split(";")
                        if m.strip()
                    ]
                    try:
                        created.append(
                            self._insert_code(
                                conn,
                                row["code"],
                                parent,
                                row.get("kind") or None,
                                row.get("description", ""),
                                row.get("color") or None,
                                row.get("component") or None,
                                [m if ":" in m else f"{framework}:{m}" for m in maps],
                            )
                        )
                    except (Conflict, NotFound, InvalidInput) as exc:
                        raise type(exc)(
                            exc.message, where=f"{path}:{line}", hint=exc.hint
                        ) from None
                    pending.remove(item)
                    progressed = True
                if not progressed:
                    line, row = pending[0]
                    raise Conflict(
                        f"the code tree has a cycle through '{row['code']}'",
                        where=f"{path}:{line}",
                        hint="fix the parent column",
                    )
        return [self.code(i) for i in created]

    def add_framework_codes(self, framework: str, parent: str | None = None) -> list[Code]:
        """Deductive codes for every component of a framework, grouped by level."""
        fw = self.framework(framework)
        made: list[int] = []
        with self.store.transaction() as conn:
            root_name = parent or fw.name
            root = _find(conn, root_name, None)
            root_id = root.id if root else self._insert_code(conn, root_name, None, "theme")
            level_ids: dict[str, int] = {}
            for comp in fw.components:
                if comp.parent_key:
                    continue
                if comp.level not in level_ids:
                    existing = _find(conn, comp.level, root_id)
                    level_ids[comp.level] = (
                        existing.id
                        if existing
                        else self._insert_code(
                            conn, comp.level, None, "main_category", parent_id=root_id
                        )
                    )
                if _find(conn, comp.name, level_ids[comp.level]) is None:
                    made.append(
                        self._insert_code(
                            conn,
                            comp.name,
                            None,
                            "category",
                            comp.definition,
                            framework_component=f"{fw.key}:{comp.key}",
                            parent_id=level_ids[comp.level],
                        )
                    )
        return [self.code(i) for i in made]

    def rename_code(self, code: str, new_name: str, expected_version: int | None = None) -> Code:
        with self.store.transaction() as conn:
            row = _checked(conn, code, expected_version)
            new_name = new_name.strip()
            if not new_name:
                raise InvalidInput("empty code name")
            clash = _find(conn, new_name, row.parent_id)
            if clash is not None and clash.id != row.id:
                raise Conflict(f"a sibling code named '{new_name}' already exists")
            _touch(conn, row.id, name=new_name)
        return self.code(row.id)

    def move_code(
        self, code: str, new_parent: str | None, expected_version: int | None = None
    ) -> Code:
        with self.store.transaction() as conn:
            row = _checked(conn, code, expected_version)
            parent_id = None
            if new_parent:
                parent = code_row(conn, new_parent)
                ancestor: int | None = parent.id
                while ancestor is not None:
                    if ancestor == row.id:
                        raise Conflict(
                            f"moving '{row.name}' under '{parent.name}' would make a cycle",
                            hint="a code cannot be inside itself",
                        )
                    ancestor = conn.scalar(
                        select(t.codes.c.parent_id).where(t.codes.c.id == ancestor)
                    )
                parent_id = parent.id
            if parent_id != row.parent_id and _find(conn, row.name, parent_id) is not None:
                raise Conflict(f"the new parent already has a code named '{row.name}'")
            _touch(conn, row.id, parent_id=parent_id)
        return self.code(row.id)

    def merge_codes(self, source: str, target: str, expected_version: int | None = None) -> Code:
        """Move every coding, child and mapping of `source` onto `target`, then drop `source`.

        A coding that `target` already has for the same segment and coder is kept once.
        """
        with self.store.transaction() as conn:
            src = _checked(conn, source, expected_version)
            dst = code_row(conn, target)
            if src.id == dst.id:
                raise InvalidInput("a code cannot be merged into itself")
            ancestor: int | None = dst.id
            while ancestor is not None:
                if ancestor == src.id:
                    raise Conflict(f"'{dst.name}' is inside '{src.name}'; move it out first")
                ancestor = conn.scalar(select(t.codes.c.parent_id).where(t.codes.c.id == ancestor))
            for coding in conn.execute(
                select(t.codings).where(t.codings.c.code_id == src.id)
            ).all():
                dup = conn.execute(
                    select(t.codings.c.id).where(
                        t.codings.c.document_id == coding.document_id,
                        t.codings.c.start == coding.start,
                        t.codings.c.end == coding.end,
                        t.codings.c.coder_id == coding.coder_id,
                        t.codings.c.code_id == dst.id,
                    )
                ).first()
                if dup is None:
                    conn.execute(
                        t.codings.update()
                        .where(t.codings.c.id == coding.id)
                        .values(code_id=dst.id, updated_at=now())
                    )
                else:
                    conn.execute(delete(t.codings).where(t.codings.c.id == coding.id))
            for child in conn.execute(select(t.codes).where(t.codes.c.parent_id == src.id)).all():
                if _find(conn, child.name, dst.id) is not None:
                    raise Conflict(
                        f"both codes have a child named '{child.name}'", hint="merge those first"
                    )
                _touch(conn, child.id, parent_id=dst.id)
            for (component_id,) in conn.execute(
                select(t.code_mappings.c.component_id).where(t.code_mappings.c.code_id == src.id)
            ).all():
                _map(conn, dst.id, component_id)
            conn.execute(
                t.memos.update()
                .where(t.memos.c.target_type == "code", t.memos.c.target_id == src.id)
                .values(target_id=dst.id)
            )
            conn.execute(
                t.matrix_summaries.update()
                .where(t.matrix_summaries.c.code_id == src.id)
                .values(code_id=dst.id)
            )
            conn.execute(delete(t.code_mappings).where(t.code_mappings.c.code_id == src.id))
            conn.execute(delete(t.codes).where(t.codes.c.id == src.id))
            _touch(conn, dst.id)
        return self.code(dst.id)

    def map_code(self, code: str, components: list[str], framework: str | None = None) -> Code:
        with self.store.transaction() as conn:
            row = code_row(conn, code)
            for ref in components:
                _map(conn, row.id, component_row(conn, ref, framework).id)
            _touch(conn, row.id)
        return self.code(row.id)

    def _insert_code(
        self,
        conn: Connection,
        name: str,
        parent: str | None,
        kind: str | None = None,
        description: str = "",
        color: str | None = None,
        framework_component: str | None = None,
        maps_to: list[str] | None = None,
        meta: dict | None = None,
        parent_id: int | None = None,
    ) -> int:
        name = (name or "").strip()
        if not name:
            raise InvalidInput("empty code name", hint="give the code a name")
        if kind and kind not in KINDS:
            raise InvalidInput(
                f"unknown code kind '{kind}'", hint=f"use {', '.join(sorted(KINDS))}"
            )
        if color and not (color.startswith("#") and len(color) in (4, 7, 9)):
            raise InvalidInput(f"colour '{color}' is not #RGB or #RRGGBB")
        if parent is not None:
            parent_id = code_row(conn, parent).id
        if _find(conn, name, parent_id) is not None:
            where = f"under '{parent}'" if parent else "at the top level"
            raise Conflict(f"a code named '{name}' already exists {where}")
        component_id = component_row(conn, framework_component).id if framework_component else None
        stamp = now()
        code_id = conn.execute(
            t.codes.insert().values(
                name=name,
                parent_id=parent_id,
                kind=kind,
                origin=CodeOrigin.DEDUCTIVE if component_id else CodeOrigin.INDUCTIVE,
                component_id=component_id,
                description=description or "",
                color=color,
                position=_next_position(conn, parent_id),
                version=1,
                meta=meta or {},
                guid=new_guid(),
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key[0]
        for ref in maps_to or []:
            _map(conn, code_id, component_row(conn, ref).id)
        return code_id

    # -- reading ------------------------------------------------------------------------------

    def code(self, ref: str | int) -> Code:
        with self.store.read() as conn:
            row = code_row(conn, ref)
            return _to_code(conn, row)

    def codes(self) -> list[Code]:
        """All codes, parents before children, in tree order."""
        with self.store.read() as conn:
            rows = conn.execute(select(t.codes).order_by(t.codes.c.position, t.codes.c.id)).all()
            children: dict[int | None, list] = {}
            for r in rows:
                children.setdefault(r.parent_id, []).append(r)
            ordered: list = []

            def walk(parent_id: int | None) -> None:
                for r in children.get(parent_id, []):
                    ordered.append(r)
                    walk(r.id)

            walk(None)
            return [_to_code(conn, r) for r in ordered]

    def codes_frame(self) -> pd.DataFrame:
        codes = self.codes()
        with self.store.read() as conn:
            counts = dict(conn.execute(_count_query()).all())
        return pd.DataFrame.from_records(
            [
                {
                    "id": c.id,
                    "name": c.name,
                    "path": c.path,
                    "depth": c.path.count("/"),
                    "kind": c.kind,
                    "origin": c.origin,
                    "component": c.framework_component,
                    "maps_to": "; ".join(c.mapped_components),
                    "description": c.description,
                    "color": c.color,
                    "codings": counts.get(c.id, 0),
                    "version": c.version,
                }
                for c in codes
            ],
            columns=[
                "id",
                "name",
                "path",
                "depth",
                "kind",
                "origin",
                "component",
                "maps_to",
                "description",
                "color",
                "codings",
                "version",
            ],
        )

    def descendant_code_ids(self, ref: str | int, exact: bool = False) -> list[int]:
        """The code and, unless `exact`, every code below it (a category includes its codes)."""
        with self.store.read() as conn:
            root = code_row(conn, ref)
            ids = [root.id]
            if not exact:
                frontier = [root.id]
                while frontier:
                    frontier = list(
                        conn.scalars(select(t.codes.c.id).where(t.codes.c.parent_id.in_(frontier)))
                    )
                    ids.extend(frontier)
            return ids


def _count_query():
    return select(t.codings.c.code_id, func.count()).group_by(t.codings.c.code_id)


def _to_code(conn: Connection, row) -> Code:
    mapped = tuple(
        sorted(
            component_ref(conn, cid)
            for cid in conn.scalars(
                select(t.code_mappings.c.component_id).where(t.code_mappings.c.code_id == row.id)
            )
        )
    )
    return Code(
        id=row.id,
        name=row.name,
        parent_id=row.parent_id,
        kind=row.kind,
        origin=row.origin,
        description=row.description,
        color=row.color,
        framework_component=component_ref(conn, row.component_id),
        mapped_components=mapped,
        guid=row.guid,
        version=row.version,
        path=code_path(conn, row.id),
    )


def _find(conn: Connection, name: str, parent_id: int | None):
    cond = t.codes.c.parent_id.is_(None) if parent_id is None else t.codes.c.parent_id == parent_id
    return conn.execute(select(t.codes).where(t.codes.c.name == name, cond)).first()


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(t.codes.c.id).where(t.codes.c.name == name)).first() is not None


def _next_position(conn: Connection, parent_id: int | None) -> int:
    cond = t.codes.c.parent_id.is_(None) if parent_id is None else t.codes.c.parent_id == parent_id
    return (conn.scalar(select(func.max(t.codes.c.position)).where(cond)) or 0) + 1


def _checked(conn: Connection, ref: str, expected_version: int | None):
    """The code, refusing a stale edit: someone changed it since the caller read it."""
    row = code_row(conn, ref)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"code '{row.name}' was changed by someone else (version {row.version}, "
            f"you edited version {expected_version})",
            hint="reload the code tree and try again",
        )
    return row


def _touch(conn: Connection, code_id: int, **values) -> None:
    conn.execute(
        t.codes.update()
        .where(t.codes.c.id == code_id)
        .values(version=t.codes.c.version + 1, updated_at=now(), **values)
    )


def _map(conn: Connection, code_id: int, component_id: int) -> None:
    exists = conn.execute(
        select(t.code_mappings).where(
            t.code_mappings.c.code_id == code_id, t.code_mappings.c.component_id == component_id
        )
    ).first()
    if not exists:
        conn.execute(t.code_mappings.insert().values(code_id=code_id, component_id=component_id))
