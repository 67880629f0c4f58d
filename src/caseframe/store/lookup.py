"""Resolving what users type (a case key, a code name or path, a document name) to rows.

One place for these lookups, so every interface reports an unknown name the same way: the
closest known names (`caseframe.util.names.unknown`) and the command that lists them all.
"""

from __future__ import annotations

import functools

from sqlalchemy import Connection, Row, bindparam, func, select

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.util import tree
from caseframe.util.names import unknown

PATH_SEPARATOR = "/"


# Statements run on every coding a user applies, built once: constructing a statement and its
# cache key costs more than running it on SQLite.
def _document_select(length_only: bool):
    d = t.documents.c
    cols = (d.id, d.name, func.length(d.text).label("length")) if length_only else (t.documents,)
    return select(*cols)


@functools.cache
def _document_by_id(length_only: bool):
    return _document_select(length_only).where(t.documents.c.id == bindparam("id"))


@functools.cache
def _code_by_id():
    return select(t.codes).where(t.codes.c.id == bindparam("id"))


@functools.cache
def _coder_by_name():
    return select(t.coders).where(t.coders.c.name == bindparam("name"))


def case_row(conn: Connection, key: str) -> Row:
    row = conn.execute(select(t.cases).where(t.cases.c.key == key)).first()
    if row is None:
        row = conn.execute(select(t.cases).where(func.lower(t.cases.c.key) == key.lower())).first()
    if row is None:
        keys = conn.scalars(select(t.cases.c.key).order_by(t.cases.c.id))
        raise unknown("case", key, keys, "caseframe cases list")
    return row


