"""SQL for pseudonymising a project: read every text that can name someone, write it back.

Fields are addressed by table and column name (see `caseframe.privacy.targets`) and rows by
their primary key, given as strings the way a review list writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, delete, select, update

from caseframe.errors import NotFound
from caseframe.store import schema as t
from caseframe.store.core import now

_PARK = 1_000_000_000  # offset shift that parks codings while they move (fits 32-bit ints)
Span = tuple[int, int, int]  # (row id, start, end)


def table(name: str) -> Table:
    return t.metadata.tables[name]


def _pk_where(tb: Table, pk: Sequence[Any]) -> list:
    cols = list(tb.primary_key.columns)
    if len(cols) != len(pk):
        raise NotFound(f"bad row reference {tuple(pk)!r} for {tb.name}")
    try:
        return [
            c == (int(v) if c.type.python_type is int else v) for c, v in zip(cols, pk, strict=True)
        ]
    except ValueError:
        raise NotFound(f"bad row reference {tuple(pk)!r} for {tb.name}") from None


# -- reading ----------------------------------------------------------------------------------


def documents(conn: Connection, names: Sequence[str] | None = None) -> list[Row]:
    """(id, name, text, content_hash) of the named documents, or of all by name."""
    from caseframe.store.lookup import document_row

    if names:
        return [document_row(conn, n) for n in names]
    d = t.documents.c
    return list(conn.execute(select(d.id, d.name, d.text, d.content_hash).order_by(d.name)))


def column_values(
    conn: Connection, table_name: str, column: str
) -> list[tuple[str, str, tuple, Any]]:
    """(table, column, primary key, value) of every row with a value there, in key order."""
    tb = table(table_name)
    pk = list(tb.primary_key.columns)
    rows = conn.execute(select(*pk, tb.c[column]).order_by(*pk))
    return [(table_name, column, tuple(r[:-1]), r[-1]) for r in rows if r[-1] is not None]


def field_value(conn: Connection, table_name: str, column: str, pk: Sequence[Any]) -> Any:
    tb = table(table_name)
    return conn.scalar(select(tb.c[column]).where(*_pk_where(tb, pk)))


def scoped_values(
    conn: Connection, table_name: str, column: str, scope: str | None
) -> list[tuple[str, Any, str]]:
    """(primary key as text, scope value, value) for a column unique within `scope`."""
    tb = table(table_name)
    pk = list(tb.primary_key.columns)
    scope_col = tb.c[scope] if scope else None
    cols = [*pk, scope_col, tb.c[column]] if scope_col is not None else [*pk, tb.c[column]]
    out = []
    for row in conn.execute(select(*cols)):
        key = ":".join(str(v) for v in row[: len(pk)])
        out.append((key, row[len(pk)] if scope_col is not None else None, row[-1]))
    return out


def spans(conn: Connection, table_name: str, document_id: int) -> list[Span]:
    tb = table(table_name)
    rows = conn.execute(
        select(tb.c.id, tb.c.start, tb.c.end).where(tb.c.document_id == document_id)
    )
    return [(r.id, r.start, r.end) for r in rows]


def coding_keys(conn: Connection, document_id: int) -> list[tuple[int, int, int]]:
    """(coding id, code id, coder id) of a document's codings."""
    c = t.codings.c
    rows = conn.execute(select(c.id, c.code_id, c.coder_id).where(c.document_id == document_id))
    return [(r.id, r.code_id, r.coder_id) for r in rows]


def content_hashes(conn: Connection) -> dict[int, tuple[str, str]]:
    """Document id -> (name, content hash)."""
    d = t.documents.c
    return {
        r.id: (r.name, r.content_hash) for r in conn.execute(select(d.id, d.name, d.content_hash))
    }


