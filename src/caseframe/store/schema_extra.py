"""Schema objects that SQLAlchemy's metadata cannot describe, made by migrations only.

Full-text search over document texts (migration 0004):
- SQLite: the FTS5 table `documents_fts` (external content: it indexes `documents.text` without
  a second copy of the text) and its shadow tables, kept in step by three triggers on
  `documents`, so every path that writes a text (import, REFI load, pseudonymisation, delete)
  updates the index in its own transaction.
- PostgreSQL: a GIN index on `to_tsvector('simple', text)`, which the server keeps in step.

A batch migration that rebuilds `documents` on SQLite drops its triggers: such a migration must
create them again (`tests/test_search.py` checks they exist at the head revision).
"""

from __future__ import annotations

FTS_TABLE = "documents_fts"
FTS_TRIGGERS = ("documents_fts_insert", "documents_fts_delete", "documents_fts_update")
PG_INDEX = "ix_documents_text_search"
# 'simple': lower-cased words, no stemming and no stop words, like FTS5's unicode61 tokenizer
# (whose diacritics are kept too): the transcripts are in many languages.
PG_CONFIG = "simple"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """For Alembic comparisons: leave out the search objects, which metadata does not hold."""
    if type_ == "table" and name and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    return not (type_ == "index" and name == PG_INDEX)
