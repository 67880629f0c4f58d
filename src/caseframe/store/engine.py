"""Engines for the two supported stores: an SQLite file (default) or a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, OperationalError

from caseframe.errors import InvalidInput, StoreVersionError


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            # SQLite's own transaction handling is replaced by explicit BEGIN (see below).
            event.listen(engine, "begin", _sqlite_begin)
        elif url.startswith("postgresql"):
            engine = create_engine(url, pool_pre_ping=True)
        else:
            raise InvalidInput(
                f"unsupported database URL '{redact(url)}'",
                hint="use an SQLite path or a postgresql:// URL",
            )
    except ArgumentError as exc:
        raise InvalidInput(f"invalid database URL: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Autocommit at the driver level so that SQLAlchemy's BEGIN below is the only transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (web workspace)
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A write transaction takes the lock at BEGIN (IMMEDIATE), so two writers queue instead of one
    # failing mid-way; reads use a deferred BEGIN and run beside the writer under WAL.
    if conn.get_execution_options().get("write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


@contextmanager
def connect_errors(where: str) -> Iterator[None]:
    """Turn a failure to reach the database into one clear line."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreVersionError(
            f"cannot open the store: {reason}",
            where=where,
            hint="check the path or the database server and its URL",
        ) from None