def attribute_values(conn: Connection, attribute: str) -> tuple[int, list[Row]] | None:
    """(attribute id, rows of case key, kind and value) or None if there is no such attribute."""
    attr_id = conn.scalar(select(t.attributes.c.id).where(t.attributes.c.name == attribute))
    if attr_id is None:
        return None
    rows = conn.execute(
        select(t.cases.c.key, t.cases.c.kind, t.case_attributes.c.value)
        .join(t.case_attributes, t.case_attributes.c.case_id == t.cases.c.id)
        .where(t.case_attributes.c.attribute_id == attr_id)
        .order_by(t.cases.c.key)
    ).all()
    return attr_id, rows


# -- writing ----------------------------------------------------------------------------------


def set_value(conn: Connection, table_name: str, column: str, pk: Sequence[Any], value) -> None:
    tb = table(table_name)
    conn.execute(update(tb).where(*_pk_where(tb, pk)).values({column: value}))


def rewrite_document(
    conn: Connection, document_id: int, text: str, content_hash: str, words: int
) -> None:
    """New text of a pseudonymised document; its source path is forgotten."""
    conn.execute(
        update(t.documents)
        .where(t.documents.c.id == document_id)
        .values(
            text=text,
            content_hash=content_hash,
            word_count=words,
            pseudonymised=True,
            source_path=None,
            updated_at=now(),
        )
    )


def move_spans(conn: Connection, table_name: str, moved: Iterable[Span]) -> None:
    """New offsets for codings, speaker turns or meaning units.

    Codings are unique on their offsets, so they are first parked out of the way: one
    coding's new range never clashes with another's old one mid-update.
    """
    moved = list(moved)
    if not moved:
        return
    tb = table(table_name)
    statement = (
        update(tb)
        .where(tb.c.id == bindparam("row_id"))
        .values(start=bindparam("new_start"), end=bindparam("new_end"))
    )
    if table_name == "codings":
        parked = [{"row_id": i, "new_start": s + _PARK, "new_end": e + _PARK} for i, s, e in moved]
        conn.execute(statement, parked)
    conn.execute(statement, [{"row_id": i, "new_start": s, "new_end": e} for i, s, e in moved])


def clear_source_paths(conn: Connection) -> int:
    return conn.execute(
        update(t.documents).where(t.documents.c.source_path.is_not(None)).values(source_path=None)
    ).rowcount


def delete_attribute(conn: Connection, attribute_id: int) -> None:
    conn.execute(delete(t.case_attributes).where(t.case_attributes.c.attribute_id == attribute_id))
    conn.execute(delete(t.attributes).where(t.attributes.c.id == attribute_id))


def document_by_name(conn: Connection, name: str) -> Row:
    return conn.execute(
        select(t.documents.c.id, t.documents.c.text).where(t.documents.c.name == name)
    ).one()


def replace_turns_and_units(
    conn: Connection,
    document_id: int,
    turns: Sequence[tuple[int, str, int, int]],
    scheme: str,
    units: Sequence[tuple[int, int, str | None]],
) -> None:
    """A freshly imported, pseudonymised document's speaker turns (index, speaker, start,
    end) and meaning units (start, end, speaker); it is marked pseudonymised, no source path."""
    conn.execute(
        update(t.documents)
        .where(t.documents.c.id == document_id)
        .values(source_path=None, pseudonymised=True)
    )
    conn.execute(delete(t.speaker_turns).where(t.speaker_turns.c.document_id == document_id))
    conn.execute(delete(t.meaning_units).where(t.meaning_units.c.document_id == document_id))
    if turns:
        conn.execute(
            t.speaker_turns.insert(),
            [
                {"document_id": document_id, "idx": i, "speaker": spk, "start": s, "end": e}
                for i, spk, s, e in turns
            ],
        )
    if units:
        conn.execute(
            t.meaning_units.insert(),
            [
                {
                    "document_id": document_id,
                    "scheme": scheme,
                    "idx": i,
                    "start": s,
                    "end": e,
                    "speaker": spk,
                }
                for i, (s, e, spk) in enumerate(units)
            ],
        )
