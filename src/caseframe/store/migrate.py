"""Schema migrations (Alembic) and the schema-version check done on every open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from caseframe.errors import StoreVersionError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the store to the newest schema, in one transaction."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check(engine: Engine, where: str) -> None:
    """Refuse a store that is not caseframe's or that a newer caseframe wrote."""
    revision = current_revision(engine)
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
