"""Backing up and restoring a project's store (`caseframe backup` / `caseframe restore`).

SQLite: a consistent copy made with SQLite's online backup API while the workspace may keep
working; restoring copies the backup onto the project's store the same way. PostgreSQL:
pg_dump and pg_restore in their custom format, run (or only printed) for the project's database.
On SQLite, recordings of transcribed interviews are files in the project folder, not in the store.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store import backup as b
from caseframe.store.core import Store
from caseframe.util.atomic import atomic_path

CONFIG_NAME = "caseframe.json"
SQLITE_NAME = "project.sqlite"


@dataclass(frozen=True)
class BackupResult:
    store: str  # sqlite | postgresql
    path: Path
    command: str | None = None  # the pg_dump / pg_restore command line (password left out)
    ran: bool = True


def _quoted(argv: list[str], env: dict[str, str]) -> str:
    prefix = "PGPASSWORD=… " if env else ""
    return prefix + " ".join(shlex.quote(a) for a in argv)


def backup(store: Store, out: str | Path, *, run: bool = True) -> BackupResult:
    """Write a backup of `store` to `out` (run=False: PostgreSQL only, print the command)."""
    out = Path(out)
    if store.dialect == "sqlite":
        database = store.engine.url.database
        with atomic_path(out) as tmp:
            tmp.unlink()
            b.sqlite_backup(database, tmp)
        return BackupResult("sqlite", out)
    argv, env = b.pg_dump_command(store.engine.url, out)
    if run:
        if not out.parent.is_dir():
            raise NotFound(
                f"folder {out.parent} does not exist", hint="create it or choose another"
            )
        b.run_tool(argv, env, str(out))
    return BackupResult("postgresql", out, _quoted(argv, env), run)


def restore(
    project_dir: str | Path,
    backup_file: str | Path,
    *,
    db: str | None = None,
    force: bool = False,
    run: bool = True,
) -> BackupResult:
    """Put a backup back as the store of the project in `project_dir` (made if missing, with
    `db` as its store or an SQLite file). An existing store is replaced only with `force`."""
    root, source = Path(project_dir), Path(backup_file)
    if not source.is_file():
        raise NotFound("no such backup file", where=str(source))
    config_path = root / CONFIG_NAME
    config = None
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
    store_ref = db or (config or {}).get("store") or SQLITE_NAME
    if "://" in store_ref:
        from sqlalchemy.engine import make_url

        argv, env = b.pg_restore_command(make_url(store_ref), source)
        if run:
            if config is not None and not force:
                raise Conflict(
                    "the project already has a store",
                    where=str(root),
                    hint="pass --force to replace it",
                )
            b.run_tool(argv, env, str(source))
            _write_config(root, config, store_ref, None)
            Store.open(store_ref).close()  # upgrades an older backup's schema
        return BackupResult("postgresql", source, _quoted(argv, env), run)
    if not run:
        raise InvalidInput("--print is for PostgreSQL stores", hint="leave it out for SQLite")
    b.check_sqlite_file(source)
    target = root / store_ref
    if target.exists() and not force:
        raise Conflict(
            "the project already has a store", where=str(root), hint="pass --force to replace it"
        )
    root.mkdir(parents=True, exist_ok=True)
    b.sqlite_copy(source, target)
    _write_config(root, config, store_ref, b.project_name(target))
    Store.open(f"sqlite:///{target.resolve()}", where=str(root)).close()
    return BackupResult("sqlite", target)


def _write_config(root: Path, config: dict | None, store_ref: str, name: str | None) -> None:
    if config is not None and config.get("store") == store_ref:
        return
    config = {**(config or {"format": 1}), "store": store_ref}
    config.setdefault("name", name or root.resolve().name)
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
