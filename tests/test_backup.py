"""`caseframe backup` / `caseframe restore`: SQLite through the online backup API (also while
someone writes), PostgreSQL through pg_dump / pg_restore against the running test server."""

from __future__ import annotations

import shutil
import threading

import pytest

from caseframe.api import Project
from caseframe.cli.main import run

TEXT = "I: How is it going?\nR: Well; the team trusts her and the users ask for her.\n"


def fill(project: Project, tmp_path) -> int:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    assert project.import_documents([tmp_path / "a.txt"])[0].ok
    code = project.add_code("Trust").id
    doc = int(project.documents_frame()["id"].iloc[0])
    project.add_user("carl", "coder-pass-1", "coder")
    project.add_coding(doc, 0, 10, code, coder="carl")
    return doc


def state(project: Project) -> dict:
    return {
        "documents": list(project.documents_frame()["name"]),
        "codes": [c.name for c in project.codes()],
        "codings": len(project.codings_frame()),
        "users": [u.name for u in project.users()],
        "audit": len(project.audit_entries(limit=None)),
    }


def test_sqlite_backup_and_restore_round_trip(tmp_path, capsys):
    project = Project.init(tmp_path / "study")
    doc = fill(project, tmp_path)
    before = state(project)
    out = tmp_path / "backups" / "study.sqlite"
    out.parent.mkdir()
    assert run(["-p", str(project.root), "backup", str(out)]) == 0
    assert "sqlite store written" in capsys.readouterr().out
    assert not (tmp_path / "backups" / "study.sqlite-wal").exists()  # one self-contained file

    # later work, then the backup put back over it
    project.add_code("Funding")
    project.add_coding(doc, 12, 20, project.codes()[-1].id, coder="carl")
    project.close()
    assert run(["-p", str(tmp_path / "study"), "restore", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert run(["-p", str(tmp_path / "study"), "restore", str(out), "--force"]) == 0
    with Project.open(tmp_path / "study") as back:
        assert state(back) == before
        assert back.authenticate("carl", "coder-pass-1") is not None

    # into a new folder (another machine): the project folder is made around the store
    assert run(["-p", str(tmp_path / "elsewhere"), "restore", str(out)]) == 0
    with Project.open(tmp_path / "elsewhere") as copy:
        assert state(copy) == before and copy.name == "study"


def test_sqlite_backup_is_consistent_while_someone_writes(tmp_path):
    from caseframe.api.backup import backup

    project = Project.init(tmp_path / "study")
    doc = fill(project, tmp_path)
    code = project.codes()[0].id
    stop = threading.Event()
    written: list[int] = []

    def coder() -> None:
        i = 0
        while not stop.is_set() and i < 2000:
            start = 1 + i % 40
            try:
                project.add_coding(doc, start, start + 3 + i // 40, code, coder="carl")
                written.append(i)
            except Exception:  # a repeated segment
                pass
            i += 1

    thread = threading.Thread(target=coder)
    thread.start()
    try:
        for n in range(3):
            backup(project.store, tmp_path / f"b{n}.sqlite")
    finally:
        stop.set()
        thread.join()
    for n in range(3):
        folder = tmp_path / f"r{n}"
        assert run(["-p", str(folder), "restore", str(tmp_path / f"b{n}.sqlite")]) == 0
        with Project.open(folder) as copy:
            # each coding and its audit entry were written in one transaction: a consistent
            # copy has both or neither, never one without the other
            added = copy.audit_entries(limit=None, entity_type="coding")
            assert len(copy.codings_frame()) == len(added)
    assert written


def test_restore_refuses_what_is_not_a_backup(tmp_path, capsys):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    assert run(["-p", str(tmp_path / "new"), "restore", str(junk)]) == 1
    assert "not a caseframe backup" in capsys.readouterr().err
    assert not (tmp_path / "new" / "caseframe.json").exists()
    assert run(["-p", str(tmp_path / "new"), "restore", str(tmp_path / "missing.sqlite")]) == 1
    assert "no such backup file" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="no pg_dump on this machine")
def test_postgresql_pg_dump_and_pg_restore_round_trip(tmp_path, pg_database, pg_url, capsys):
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from caseframe.store.engine import normalise_url

    project = Project.init(tmp_path / "study", db=pg_database)
    doc = fill(project, tmp_path)
    before = state(project)
    root = str(project.root)
    out = tmp_path / "study.dump"
    assert run(["-p", root, "backup", str(out), "--print"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("pg_dump --format=custom") and str(out) in printed
    assert run(["-p", root, "backup", str(out)]) == 0
    assert "postgresql store written" in capsys.readouterr().out
    assert out.stat().st_size > 0

    project.add_code("Funding")
    project.add_coding(doc, 12, 20, project.codes()[-1].id, coder="carl")
    project.close()
    assert run(["-p", root, "restore", str(out), "--force"]) == 0
    with Project.open(tmp_path / "study") as back:
        assert state(back) == before

    # into another database of the server (a new host), with a new project folder
    name = "cf_restore_" + uuid.uuid4().hex[:8]
    admin = create_engine(normalise_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(normalise_url(pg_url)).set(database=name)
        target = url.render_as_string(hide_password=False)
        assert run(["-p", str(tmp_path / "new"), "restore", str(out), "--db", target]) == 0
        with Project.open(tmp_path / "new") as copy:
            assert state(copy) == before
            copy.store.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
