"""Schema migrations (Alembic) and the schema-version check done on every open.

Opening a store only reads its `alembic_version` row with plain SQL and compares it with the
revisions named in `migrations/versions/*.py` (read as text); Alembic, which takes longer to
import than the rest of a command, is imported only when a store has to be created or upgraded.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from caseframe.errors import StoreVersionError

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps

_ASSIGNMENT = re.compile(
    r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(\([^)]*\)|[^\n#]*)", re.MULTILINE
)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


@functools.cache
def _revision_graph() -> dict[str, tuple[str, ...]]:
    """Each revision in the versions folder and the revisions it follows."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {key: value for key, value in _ASSIGNMENT.findall(path.read_text("utf-8"))}
        names = _QUOTED.findall(found.get("revision", ""))
        if len(names) != 1:
            continue  # not a migration script
        graph[names[0]] = tuple(_QUOTED.findall(found.get("down_revision", "")))
    return graph


def known_revisions() -> set[str]:
    return set(_revision_graph())


def head_revision() -> str:
    graph = _revision_graph()
    followed = {down for downs in graph.values() for down in downs}
    heads = sorted(set(graph) - followed)
    if len(heads) != 1:  # pragma: no cover - a packaging mistake, caught by tests/test_store.py
        raise RuntimeError(f"the migrations have {len(heads)} heads: {heads}")
    return heads[0]


def current_revision(engine: Engine, where: str | None = None) -> str | None:
    """The store's schema revision, or None when it has no version table (or an empty one)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise StoreVersionError(
            f"the store records {len(rows)} schema versions ({', '.join(sorted(rows))})",
            where=where,
            hint="it was changed by hand or by another tool; restore it from a backup",
        )
    return rows[0] if rows else None


def alembic_config():
    """Alembic's configuration for our migrations (imports Alembic: only to create or upgrade)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the store to the newest schema, in one transaction."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check(engine: Engine, where: str) -> None:
    """Refuse a store that is not caseframe's or that a newer caseframe wrote."""
    revision = current_revision(engine, where)
    if revision is None:
        tables = inspect(engine).get_table_names()
        if tables:
            raise StoreVersionError(
                "the database holds tables but no caseframe schema version",
                where=where,
                hint="point caseframe at an empty database or a caseframe project",
            )
        raise StoreVersionError(
            "the store is empty (no schema)", where=where, hint="create it with 'caseframe init'"
        )
    if revision not in known_revisions():
        raise StoreVersionError(
            f"the store has schema version '{revision}', which this caseframe does not know "
            "(written by a newer version)",
            where=where,
            hint="upgrade caseframe to open it",
        )
    if revision != head_revision():
        upgrade(engine)
