"""The code tree: theme → main category → category → code, deductive or inductive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row

from caseframe.api.base import ProjectBase
from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.model import Code, CodeKind, CodeOrigin
from caseframe.store.lookup import code_row, component_row
from caseframe.store.queries import codes as q
from caseframe.store.queries import frameworks as fq
from caseframe.util import tree
from caseframe.util.csvfile import read_csv_rows
from caseframe.util.names import closest

if TYPE_CHECKING:
    import pandas as pd

KINDS = {k.value for k in CodeKind}
# The columns of `codes_frame` (and the keys of `codes_records`), in order.
CODE_COLUMNS = [
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
]


class CodesMixin(ProjectBase):
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
        *,
        actor: str | None = None,
    ) -> Code:
        """Add a code. `framework_component` ("sis:O10") makes it a deductive code of that
        component; `maps_to` links an inductive category to framework components."""
        with self.writing(actor) as w:
            code_id = insert_code(
                w.conn, name, parent, kind, description, color, framework_component, maps_to, meta
            )
            code = q.load(w.conn, [code_id])[0]
            w.audit("add", "code", code.id, None, code)
        return code

    def import_codes(
        self, path: str | Path, framework: str = "sis", *, actor: str | None = None
    ) -> list[Code]:
        """Codes from a CSV: code, parent, kind, description, color, and a column named after a
        framework (e.g. `sis`) with semicolon-separated component ids the code maps to."""
        _header, rows = read_csv_rows(path, required=("code",))
        with self.writing(actor) as w:
            created = []
            for line, row in _parents_first(rows, str(path)):
                maps = [
                    m.strip()
                    for m in row.get(framework, "").replace(",", ";").split(";")
                    if m.strip()
                ]
                try:
                    created.append(
                        insert_code(
                            w.conn,
                            row["code"],
                            row.get("parent") or None,
                            row.get("kind") or None,
                            row.get("description", ""),
                            row.get("color") or None,
                            row.get("component") or None,
                            [m if ":" in m else f"{framework}:{m}" for m in maps],
                        )
                    )
                except CaseframeError as exc:
                    raise type(exc)(exc.message, where=f"{path}:{line}", hint=exc.hint) from None
            codes = q.load(w.conn, created)
            for code in codes:
                w.audit("add", "code", code.id, None, code)
        by_id = {c.id: c for c in codes}
        return [by_id[i] for i in created]

    def add_framework_codes(
        self, framework: str, parent: str | None = None, *, actor: str | None = None
    ) -> list[Code]:
        """Deductive codes for every component of a framework, grouped by level."""
        with self.writing(actor) as w:
            conn = w.conn
            fw = fq.load(conn, framework)
            root_name = parent or fw.name
            root = q.child_named(conn, root_name, None)
            root_id = root.id if root else insert_code(conn, root_name, None, "theme")
            made = [] if root else [root_id]
            level_ids: dict[str, int] = {}
            added: list[int] = []
            for comp in fw.components:
                if comp.parent_key:
                    continue
                if comp.level not in level_ids:
                    existing = q.child_named(conn, comp.level, root_id)
                    if existing is None:
                        level_ids[comp.level] = insert_code(
                            conn, comp.level, None, "main_category", parent_id=root_id
                        )
                        made.append(level_ids[comp.level])
                    else:
                        level_ids[comp.level] = existing.id
                if q.child_named(conn, comp.name, level_ids[comp.level]) is None:
                    added.append(
                        insert_code(
                            conn,
                            comp.name,
                            None,
                            "category",
                            comp.definition,
                            framework_component=f"{fw.key}:{comp.key}",
                            parent_id=level_ids[comp.level],
                        )
                    )
            codes = {c.id: c for c in q.load(conn, made + added)}
            for code_id in made + added:
                w.audit("add", "code", code_id, None, codes[code_id])
        return [codes[i] for i in added]

    def rename_code(
        self,
        code: str | int,
        new_name: str,
        expected_version: int | None = None,
        *,
        actor: str | None = None,
    ) -> Code:
        with self.writing(actor) as w:
            row = _checked(w.conn, code, expected_version)
            before = q.load(w.conn, [row.id])[0]
            new_name = new_name.strip()
            if not new_name:
                raise InvalidInput("empty code name")
            clash = q.child_named(w.conn, new_name, row.parent_id)
            if clash is not None and clash.id != row.id:
                raise Conflict(f"a sibling code named '{new_name}' already exists")
            q.touch(w.conn, row.id, name=new_name)
            after = q.load(w.conn, [row.id])[0]
            w.audit("rename", "code", row.id, before, after)
        return after

    def move_code(
        self,
        code: str | int,
        new_parent: str | int | None,
        expected_version: int | None = None,
        *,
        actor: str | None = None,
    ) -> Code:
        with self.writing(actor) as w:
            row = _checked(w.conn, code, expected_version)
            before = q.load(w.conn, [row.id])[0]
            parent_id = None
            if new_parent:
                parent = code_row(w.conn, new_parent)
                if tree.would_cycle(row.id, parent.id, q.parent_links(w.conn)):
                    raise Conflict(
                        f"moving '{row.name}' under '{parent.name}' would make a cycle",
                        hint="a code cannot be inside itself",
                    )
                parent_id = parent.id
            if parent_id != row.parent_id and q.child_named(w.conn, row.name, parent_id):
                raise Conflict(f"the new parent already has a code named '{row.name}'")
            q.touch(w.conn, row.id, parent_id=parent_id)
            after = q.load(w.conn, [row.id])[0]
            w.audit("move", "code", row.id, before, after)
        return after

    def merge_codes(
        self,
        source: str | int,
        target: str | int,
        expected_version: int | None = None,
        *,
        actor: str | None = None,
    ) -> Code:
        """Move every coding, child and mapping of `source` onto `target`, then drop `source`.

        A coding that `target` already has for the same segment and coder is kept once.
        """
        with self.writing(actor) as w:
            conn = w.conn
            src = _checked(conn, source, expected_version)
            dst = code_row(conn, target)
            if src.id == dst.id:
                raise InvalidInput("a code cannot be merged into itself")
            if tree.would_cycle(src.id, dst.id, q.parent_links(conn)):
                raise Conflict(f"'{dst.name}' is inside '{src.name}'; move it out first")
            before = q.load(conn, [src.id])[0]
            q.move_codings(conn, src.id, dst.id)
            for child in q.children(conn, src.id):
                if q.child_named(conn, child.name, dst.id) is not None:
                    raise Conflict(
                        f"both codes have a child named '{child.name}'", hint="merge those first"
                    )
                q.touch(conn, child.id, parent_id=dst.id)
            for component_id in q.mapped_component_ids(conn, src.id):
                q.add_mapping(conn, dst.id, component_id)
            q.retarget_notes(conn, src.id, dst.id)
            q.delete_code(conn, src.id)
            q.touch(conn, dst.id)
            after = q.load(conn, [dst.id])[0]
            w.audit("merge", "code", src.id, before, {"merged_into": after})
        return after

    def map_code(
        self,
        code: str | int,
        components: list[str],
        framework: str | None = None,
        *,
        actor: str | None = None,
    ) -> Code:
        with self.writing(actor) as w:
            row = code_row(w.conn, code)
            before = q.load(w.conn, [row.id])[0]
            for ref in components:
                q.add_mapping(w.conn, row.id, component_row(w.conn, ref, framework).id)
            q.touch(w.conn, row.id)
            after = q.load(w.conn, [row.id])[0]
            w.audit("map", "code", row.id, before, after)
        return after

    # -- reading ------------------------------------------------------------------------------

    def code(self, ref: str | int) -> Code:
        with self.store.read() as conn:
            return q.load(conn, [code_row(conn, ref).id])[0]

    def codes(self) -> list[Code]:
        """All codes, parents before children, in tree order."""
        with self.store.read() as conn:
            return q.load(conn)

    def codes_records(self) -> list[dict[str, Any]]:
        """One dict per code (the columns of `codes_frame`), for printing without pandas."""
        with self.store.read() as conn:
            codes = q.load(conn)
            counts = q.coding_counts(conn)
        return [
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
        ]

    def codes_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.codes_records(), columns=CODE_COLUMNS)

    def descendant_code_ids(self, ref: str | int, exact: bool = False) -> list[int]:
        """The code and, unless `exact`, every code below it (a category includes its codes)."""
        with self.store.read() as conn:
            root = code_row(conn, ref)
            if exact:
                return [root.id]
            return [root.id, *tree.descendants(root.id, tree.children_of(q.parent_links(conn)))]


def insert_code(
    conn: Connection,
    name: str,
    parent: str | int | None,
    kind: str | None = None,
    description: str = "",
    color: str | None = None,
    framework_component: str | None = None,
    maps_to: list[str] | None = None,
    meta: dict | None = None,
    parent_id: int | None = None,
) -> int:
    """Validate and insert one code in the caller's transaction; `parent` is a name or path
    typed by the user, `parent_id` a known id."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("empty code name", hint="give the code a name")
    if kind and kind not in KINDS:
        near = closest(kind, sorted(KINDS))
        guess = f"did you mean '{near[0]}'? " if near else ""
        raise InvalidInput(
            f"unknown code kind '{kind}'", hint=f"{guess}use {', '.join(sorted(KINDS))}"
        )
    if color and not (color.startswith("#") and len(color) in (4, 7, 9)):
        raise InvalidInput(f"colour '{color}' is not #RGB or #RRGGBB")
    if parent is not None:
        parent_id = code_row(conn, parent).id
    if q.child_named(conn, name, parent_id) is not None:
        where = f"under '{parent}'" if parent else "at the top level"
        raise Conflict(f"a code named '{name}' already exists {where}")
    component_id = component_row(conn, framework_component).id if framework_component else None
    code_id = q.insert(
        conn,
        name=name,
        parent_id=parent_id,
        kind=kind,
        origin=CodeOrigin.DEDUCTIVE if component_id else CodeOrigin.INDUCTIVE,
        component_id=component_id,
        description=description or "",
        color=color,
        meta=meta,
    )
    for ref in maps_to or []:
        q.add_mapping(conn, code_id, component_row(conn, ref).id)
    return code_id


def _checked(conn: Connection, ref: str | int, expected_version: int | None) -> Row:
    """The code, refusing a stale edit: someone changed it since the caller read it."""
    row = code_row(conn, ref)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"code '{row.name}' was changed by someone else (version {row.version}, "
            f"you edited version {expected_version})",
            hint="reload the code tree and try again",
        )
    return row


def _parents_first(
    rows: list[tuple[int, dict[str, str]]], where: str
) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows ordered so a parent named in the file comes before its children (a parent
    not in the file must already exist); siblings keep the file's order. Refuses a cycle."""
    first_row = {}
    for i, (_line, row) in enumerate(rows):
        first_row.setdefault(row["code"], i)
    parent_of = {i: first_row.get(row.get("parent") or "") for i, (_line, row) in enumerate(rows)}
    children = tree.children_of(parent_of)
    order = [i for i, _depth in tree.walk(children.get(None, []), children)]
    if len(order) < len(rows):
        placed = set(order)
        line, row = next(r for i, r in enumerate(rows) if i not in placed)
        raise Conflict(
            f"the code tree has a cycle through '{row['code']}'",
            where=f"{where}:{line}",
            hint="fix the parent column",
        )
    return [rows[i] for i in order]
