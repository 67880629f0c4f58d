"""Cases: the case tree (region → site → respondent, any depth) and typed attributes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from caseframe.api.base import ProjectBase
from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.model import Case
from caseframe.store.lookup import case_row
from caseframe.store.queries import cases as q
from caseframe.util import tree
from caseframe.util.csvfile import read_csv_rows
from caseframe.util.names import unknown
from caseframe.util.values import infer_type, parse_value

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.case_table import CaseTable

CASE_COLUMNS = ("id", "label", "kind", "parent")


class CasesMixin(ProjectBase):
    # -- writing ------------------------------------------------------------------------------

    def add_case(
        self,
        key: str,
        label: str | None = None,
        kind: str = "case",
        parent: str | None = None,
        attributes: dict[str, Any] | None = None,
        description: str = "",
        *,
        actor: str | None = None,
    ) -> Case:
        with self.writing(actor) as w:
            case_id = _insert_case(w.conn, key, label, kind, parent, attributes or {}, description)
            case = q.load(w.conn, [case_id])[0]
            w.audit("add", "case", case.key, None, case)
        return case

    def import_cases(self, path: str | Path, *, actor: str | None = None) -> list[Case]:
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
        with self.writing(actor) as w:
            attribute_ids: dict[str, tuple[int, str]] = {}
            ids = []
            for key in order:
                line, row = by_key[key]
                attrs = {c: row[c] for c in attr_columns if row.get(c, "") != ""}
                try:
                    ids.append(
                        _insert_case(
                            w.conn,
                            key,
                            row.get("label") or None,
                            row.get("kind") or "case",
                            row.get("parent") or None,
                            attrs,
                            row.get("description", ""),
                            types,
                            attribute_ids,
                        )
                    )
                except CaseframeError as exc:
                    raise type(exc)(exc.message, where=f"{path}:{line}", hint=exc.hint) from None
            by_id = {c.id: c for c in q.load(w.conn, ids)}
            added = [by_id[i] for i in ids]
            for case in added:
                w.audit("add", "case", case.key, None, case)
        return added

    def move_case(self, key: str, new_parent: str | None, *, actor: str | None = None) -> Case:
        with self.writing(actor) as w:
            row = case_row(w.conn, key)
            before = q.load(w.conn, [row.id])[0]
            parent_id = case_row(w.conn, new_parent).id if new_parent else None
            if tree.would_cycle(row.id, parent_id, q.parent_links(w.conn)):
                raise Conflict(
                    f"moving case '{key}' under '{new_parent}' would make a cycle",
                    hint="a case cannot be inside itself",
                )
            q.set_parent(w.conn, row.id, parent_id)
            after = q.load(w.conn, [row.id])[0]
            w.audit("move", "case", row.key, before, after)
        return after

    def set_case_attributes(
        self, key: str, attributes: dict[str, Any], *, actor: str | None = None
    ) -> Case:
        with self.writing(actor) as w:
            row = case_row(w.conn, key)
            before = q.load(w.conn, [row.id])[0]
            _write_attributes(w.conn, row.id, attributes, {}, {})
            after = q.load(w.conn, [row.id])[0]
            w.audit("update", "case", row.key, before, after)
        return after

    # -- reading ------------------------------------------------------------------------------

    def cases(self) -> list[Case]:
        with self.store.read() as conn:
            return q.load(conn)

    def case(self, key: str) -> Case:
        with self.store.read() as conn:
            return q.load(conn, [case_row(conn, key).id])[0]

    def attribute_types(self) -> dict[str, str]:
        with self.store.read() as conn:
            return q.attribute_types(conn)

    def cases_records(self, inherited: bool = True) -> list[dict[str, Any]]:
        """One dict per case: key, label, kind, parent, path, depth and every attribute (None
        where the case has no value).

        With `inherited`, a case shows its ancestors' attributes where it has none of its own
        (a respondent takes the setting of its service).
        """
        return self._case_records(inherited)[0]

    def _case_records(self, inherited: bool) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The records and the attributes' types."""
        with self.store.read() as conn:
            cases = q.load(conn)
            types = q.attribute_types(conn)
        by_id = {c.id: c for c in cases}
        parent_of = {c.id: c.parent_id for c in cases}
        names = sorted({n for c in cases for n in c.attributes})
        records = []
        for c in cases:
            chain = [c] + [by_id[a] for a in tree.ancestors(c.id, parent_of)]
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
        return records, {n: types.get(n, "text") for n in names}

    def cases_frame(self, inherited: bool = True) -> pd.DataFrame:
        """`cases_records` as a DataFrame (integer attributes as nullable integers)."""
        import pandas as pd

        records, types = self._case_records(inherited)
        frame = pd.DataFrame.from_records(
            records, columns=["key", "label", "kind", "parent", "path", "depth", *types]
        )
        for name, kind in types.items():  # keep integers whole where some cases have no value
            if kind == "integer":
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
        from caseframe.analysis.case_table import build_case_table

        frame = self.cases_frame()
        if by and by not in frame.columns:
            raise unknown("attribute", by, self.attribute_types(), "caseframe cases list")
        notes = {c.key: c.attributes.get("note", "") for c in self.cases()}
        return build_case_table(frame, by, group_kind, unit_kind, site_kind, notes)


