"""The store: init/open, migrations, schema version checks, transactions."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from caseframe.api import Project
from caseframe.errors import Conflict, InvalidInput, NotFound, StoreVersionError
from caseframe.store import schema as t
from caseframe.store.schema import metadata
from caseframe.store.schema_extra import include_name


def _context(conn):
    """Compare with metadata, leaving out only the declared full-text search objects."""
    return MigrationContext.configure(conn, opts={"include_name": include_name})


def test_init_creates_sqlite_store_with_builtin_frameworks(tmp_path):
    p = Project.init(tmp_path / "study", name="Peer support")
    assert (tmp_path / "study" / "project.sqlite").is_file()
    assert (tmp_path / "study" / "caseframe.json").is_file()
    assert p.name == "Peer support"
    assert {f.key for f in p.frameworks()} == {"sis", "cfir2", "psat"}
    assert len(p.framework("sis").components) == 24
    p.close()
    reopened = Project.open(tmp_path / "study")
    assert reopened.name == "Peer support"
    reopened.close()


def test_migrations_produce_exactly_the_schema(project):
    with project.store.engine.connect() as conn:
        diff = compare_metadata(_context(conn), metadata)
    assert diff == []


def test_init_refuses_existing_project_and_nonempty_folder(tmp_path):
    Project.init(tmp_path / "a").close()
    with pytest.raises(Conflict, match="already exists"):
        Project.init(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("x")
    with pytest.raises(Conflict, match="not empty"):
        Project.init(tmp_path / "b")


def test_open_refuses_folder_that_is_not_a_project(tmp_path):
    with pytest.raises(NotFound):
        Project.open(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InvalidInput, match="not a caseframe project"):
        Project.open(tmp_path / "plain")


def test_open_refuses_store_from_newer_schema(tmp_path):
    Project.init(tmp_path / "p").close()
    db = sqlite3.connect(tmp_path / "p" / "project.sqlite")
    db.execute("UPDATE alembic_version SET version_num = '9999_future'")
    db.commit()
    db.close()
    with pytest.raises(StoreVersionError, match="newer version"):
        Project.open(tmp_path / "p")


def test_open_refuses_a_foreign_database(tmp_path):
    Project.init(tmp_path / "p").close()
    db = sqlite3.connect(tmp_path / "p" / "project.sqlite")
    db.execute("DROP TABLE alembic_version")
    db.commit()
    db.close()
    with pytest.raises(StoreVersionError, match="no caseframe schema version"):
        Project.open(tmp_path / "p")


def test_a_failed_write_leaves_the_store_unchanged(project):
    project.add_case("A", kind="region")
    with pytest.raises(RuntimeError):
        with project.store.transaction() as conn:
            conn.execute(
                t.cases.insert().values(
                    key="X",
                    label="X",
                    kind="site",
                    description="",
                    guid="g-x",
                    created_at=func.now(),
                    updated_at=func.now(),
                )
            )
            raise RuntimeError("boom")
    with project.store.read() as conn:
        assert conn.scalar(select(func.count()).select_from(t.cases)) == 1


def test_postgresql_store_has_the_same_schema(tmp_path, pg_database):
    p = Project.init(tmp_path / "pg", db=pg_database)
    p.add_case("A", kind="region")
    with p.store.engine.connect() as conn:
        assert compare_metadata(_context(conn), metadata) == []
    p.close()
    again = Project.open(tmp_path / "pg")
    assert [c.key for c in again.cases()] == ["A"]
    again.close()
