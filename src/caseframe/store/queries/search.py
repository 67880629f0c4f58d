"""Full-text search in the store: which documents may hold every word of a query.

SQLite answers from the FTS5 table `documents_fts`, PostgreSQL from the GIN index on the texts'
tsvector (`caseframe.store.schema_extra`). Both are candidate filters: the exact hits are found
in the texts afterwards, so the two stores give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, func, literal_column, select, text

from caseframe.store import schema as t
from caseframe.store.schema_extra import FTS_TABLE, FTS_TRIGGERS, PG_CONFIG, PG_INDEX

# A term: its words (lower-case, word characters only) and whether the last is a prefix.
Term = tuple[Sequence[str], bool]


def _fts5_match(terms: Iterable[Term]) -> str:
    # words hold only word characters, so quoting them cannot break out of the phrase
    return " ".join(
        '"' + " ".join(words) + '"' + ("*" if prefix else "") for words, prefix in terms
    )


def _tsquery(terms: Iterable[Term]) -> str:
    # every word (a phrase's words too, in any order: the texts decide the phrase)
    parts = []
    for words, prefix in terms:
        for i, word in enumerate(words):
            last = i == len(words) - 1
            parts.append(word + (":*" if prefix and last else ""))
    return " & ".join(parts)


def candidate_documents(
    conn: Connection, terms: Sequence[Term], document_ids: Sequence[int] | None = None
) -> list[int]:
    """Ids of the documents that may contain every term (a superset of those that do)."""
    if conn.dialect.name == "sqlite":
        query = select(literal_column("rowid", type_=t.documents.c.id.type)).select_from(
            text(FTS_TABLE)
        )
        query = query.where(text(f"{FTS_TABLE} MATCH :match").bindparams(match=_fts5_match(terms)))
        if document_ids is not None:
            query = query.where(literal_column("rowid").in_(list(document_ids)))
        return [int(i) for i in conn.scalars(query)]
    if conn.dialect.name == "postgresql":
        config = literal_column(f"'{PG_CONFIG}'::regconfig")
        vector = func.to_tsvector(config, t.documents.c.text)
        query = select(t.documents.c.id).where(
            vector.op("@@")(func.to_tsquery(config, _tsquery(terms)))
        )
        if document_ids is not None:
            query = query.where(t.documents.c.id.in_(list(document_ids)))
        return list(conn.scalars(query))
    return list(conn.scalars(select(t.documents.c.id)))  # no index: every text is read


def names(conn: Connection, document_ids: Sequence[int]) -> dict[int, str]:
    rows = conn.execute(
        select(t.documents.c.id, t.documents.c.name).where(t.documents.c.id.in_(document_ids))
    )
    return {r.id: r.name for r in rows}


def texts(conn: Connection, document_ids: Sequence[int]) -> dict[int, str]:
    rows = conn.execute(
        select(t.documents.c.id, t.documents.c.text).where(t.documents.c.id.in_(document_ids))
    )
    return {r.id: r.text for r in rows}


def turns(conn: Connection, document_ids: Sequence[int]) -> dict[int, list[tuple[int, int, str]]]:
    """Speaker turns of several documents as (start, end, speaker), in text order."""
    st = t.speaker_turns.c
    out: dict[int, list[tuple[int, int, str]]] = {i: [] for i in document_ids}
    rows = conn.execute(
        select(st.document_id, st.start, st.end, st.speaker)
        .where(st.document_id.in_(document_ids))
        .order_by(st.document_id, st.start)
    )
    for r in rows:
        out[r.document_id].append((r.start, r.end, r.speaker))
    return out


def index_objects(conn: Connection) -> set[str]:
    """The search objects present in the store (to check that migrations made them)."""
    if conn.dialect.name == "sqlite":
        wanted = {FTS_TABLE, *FTS_TRIGGERS}
        rows = conn.execute(text("SELECT name FROM sqlite_master"))
        return {r.name for r in rows} & wanted
    rows = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'documents'"))
    return {r.indexname for r in rows} & {PG_INDEX}


def purge_deleted(conn: Connection) -> None:
    """Merge the index so words of replaced or deleted texts are gone from its pages too
    (FTS5 keeps them until segments merge; PostgreSQL's VACUUM FULL rebuilds the index)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))
