"""Shared fixtures: the ../shared data, fresh projects, the built example study, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real third-party data and schemas (../shared relative to the repository root)."""
    if not (SHARED / "data").is_dir():
        pytest.fail(
            f"../shared is missing (looked in {SHARED}); these tests need the shared data beside "
            "the repository"
        )
    return SHARED


@pytest.fixture
def project(tmp_path):
    from caseframe.api import Project

    p = Project.init(tmp_path / "proj")
    yield p
    p.close()


@pytest.fixture(scope="session")
def example_build(tmp_path_factory):
    """The example study, built once per test session. Do not modify it: use example_copy."""
    from caseframe.example_study import build_example

    build = build_example(tmp_path_factory.mktemp("example") / "demo")
    yield build
    build.project.close()


@pytest.fixture
def example(example_build):
    return example_build.project


@pytest.fixture
def example_copy(example_build, tmp_path):
    """A private, writable copy of the example project."""
    from caseframe.api import Project

    src = example_build.out / "project"
    dst = tmp_path / "example-project"
    example_build.project.store.engine.dispose()  # flush WAL so the copy is complete
    shutil.copytree(src, dst)
    p = Project.open(dst)
    yield p
    p.close()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A URL of a real PostgreSQL server (CASEFRAME_TEST_PG_URL). In CI a missing server fails."""
    url = os.environ.get("CASEFRAME_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CASEFRAME_TEST_PG_URL is not set; .ci/run must start PostgreSQL")
        pytest.skip("no PostgreSQL server (set CASEFRAME_TEST_PG_URL)")
    return url


@pytest.fixture
def pg_database(pg_url):
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from caseframe.store.engine import normalise_url

    name = "cf_test_" + uuid.uuid4().hex[:10]
    admin = create_engine(normalise_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(pg_url)).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
