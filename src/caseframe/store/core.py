"""The Store: an engine plus the transaction discipline (every write is one transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from caseframe.store import migrate
from caseframe.store.engine import connect_errors, make_engine, redact


def now() -> datetime:
    return datetime.now(UTC)


def new_guid() -> str:
    """REFI-QDA GUIDs are upper-case."""
    return str(uuid.uuid4()).upper()


class Store:
    def __init__(self, engine: Engine, where: str):
        self.engine = engine
        self.where = where

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def create(cls, url: str, where: str | None = None) -> Store:
        engine = make_engine(url)
        where = where or redact(url)
        with connect_errors(where):
            migrate.upgrade(engine)
        return cls(engine, where)

    @classmethod
    def open(cls, url: str, where: str | None = None) -> Store:
        engine = make_engine(url)
        where = where or redact(url)
        with connect_errors(where):
            migrate.check(engine, where)
        return cls(engine, where)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: commits at the end, rolls back everything on any error."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def compact(self) -> None:
        """Rewrite the store's files so that deleted or replaced text cannot be read back.

        SQLite: checkpoint and truncate the write-ahead log, VACUUM (every page is rewritten, so
        free pages holding old text are gone), truncate the log again; pooled connections are
        then closed so none keeps an old page; the full-text index is merged first, so no
        segment keeps a word of an old text. PostgreSQL: VACUUM FULL of the project's tables,
        outside a transaction (VACUUM refuses to run inside one); the server's own WAL archive
        and backups are beyond caseframe's reach.
        """
        if self.dialect == "sqlite":
            from caseframe.store.queries import search

            with self.transaction() as conn:
                search.purge_deleted(conn)  # words of old texts leave the full-text index
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.execute("VACUUM")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.close()
            finally:
                raw.close()
            self.engine.dispose()
        elif self.dialect == "postgresql":
            from caseframe.store.schema import metadata

            names = sorted(metadata.tables)
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                preparer = conn.dialect.identifier_preparer
                conn.exec_driver_sql("VACUUM FULL " + ", ".join(preparer.quote(n) for n in names))

    def close(self) -> None:
        self.engine.dispose()
