"""Shared fixtures: the ../shared data, fresh projects (on SQLite and on PostgreSQL), the built
example study, PostgreSQL; and the markers (postgres, browser, slow) applied from what a test uses.

    pytest -m "not slow"                  # the quick loop while working
    pytest -m "not postgres and not browser"   # without a PostgreSQL server or Chromium
"""

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


# Tests over two seconds on the 2-core machine under load (pytest --durations), marked here in
# one place rather than in each file; browser and PostgreSQL tests are marked from their fixtures.
SLOW = {
    "test_privacy_leaks.py::test_no_export_contains_an_original_value",
    "test_privacy_leaks.py::test_web_pages_show_no_original_value",
    "test_suggest_evaluate.py::test_bench_on_nhs_subset_reports_the_promised_keys",
    "test_suggest_supervised.py::test_thresholds_come_from_training_data_only",
    "test_suggest_supervised.py::test_supervised_beats_a_trivial_baseline_clearly",
    "test_suggest_supervised.py::test_calibrated_probabilities_track_frequencies",
    "test_profiles.py::test_write_profiles_html_md_xlsx",
    "test_profiles.py::test_profiles_summary_and_page",
    "test_profiles_cli.py::test_assess_flags_list_and_profile",
    "test_analysis_cli.py::test_cooccurrence_coverage_report_export",
    "test_cli.py::test_the_installed_command_prints_no_traceback",
    "test_report.py::test_report_links_to_the_site_profiles",
    "test_web_http.py::test_cli_serve_binds_loopback",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "pg_url" in names:
            item.add_marker(pytest.mark.postgres)
        if "browser" in names:
            item.add_marker(pytest.mark.browser)
        if item.nodeid.split("/")[-1].split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request) -> str | None:
    """Where a fresh project's store lives: None for the SQLite file in the project folder, or
    the URL of a fresh PostgreSQL database (dropped after the test)."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_database")


@pytest.fixture
def project(tmp_path, store_url):
    """A fresh project; every test that takes it runs once on SQLite and once on PostgreSQL."""
    from caseframe.api import Project

    p = Project.init(tmp_path / "proj", db=store_url)
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
