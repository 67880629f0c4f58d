"""Backups of a store: SQLite through its online backup API (a consistent copy while the
workspace keeps writing), PostgreSQL through pg_dump / pg_restore (custom format)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from caseframe.errors import InvalidInput, StoreVersionError
from caseframe.store import migrate

PAGES_PER_STEP = 1024  # the writer gets the database back between steps


def sqlite_copy(source: str | Path, target: str | Path) -> None:
    """Copy one SQLite database onto another, page by page, each read consistent."""
    with closing(sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True, timeout=30)) as src:
        with closing(sqlite3.connect(str(target), timeout=30)) as dst:
            src.backup(dst, pages=PAGES_PER_STEP)


def sqlite_backup(database: str | Path, out: Path) -> None:
    """A self-contained copy (rollback journal, no -wal file) of a live database at `out`."""
    sqlite_copy(database, out)
    with closing(sqlite3.connect(str(out))) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        check_sqlite(conn, str(out))


def check_sqlite(conn: sqlite3.Connection, where: str) -> str:
    """The schema revision of a caseframe SQLite store; refuses anything else."""
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        rows = conn.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}").fetchall()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(
            f"not a caseframe backup ({exc})",
            where=where,
            hint="give a file made by 'caseframe backup'",
        ) from None
    if ok != "ok":
        raise InvalidInput(f"the backup is damaged ({ok})", where=where)
    if len(rows) != 1 or rows[0][0] not in migrate.known_revisions():
        raise StoreVersionError(
            "the backup's schema version is unknown to this caseframe",
            where=where,
            hint="restore it with the caseframe version that made it",
        )
    return rows[0][0]


def check_sqlite_file(path: str | Path) -> str:
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as conn:
        return check_sqlite(conn, str(path))


def project_name(path: str | Path) -> str | None:
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT name FROM project").fetchone()
    return row[0] if row else None


def _libpq(url: str | URL) -> tuple[str, dict[str, str]]:
    """A connection URI for libpq tools without the password, which goes in PGPASSWORD (an
    argument would show in the process list)."""
    parsed = make_url(url) if isinstance(url, str) else url
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_dump_command(url: str | URL, out: Path) -> tuple[list[str], dict[str, str]]:
    target, env = _libpq(url)
    argv = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={out}"]
    return [*argv, target], env


def pg_restore_command(url: str | URL, backup: Path) -> tuple[list[str], dict[str, str]]:
    target, env = _libpq(url)
    argv = [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={target}",
        str(backup),
    ]
    return argv, env


def run_tool(argv: list[str], env: dict[str, str], where: str) -> None:
    """Run pg_dump or pg_restore; its own message (first line) if it fails."""
    import shutil
    import subprocess

    if shutil.which(argv[0]) is None:
        raise InvalidInput(
            f"{argv[0]} is not installed",
            hint="install the PostgreSQL client tools (Debian: postgresql-client) or run the "
            "printed command where they are (--print)",
        )
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        raise InvalidInput(
            f"{argv[0]} failed: {first[0] if first else done.returncode}", where=where
        )
