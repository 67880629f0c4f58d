"""Resolving what users type (a case key, a code name or path, a document name) to rows.

One place for these lookups, so every interface reports an unknown name the same way.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, func, select

from caseframe.errors import InvalidInput, NotFound
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now

PATH_SEPARATOR = "/"


def _suggest(names: list[str], limit: int = 8) -> str:
    if not names:
        return "there are none yet"
    shown = ", ".join(sorted(names)[:limit])
    return f"known: {shown}{' …' if len(names) > limit else ''}"


def case_row(conn: Connection, key: str) -> Row:
    row = conn.execute(select(t.cases).where(t.cases.c.key == key)).first()
    if row is None:
        row = conn.execute(select(t.cases).where(func.lower(t.cases.c.key) == key.lower())).first()
    if row is None:
        keys = list(conn.scalars(select(t.cases.c.key)))
        raise NotFound(f"unknown case '{key}'", hint=_suggest(keys))
    return row


def document_row(conn: Connection, ref: str | int) -> Row:
    query = select(t.documents)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = conn.execute(query.where(t.documents.c.id == int(ref))).first()
        if row is not None:
            return row
    row = conn.execute(query.where(t.documents.c.name == str(ref))).first()
    if row is None:
        # allow the file name without extension
        candidates = conn.execute(select(t.documents.c.id, t.documents.c.name)).all()
        stem = [c for c in candidates if c.name.rsplit(".", 1)[0] == str(ref)]
        if len(stem) == 1:
            row = conn.execute(query.where(t.documents.c.id == stem[0].id)).first()
        else:
            raise NotFound(f"unknown document '{ref}'", hint=_suggest([c.name for c in candidates]))
    return row


def code_path(conn: Connection, code_id: int) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    current: int | None = code_id
    while current is not None and current not in seen:
        seen.add(current)
        row = conn.execute(
            select(t.codes.c.name, t.codes.c.parent_id).where(t.codes.c.id == current)
        ).first()
        if row is None:
            break
        parts.append(row.name)
        current = row.parent_id
    return PATH_SEPARATOR.join(reversed(parts))


def code_row(conn: Connection, ref: str | int) -> Row:
    """A code by id, by unique name, or by path 'Theme/Main category/Category'."""
    if isinstance(ref, int):
        row = conn.execute(select(t.codes).where(t.codes.c.id == ref)).first()
        if row is None:
            raise NotFound(f"unknown code id {ref}")
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
    names = list(conn.scalars(select(t.codes.c.name)))
    raise NotFound(f"unknown code '{ref}'", hint=_suggest(names))


def coder_row(conn: Connection, name: str, *, create: bool = False, kind: str = "human") -> Row:
    row = conn.execute(select(t.coders).where(t.coders.c.name == name)).first()
    if row is None and create:
        if not name.strip():
            raise InvalidInput("empty coder name", hint="name the coder with --coder")
        conn.execute(
            t.coders.insert().values(name=name, kind=kind, guid=new_guid(), created_at=now())
        )
        row = conn.execute(select(t.coders).where(t.coders.c.name == name)).first()
    if row is None:
        names = list(conn.scalars(select(t.coders.c.name)))
        raise NotFound(f"unknown coder '{name}'", hint=_suggest(names))
    return row


def framework_row(conn: Connection, key: str) -> Row:
    row = conn.execute(
        select(t.frameworks).where(func.lower(t.frameworks.c.key) == key.lower())
    ).first()
    if row is None:
        keys = list(conn.scalars(select(t.frameworks.c.key)))
        raise NotFound(f"unknown framework '{key}'", hint=_suggest(keys))
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
    row = conn.execute(
        select(t.framework_components).where(
            t.framework_components.c.framework_id == fw.id,
            func.lower(t.framework_components.c.key) == comp_key.strip().lower(),
        )
    ).first()
    if row is None:
        keys = list(
            conn.scalars(
                select(t.framework_components.c.key).where(
                    t.framework_components.c.framework_id == fw.id
                )
            )
        )
        raise NotFound(
            f"unknown component '{comp_key}' in framework '{fw.key}'", hint=_suggest(keys, 30)
        )
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
