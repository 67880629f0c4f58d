"""Cases: the case tree (region → site → respondent, any depth) and typed attributes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, select

from caseframe.analysis.case_table import CaseTable, build_case_table
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import Case
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import case_row
from caseframe.util.csvfile import read_csv_rows
from caseframe.util.values import infer_type, parse_value

CASE_COLUMNS = ("id", "label", "kind", "parent")


class CasesMixin:
    store: Any

    # -- writing ------------------------------------------------------------------------------

    def add_case(
        self,
        key: str,
        label: str | None = None,
        kind: str = "case",
        parent: str | None = None,
        attributes: dict[str, Any] | None = None,
        description: str = "",
    ) -> Case:
        with self.store.transaction() as conn:
            self._insert_case(conn, key, label, kind, parent, attributes or {}, description)
        return self.case(key)

    def import_cases(self, path: str | Path) -> list[Case]:
        """Add the cases of a CSV (id, label, kind, parent, any attribute columns), all or none."""
        header, rows = read_csv_rows(path, required=("id",))
        attr_columns = [h for h in header if h not in CASE_COLUMNS and h != "description"]
        by_key: dict[str, tuple[int, dict[str, str]]] = {}
        for line, row in rows:
            key = row["id"]
            if not key:
                raise InvalidInput("empty case id", where=f"{path}:{line}")
            if key in by_key:
                raise Conflict(
                    f"duplicate case id '{key}' (first on line {by_key[key][0]})",
                    where=f"{path}:{line}",
                )
            by_key[key] = (line, row)
        order = _parents_first(by_key, str(path))
        types = {
            col: infer_type(row.get(col, "") for _line, row in by_key.values())
            for col in attr_columns
        }
        with self.store.transaction() as conn:
            for key in order:
                line, row = by_key[key]
                attrs = {c: row[c] for c in attr_columns if row.get(c, "") != ""}
                try:
                    self._insert_case(
                        conn,
                        key,
                        row.get("label") or None,
                        row.get("kind") or "case",
                        row.get("parent") or None,
                        attrs,
                        row.get("description", ""),
                        types,
                    )
                except (Conflict, NotFound, InvalidInput) as exc:
                    exc.where = f"{path}:{line}"
                    raise type(exc)(exc.message, where=exc.where, hint=exc.hint) from None
        return [self.case(k) for k in order]

    def move_case(self, key: str, new_parent: str | None) -> Case:
        with self.store.transaction() as conn:
            row = case_row(conn, key)
            parent_id = None
            if new_parent:
                parent = case_row(conn, new_parent)
                ancestor: int | None = parent.id
                while ancestor is not None:
                    if ancestor == row.id:
                        raise Conflict(
                            f"moving case '{key}' under '{new_parent}' would make a cycle",
                            hint="a case cannot be inside itself",
                        )
                    ancestor = conn.scalar(
                        select(t.cases.c.parent_id).where(t.cases.c.id == ancestor)
                    )
                parent_id = parent.id
            conn.execute(
                t.cases.update()
                .where(t.cases.c.id == row.id)
                .values(parent_id=parent_id, updated_at=now())
            )
        return self.case(key)

    def set_case_attributes(self, key: str, attributes: dict[str, Any]) -> Case:
        with self.store.transaction() as conn:
            row = case_row(conn, key)
            self._write_attributes(conn, row.id, attributes, {})
        return self.case(key)

    def _insert_case(
        self,
        conn: Connection,
        key: str,
        label: str | None,
        kind: str,
        parent: str | None,
        attributes: dict[str, Any],
        description: str = "",
        types: dict[str, str] | None = None,
    ) -> int:
        key = key.strip()
        if not key:
            raise InvalidInput("empty case id", hint="give the case an id such as A5")
        if conn.execute(select(t.cases.c.id).where(t.cases.c.key == key)).first():
            raise Conflict(f"case '{key}' already exists", hint="case ids must be unique")
        parent_id = case_row(conn, parent).id if parent else None
        stamp = now()
        case_id = conn.execute(
            t.cases.insert().values(
                key=key,
                label=label or key,
                kind=kind or "case",
                parent_id=parent_id,
                description=description or "",
                guid=new_guid(),
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key[0]
        self._write_attributes(conn, case_id, attributes, types or {})
        return case_id

    def _write_attributes(
        self, conn: Connection, case_id: int, attributes: dict[str, Any], types: dict[str, str]
    ) -> None:
        for name, value in attributes.items():
            attr = conn.execute(select(t.attributes).where(t.attributes.c.name == name)).first()
            if attr is None:
                kind = types.get(name) or infer_type([str(value)])
                attr_id = conn.execute(
                    t.attributes.insert().values(name=name, type=kind, guid=new_guid())
                ).inserted_primary_key[0]
                attr_type = kind
            else:
                attr_id, attr_type = attr.id, attr.type
            text = "" if value is None else str(value)
            parse_value(text, attr_type, what=f"attribute '{name}'")  # validates
            conn.execute(
                delete(t.case_attributes).where(
                    t.case_attributes.c.case_id == case_id,
                    t.case_attributes.c.attribute_id == attr_id,
                )
            )
            if text != "":
                conn.execute(
                    t.case_attributes.insert().values(
                        case_id=case_id, attribute_id=attr_id, value=text
                    )
                )

    # -- reading ------------------------------------------------------------------------------

    def cases(self) -> list[Case]:
        with self.store.read() as conn:
            return _load_cases(conn)

    def case(self, key: str) -> Case:
        with self.store.read() as conn:
            row = case_row(conn, key)
            return next(c for c in _load_cases(conn) if c.id == row.id)

    def attribute_types(self) -> dict[str, str]:
        with self.store.read() as conn:
            return {r.name: r.type for r in conn.execute(select(t.attributes))}

    def cases_frame(self, inherited: bool = True) -> pd.DataFrame:
        """One row per case: key, label, kind, parent, path, depth and attributes.

        With `inherited`, a case shows its ancestors' attributes where it has none of its own
        (a respondent takes the setting of its service).
        """
        cases = self.cases()
        types = self.attribute_types()
        by_id = {c.id: c for c in cases}
        names = sorted({n for c in cases for n in c.attributes})
        records = []
        for c in cases:
            chain = _ancestors(c, by_id)
            record: dict[str, Any] = {
                "key": c.key,
                "label": c.label,
                "kind": c.kind,
                "parent": c.parent_key,
                "path": "/".join(a.key for a in reversed(chain)),
                "depth": len(chain) - 1,
            }
            for name in names:
                value = None
                for node in chain if inherited else [c]:
                    if name in node.attributes:
                        value = node.attributes[name]
                        break
                record[name] = (
                    parse_value(value, types.get(name, "text")) if value is not None else None
                )
            records.append(record)
        frame = pd.DataFrame.from_records(
            records, columns=["key", "label", "kind", "parent", "path", "depth", *names]
        )
        for name in names:  # keep integers whole where some cases have no value
            if types.get(name) == "integer":
                frame[name] = frame[name].astype("Int64")
        return frame

    def case_table(
        self,
        by: str | None = "setting",
        group_kind: str = "region",
        unit_kind: str = "respondent",
        site_kind: str = "site",
    ) -> CaseTable:
        """The study's Table 1: per region, respondents and services, counts by an attribute."""
        frame = self.cases_frame()
        if by and by not in frame.columns:
            raise NotFound(
                f"unknown attribute '{by}'",
                hint=f"case attributes: {', '.join(self.attribute_types()) or 'none'}",
            )
        notes = {c.key: c.attributes.get("note", "") for c in self.cases()}
        return build_case_table(frame, by, group_kind, unit_kind, site_kind, notes)