def document_row(conn: Connection, ref: str | int, *, length_only: bool = False) -> Row:
    """The document's row; with `length_only`, its id, name and text length alone (checking a
    range must not read a 30,000-word text)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = conn.execute(_document_by_id(length_only), {"id": int(ref)}).first()
        if row is not None:
            return row
    query = _document_select(length_only)
    row = conn.execute(query.where(t.documents.c.name == str(ref))).first()
    if row is None:
        # allow the file name without extension
        candidates = conn.execute(select(t.documents.c.id, t.documents.c.name)).all()
        stem = [c for c in candidates if c.name.rsplit(".", 1)[0] == str(ref)]
        if len(stem) != 1:
            names = [c.name for c in candidates]
            raise unknown("document", str(ref), names, "caseframe documents list")
        row = conn.execute(_document_by_id(length_only), {"id": stem[0].id}).first()
    return row


def code_path(conn: Connection, code_id: int) -> str:
    """'Theme/Main category/Category' of one code (one query up its ancestors)."""
    c = t.codes.c
    up = select(c.id, c.name, c.parent_id).where(c.id == code_id).cte("up", recursive=True)
    up = up.union(select(c.id, c.name, c.parent_id).join(up, c.id == up.c.parent_id))
    rows = conn.execute(select(up.c.id, up.c.name, up.c.parent_id)).all()
    if not rows:
        return ""
    names = {r.id: r.name for r in rows}
    parent_of = {r.id: r.parent_id for r in rows}
    try:
        chain = [code_id, *tree.ancestors(code_id, parent_of)]
    except tree.CycleError as exc:
        raise Conflict(f"the code tree has a cycle through code id {exc.node}") from None
    return PATH_SEPARATOR.join(names[i] for i in reversed(chain) if i in names)


def code_row(conn: Connection, ref: str | int) -> Row:
    """A code by id, by unique name, or by path 'Theme/Main category/Category'."""
    if isinstance(ref, int):
        row = conn.execute(_code_by_id(), {"id": ref}).first()
        if row is None:
            raise NotFound(f"unknown code id {ref}", hint="list them with 'caseframe codes list'")
        return row
    ref = ref.strip()
    rows = conn.execute(select(t.codes).where(t.codes.c.name == ref)).all()
    if not rows:
        rows = conn.execute(select(t.codes).where(func.lower(t.codes.c.name) == ref.lower())).all()
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        paths = [code_path(conn, r.id) for r in rows]
        raise InvalidInput(
            f"code name '{ref}' is ambiguous", hint=f"use its path: {', '.join(paths)}"
        )
    if PATH_SEPARATOR in ref:
        parent_id: int | None = None
        row = None
        for part in ref.split(PATH_SEPARATOR):
            row = conn.execute(
                select(t.codes).where(
                    func.lower(t.codes.c.name) == part.strip().lower(),
                    t.codes.c.parent_id.is_(None)
                    if parent_id is None
                    else t.codes.c.parent_id == parent_id,
                )
            ).first()
            if row is None:
                break
            parent_id = row.id
        if row is not None:
            return row
    raise unknown(
        "code", ref, _code_names(conn, by_path=PATH_SEPARATOR in ref), "caseframe codes list"
    )


def _code_names(conn: Connection, by_path: bool) -> list[str]:
    """Every code's name, or (for a typed path) every code's path, in tree order."""
    rows = conn.execute(
        select(t.codes.c.id, t.codes.c.name, t.codes.c.parent_id).order_by(
            t.codes.c.position, t.codes.c.id
        )
    ).all()
    if not by_path:
        return [r.name for r in rows]
    names = {r.id: r.name for r in rows}
    children = tree.children_of({r.id: r.parent_id for r in rows})
    paths: dict[int, str] = {}
    parent_of = {r.id: r.parent_id for r in rows}
    for node, _depth in tree.walk(children.get(None, []), children):
        parent = parent_of[node]
        paths[node] = names[node] if parent is None else f"{paths[parent]}/{names[node]}"
    return list(paths.values())


def coder_row(conn: Connection, name: str, *, create: bool = False, kind: str = "human") -> Row:
    row = conn.execute(_coder_by_name(), {"name": name}).first()
    if row is None and create:
        if not name.strip():
            raise InvalidInput("empty coder name", hint="name the coder with --coder")
        conn.execute(
            t.coders.insert().values(name=name, kind=kind, guid=new_guid(), created_at=now())
        )
        row = conn.execute(select(t.coders).where(t.coders.c.name == name)).first()
    if row is None:
        names = conn.scalars(select(t.coders.c.name).order_by(t.coders.c.id))
        raise unknown("coder", name, names, "caseframe coders list")
    return row


def framework_row(conn: Connection, key: str) -> Row:
    row = conn.execute(
        select(t.frameworks).where(func.lower(t.frameworks.c.key) == key.lower())
    ).first()
    if row is None:
        keys = conn.scalars(select(t.frameworks.c.key).order_by(t.frameworks.c.id))
        raise unknown("framework", key, keys, "caseframe framework list")
    return row


def component_row(conn: Connection, ref: str, default_framework: str | None = None) -> Row:
    """A framework component from 'sis:O10' or, with a default framework, 'O10'."""
    if ":" in ref:
        fw_key, comp_key = ref.split(":", 1)
    elif default_framework:
        fw_key, comp_key = default_framework, ref
    else:
        raise InvalidInput(
            f"component '{ref}' names no framework", hint="write it as FRAMEWORK:ID, e.g. sis:O10"
        )
    fw = framework_row(conn, fw_key)
    fc = t.framework_components.c
    comp_key = comp_key.strip()
    row = conn.execute(
        select(t.framework_components).where(
            fc.framework_id == fw.id, func.lower(fc.key) == comp_key.lower()
        )
    ).first()
    if row is None:
        comps = conn.execute(
            select(fc.key, fc.name).where(fc.framework_id == fw.id).order_by(fc.position, fc.id)
        ).all()
        # someone who types a component's name is told its id
        named = [c.key for c in comps if c.name.casefold() == comp_key.casefold()]
        listing = f"caseframe framework show {fw.key}"
        if named:
            hint = f"name it by its id: '{named[0]}' (list them all with '{listing}')"
        else:
            hint = unknown("component", comp_key, [c.key for c in comps], listing).hint
        raise NotFound(f"unknown component '{comp_key}' in framework '{fw.key}'", hint=hint)
    return row


def component_ref(conn: Connection, component_id: int | None) -> str | None:
    if component_id is None:
        return None
    row = conn.execute(
        select(t.frameworks.c.key, t.framework_components.c.key.label("ckey"))
        .join(t.frameworks, t.frameworks.c.id == t.framework_components.c.framework_id)
        .where(t.framework_components.c.id == component_id)
    ).first()
    return f"{row.key}:{row.ckey}" if row else None


def document_case_keys(conn: Connection) -> dict[int, list[str]]:
    """document id -> keys of the cases it is linked to (sorted)."""
    out: dict[int, list[str]] = {}
    for doc_id, key in conn.execute(
        select(t.document_cases.c.document_id, t.cases.c.key)
        .join(t.cases, t.cases.c.id == t.document_cases.c.case_id)
        .order_by(t.cases.c.key)
    ):
        out.setdefault(doc_id, []).append(key)
    return out