def _insert_case(
    conn: Connection,
    key: str,
    label: str | None,
    kind: str,
    parent: str | None,
    attributes: dict[str, Any],
    description: str = "",
    types: dict[str, str] | None = None,
    attribute_ids: dict[str, tuple[int, str]] | None = None,
) -> int:
    key = key.strip()
    if not key:
        raise InvalidInput("empty case id", hint="give the case an id such as A5")
    if q.key_exists(conn, key):
        raise Conflict(f"case '{key}' already exists", hint="case ids must be unique")
    parent_id = case_row(conn, parent).id if parent else None
    case_id = q.insert(conn, key, label or key, kind or "case", parent_id, description or "")
    _write_attributes(
        conn, case_id, attributes, types or {}, {} if attribute_ids is None else attribute_ids
    )
    return case_id


def _write_attributes(
    conn: Connection,
    case_id: int,
    attributes: dict[str, Any],
    types: dict[str, str],
    known: dict[str, tuple[int, str]],
) -> None:
    """Set the case's values, creating attributes (typed from `types` or the value) as needed;
    `known` caches attribute (id, type) by name across the cases of one import."""
    for name, value in attributes.items():
        if name not in known:
            attr = q.attribute(conn, name)
            if attr is None:
                kind = types.get(name) or infer_type([str(value)])
                known[name] = (q.insert_attribute(conn, name, kind), kind)
            else:
                known[name] = (attr.id, attr.type)
        attr_id, attr_type = known[name]
        text = "" if value is None else str(value)
        parse_value(text, attr_type, what=f"attribute '{name}'")  # validates
        q.set_value(conn, case_id, attr_id, text)


def _parents_first(by_key: dict[str, tuple[int, dict[str, str]]], where: str) -> list[str]:
    """Order the CSV's cases so a parent comes before its children; refuse a cycle."""
    parent_of: dict[str, str | None] = {}
    for key, (_line, row) in by_key.items():
        parent = row.get("parent", "")
        parent_of[key] = parent if parent in by_key else None  # else: stored already, or unknown
    children = tree.children_of(parent_of)
    order = [key for key, _depth in tree.walk(children.get(None, []), children)]
    if len(order) < len(by_key):  # the rest hang from a loop
        placed = set(order)
        stuck = next(k for k in by_key if k not in placed)
        try:
            tree.ancestors(stuck, parent_of)
        except tree.CycleError as exc:
            loop = [exc.node]
            while (parent := parent_of[loop[-1]]) != exc.node:
                loop.append(parent)
            cycle = " → ".join([*loop, exc.node])  # child → parent
            raise Conflict(
                f"the case tree has a cycle: {cycle}",
                where=f"{where}:{by_key[exc.node][0]}",
                hint="fix the parent column",
            ) from None
    return order
