"""Users, roles, password hashing and the audit log (API and CLI)."""

from __future__ import annotations

import io
import sys

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from caseframe.cli.main import run
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store import schema as t


def test_add_user_hashes_with_argon2id_and_links_a_coder(project):
    user = project.add_user("ann", "correct horse", "coder")
    with project.store.read() as conn:
        stored = conn.scalar(select(t.users.c.password_hash).where(t.users.c.name == "ann"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    # the hash verifies with the reference implementation, and the memory cost is at least 64 MiB
    assert PasswordHasher().verify(stored, "correct horse")
    assert int(stored.split("m=")[1].split(",")[0]) >= 65536
    assert project.coders_frame().set_index("id").loc[user.coder_id, "name"] == "ann"
    assert project.authenticate("ann", "correct horse") == user
    assert project.authenticate("ann", "wrong horse") is None
    assert project.authenticate("nobody", "correct horse") is None


def test_user_errors(project):
    project.add_user("ann", "long enough", "viewer")
    with pytest.raises(Conflict):
        project.add_user("ann", "long enough", "viewer")
    with pytest.raises(InvalidInput, match="shorter than 8"):
        project.add_user("bob", "short", "viewer")
    with pytest.raises(InvalidInput, match="unknown role"):
        project.add_user("bob", "long enough", "admin")
    with pytest.raises(NotFound):
        project.set_role("nobody", "coder")
    assert [u.name for u in project.users()] == ["ann"]


def test_role_changes_and_audit(project):
    project.add_user("ann", "long enough", "viewer", actor="olga")
    project.set_role("ann", "none", actor="olga")
    assert project.user("ann").role is None
    project.set_password("ann", "another one", actor="ann")
    assert project.authenticate("ann", "another one") is not None
    log = project.audit_frame()
    assert list(log["action"]) == ["password", "role", "add"]
    assert log.iloc[1]["before"] == {"role": "viewer"} and log.iloc[1]["after"] == {"role": None}
    assert set(log["actor"]) == {"olga", "ann"}
    assert log["after"].map(lambda a: "another one" not in str(a)).all()


def test_cli_users(project, monkeypatch, capsys):
    root = str(project.root)
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-pass\n"))
    assert run(["-p", root, "users", "add", "carl", "--role", "coder"]) == 0
    assert "added with role coder" in capsys.readouterr().out
    assert run(["-p", root, "users", "role", "carl", "owner"]) == 0
    assert run(["-p", root, "users", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"owner"' in out and '"carl"' in out
    assert project.authenticate("carl", "s3cret-pass").role == "owner"
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert run(["-p", root, "users", "add", "dan"]) == 1
    assert "no password on stdin" in capsys.readouterr().err
    assert run(["-p", root, "users", "role", "carl", "boss"]) == 1
    assert "unknown role 'boss'" in capsys.readouterr().err
