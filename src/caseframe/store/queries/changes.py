"""The project's change stamp: what a cached analysis result is valid for.

Every API write is audited, and audit ids only grow, so the newest audit id alone moves with
every change made through caseframe. The highest id and the row count of the tables analyses
read are added so that a write that bypasses the API (a bulk load, a test filling the store
directly) also moves it. One query; every part is an index lookup or an index count.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from caseframe.store import schema as t

_TABLES = (
    t.documents,
    t.codes,
    t.codings,
    t.meaning_units,
    t.coder_documents,
    t.cases,
    t.document_cases,
    t.case_attributes,
    t.code_mappings,
)


def change_stamp(conn: Connection) -> tuple[int, ...]:
    """(newest audit id, then highest id or row count of each table analyses read)."""
    parts = [select(func.coalesce(func.max(t.audit_log.c.id), 0)).scalar_subquery()]
    for table in _TABLES:
        if "id" in table.c:
            parts.append(select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery())
        parts.append(select(func.count()).select_from(table).scalar_subquery())
    return tuple(int(v) for v in conn.execute(select(*parts)).one())