def _ancestors(case: Case, by_id: dict[int, Case]) -> list[Case]:
    chain = [case]
    seen = {case.id}
    while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
        parent = by_id[chain[-1].parent_id]
        seen.add(parent.id)
        chain.append(parent)
    return chain


def _load_cases(conn: Connection) -> list[Case]:
    rows = conn.execute(select(t.cases).order_by(t.cases.c.id)).all()
    keys = {r.id: r.key for r in rows}
    attrs: dict[int, dict[str, Any]] = {}
    query = select(
        t.case_attributes.c.case_id, t.attributes.c.name, t.case_attributes.c.value
    ).join(t.attributes, t.attributes.c.id == t.case_attributes.c.attribute_id)
    for case_id, name, value in conn.execute(query):
        attrs.setdefault(case_id, {})[name] = value
    return [
        Case(
            id=r.id,
            key=r.key,
            label=r.label,
            kind=r.kind,
            parent_id=r.parent_id,
            parent_key=keys.get(r.parent_id),
            attributes=attrs.get(r.id, {}),
            guid=r.guid,
        )
        for r in rows
    ]


def _parents_first(by_key: dict[str, tuple[int, dict[str, str]]], where: str) -> list[str]:
    """Order rows so a parent is inserted before its children; refuse cycles."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(key: str, trail: Iterable[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = " → ".join([*trail, key])
            raise Conflict(
                f"the case tree has a cycle: {cycle}",
                where=f"{where}:{by_key[key][0]}",
                hint="fix the parent column",
            )
        state[key] = 1
        parent = by_key[key][1].get("parent", "")
        if parent and parent in by_key:
            visit(parent, [*trail, key])
        state[key] = 2
        order.append(key)

    for key in by_key:
        visit(key, [])
    return order
