"""full-text search over document texts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

SQLite: an FTS5 table with external content (`documents`) and triggers that keep it in step;
PostgreSQL: a GIN index on the texts' tsvector. See `caseframe.store.schema_extra`.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_UP = [
    # unicode61 keeps diacritics (Swedish 'har' and 'hår' are different words)
    "CREATE VIRTUAL TABLE documents_fts USING fts5(text, content='documents', "
    "content_rowid='id', tokenize=\"unicode61 remove_diacritics 0\")",
    "CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "END",
    "CREATE TRIGGER documents_fts_update AFTER UPDATE OF text ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO documents_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",  # texts already there
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS documents_fts_update",
    "DROP TRIGGER IF EXISTS documents_fts_delete",
    "DROP TRIGGER IF EXISTS documents_fts_insert",
    "DROP TABLE IF EXISTS documents_fts",
]
PG_UP = [
    "CREATE INDEX ix_documents_text_search ON documents "
    "USING gin (to_tsvector('simple'::regconfig, text))",
]
PG_DOWN = ["DROP INDEX IF EXISTS ix_documents_text_search"]


def _run(statements: dict[str, list[str]]) -> None:
    bind = op.get_bind()
    for statement in statements.get(bind.dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UP, "postgresql": PG_UP})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN})
