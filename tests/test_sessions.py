"""Server-side sessions over HTTP, on SQLite and PostgreSQL: every rule that ends a session,
the time limits, forged and replayed cookies, CSRF tokens tied to the session, and sign-in limits
kept in the store (two apps on one store stand for two workers)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.web import create_app

PASSWORDS = {"olga": "owner-pass-1", "carl": "coder-pass-1", "dora": "coder-pass-2"}
ROLES = {"olga": "owner", "carl": "coder", "dora": "coder"}
COOKIE = "caseframe_session"


@pytest.fixture
def team(project):
    for name, role in ROLES.items():
        project.add_user(name, PASSWORDS[name], role)
    return project


@pytest.fixture
def app(team):
    return create_app(project=team)


def sign_in(client: TestClient, name: str, password: str | None = None, status: int = 303):
    form = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]*)"', form)[1]
    r = client.post(
        "/login",
        data={"name": name, "password": password or PASSWORDS[name], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == status, r.text
    if status == 303:
        client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
    return r


def signed_in(app, name: str, **kwargs) -> TestClient:
    client = TestClient(app, **kwargs)
    sign_in(client, name)
    return client


def memo(client: TestClient, text: str = "a note", **kwargs):
    return client.post("/api/memos", json={"target_type": "project", "text": text}, **kwargs)


def replay(app, cookie: str, csrf: str) -> TestClient:
    """Another browser carrying a copied cookie and CSRF token."""
    client = TestClient(app)
    client.cookies.set(COOKIE, cookie)
    client.headers["X-CSRF-Token"] = csrf
    return client


def session_id(client: TestClient) -> int:
    return client.get("/api/session").json()["session_id"]


def test_sign_out_ends_the_session_and_a_replayed_cookie_is_refused(app, team):
    carl = signed_in(app, "carl")
    cookie, csrf = carl.cookies.get(COOKIE), carl.headers["X-CSRF-Token"]
    assert memo(carl).status_code == 201
    r = carl.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    thief = replay(app, cookie, csrf)
    r = thief.get("/api/documents")
    assert r.status_code == 401 and "ended" in r.json()["error"]
    r = memo(thief, "written after sign-out")
    assert r.status_code == 401
    assert "written after sign-out" not in set(team.memos_frame()["text"])
    r = thief.get("/", follow_redirects=False)
    assert r.headers["location"] == "/login?ended=1"
    assert "has ended" in thief.get("/login?ended=1").text
    actions = [e.action for e in team.audit_entries(entity_type="session")]
    assert actions[:2] == ["sign-out", "sign-in"]


def test_only_a_hash_of_the_token_is_stored(app, team):
    carl = signed_in(app, "carl")
    token = carl.cookies.get(COOKIE).removeprefix("s.")
    assert len(token) >= 40
    with team.store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t.web_sessions))]
    assert len(rows) == 1 and rows[0]["token_hash"] != token
    assert not any(token in str(v) for v in rows[0].values())
    assert all(token not in str(e.after) for e in team.audit_entries())


def test_signing_in_again_ends_the_browsers_previous_session(app):
    carl = signed_in(app, "carl")
    old_cookie, old_csrf = carl.cookies.get(COOKIE), carl.headers["X-CSRF-Token"]
    sign_in(carl, "carl")
    assert carl.cookies.get(COOKIE) != old_cookie
    assert memo(carl).status_code == 201
    assert replay(app, old_cookie, old_csrf).get("/api/documents").status_code == 401


def test_password_change_ends_every_session_of_that_user(app, team):
    laptop, phone, dora = signed_in(app, "carl"), signed_in(app, "carl"), signed_in(app, "dora")
    team.set_password("carl", "a-new-password", actor="olga")
    for client in (laptop, phone):
        r = client.get("/api/documents")
        assert r.status_code == 401 and "ended" in r.json()["error"]
    assert dora.get("/api/documents").status_code == 200
    ended = team.audit_entries(entity_type="session", limit=1)[0]
    assert ended.action == "end" and ended.after["reason"] == "password changed"
    assert len(ended.after["sessions"]) == 2 and ended.actor == "olga"
    sign_in(TestClient(app), "carl", "a-new-password")


def test_role_none_ends_sessions_and_other_role_changes_apply_at_once(app, team):
    carl, olga = signed_in(app, "carl"), signed_in(app, "olga")
    r = olga.patch("/api/users/carl", json={"role": "viewer"})
    assert r.status_code == 200
    r = memo(carl)  # still signed in, but a viewer now
    assert r.status_code == 403
    assert olga.patch("/api/users/carl", json={"role": None}).status_code == 200
    assert carl.get("/api/session").status_code == 401
    assert team.web_sessions("carl") == []


def test_owner_lists_and_ends_sessions(app, team):
    olga, carl, dora = signed_in(app, "olga"), signed_in(app, "carl"), signed_in(app, "dora")
    listed = olga.get("/api/sessions").json()
    assert {s["user"] for s in listed} == {"olga", "carl", "dora"}
    assert [s["current"] for s in listed if s["user"] == "olga"] == [True]
    assert carl.get("/api/sessions").status_code == 403
    carl_id = session_id(carl)
    r = olga.delete(f"/api/sessions/{carl_id}")
    assert r.status_code == 200 and r.json()["state"] == "ended"
    assert carl.get("/api/documents").status_code == 401
    assert dora.get("/api/documents").status_code == 200
    # the Sessions page: a plain form per session, and "end all" per user
    page = olga.get("/sessions").text
    assert f'data-session="{session_id(dora)}"' in page and f'data-session="{carl_id}"' not in page
    dora_id = session_id(dora)
    csrf = olga.headers.pop("X-CSRF-Token")  # as the browser sends the form: a field, no header
    r = olga.post(f"/sessions/{dora_id}/end", data={"csrf_token": csrf}, follow_redirects=False)
    olga.headers["X-CSRF-Token"] = csrf
    assert r.status_code == 303 and dora.get("/api/documents").status_code == 401
    again = signed_in(app, "dora")
    assert olga.post("/api/users/dora/sessions/end").json() == {"ended": 1}
    assert again.get("/api/documents").status_code == 401
    ended = olga.get("/api/sessions?all=1").json()
    reasons = {s["ended_reason"] for s in ended if s["user"] != "olga"}
    assert reasons == {"ended by an owner"}
    assert "ended by an owner" in olga.get("/sessions?all=1").text
    assert olga.delete("/api/sessions/999999").status_code == 404
    assert olga.get("/users").status_code == 200


def age(project, sid: int, created: float = 0.0, idle: float = 0.0) -> None:
    """Move a session's sign-in and last request back by these many seconds."""
    with project.store.transaction() as conn:
        row = conn.execute(select(t.web_sessions).where(t.web_sessions.c.id == sid)).one()
        values = {}
        if created:
            values["created_at"] = now() - timedelta(seconds=created)
        if idle:
            values["last_seen_at"] = now() - timedelta(seconds=idle)
        conn.execute(update(t.web_sessions).where(t.web_sessions.c.id == sid).values(**values))
        assert row.id == sid


def test_idle_and_absolute_time_limits(team):
    app = create_app(project=team, session_idle=600, session_max_age=3600)
    idle, old, busy = signed_in(app, "carl"), signed_in(app, "dora"), signed_in(app, "olga")
    age(team, session_id(idle), idle=601)
    age(team, session_id(old), created=3601)
    age(team, session_id(busy), created=3000, idle=400)
    for client in (idle, old):
        r = client.get("/api/documents")
        assert r.status_code == 401 and "expired" in r.json()["error"]
        r = memo(client)
        assert r.status_code == 401 and "expired" in r.json()["error"]
    assert busy.get("/api/documents").status_code == 200  # a request marks it as used again
    with team.store.read() as conn:
        seen = conn.scalar(
            select(t.web_sessions.c.last_seen_at).where(t.web_sessions.c.id == session_id(busy))
        )
    assert now() - seen.replace(tzinfo=now().tzinfo) < timedelta(seconds=120)
    limits = app.state.web.sessions.limits()
    states = {s.user: s.state for s in team.web_sessions(include_ended=True, limits=limits)}
    assert states == {"carl": "idle", "dora": "expired", "olga": "active"}
    assert [s.user for s in team.web_sessions(limits=limits)] == ["olga"]
    # under the project's own, longer limits (2 h idle, 12 h in all) all three are still open
    assert len(team.web_sessions()) == 3


def test_time_limits_come_from_the_project_settings(team):
    team.set_session_timeouts(idle=900, absolute=7200, actor="olga")
    app = create_app(project=team)
    carl = signed_in(app, "carl")
    assert app.state.web.sessions.limits().idle == 900
    age(team, session_id(carl), idle=901)
    assert carl.get("/api/documents").status_code == 401
    assert [s.state for s in team.web_sessions("carl", include_ended=True)] == ["idle"]


def test_forged_and_foreign_cookies_are_no_session(app, team, tmp_path):
    forged = TestClient(app)
    forged.cookies.set(COOKIE, "s." + secrets.token_urlsafe(32))
    r = forged.get("/api/documents")
    assert r.status_code == 401 and r.json()["error"] == "please sign in"
    assert memo(forged, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    # a session of another project (its own store) does not open this one
    from caseframe.api import Project

    other = Project.init(tmp_path / "other")
    other.add_user("carl", PASSWORDS["carl"], "owner")
    stranger = signed_in(create_app(project=other), "carl")
    visitor = replay(app, stranger.cookies.get(COOKIE), stranger.headers["X-CSRF-Token"])
    assert visitor.get("/api/documents").status_code == 401
    other.close()


def test_csrf_token_belongs_to_one_session(app):
    first, second = signed_in(app, "carl"), signed_in(app, "carl")
    assert first.headers["X-CSRF-Token"] != second.headers["X-CSRF-Token"]
    r = memo(first, headers={"X-CSRF-Token": second.headers["X-CSRF-Token"]})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert memo(first).status_code == 201


def test_sign_in_limit_is_kept_in_the_store_for_every_worker(team):
    one = create_app(project=team, login_attempts=3, login_window=60)
    two = create_app(project=team, login_attempts=3, login_window=60)
    a, b = TestClient(one, client=("10.1.1.1", 5000)), TestClient(two, client=("10.1.1.1", 5001))
    for client in (a, b, a):
        sign_in(client, "carl", "wrong-password", status=401)
    r = sign_in(b, "carl", status=429)  # the right password, but the limit is reached
    assert int(r.headers["retry-after"]) > 0 and "Too many failed sign-ins" in r.text
    sign_in(TestClient(two, client=("10.2.2.2", 5000)), "carl")  # another client may
    sign_in(a, "dora")  # and the same client for another user
    failed = [e for e in team.audit_entries(entity_type="user") if e.action == "sign-in failed"]
    assert len(failed) == 3 and failed[0].after == {"client": "10.1.1.1"}


def test_parallel_guesses_cannot_pass_the_limit(team):
    """The attempt is counted before the password is checked, so guesses sent at once through
    several workers still stop at the limit."""
    from concurrent.futures import ThreadPoolExecutor

    apps = [create_app(project=team, login_attempts=2, login_window=60) for _ in range(2)]
    clients = [TestClient(apps[i % 2], client=("10.3.3.3", 6000 + i)) for i in range(8)]
    tokens = [
        re.search(r'name="csrf-token" content="([^"]*)"', c.get("/login").text)[1] for c in clients
    ]

    def guess(i: int) -> int:
        data = {"name": "carl", "password": f"guess-{i}-wrong", "csrf_token": tokens[i]}
        return clients[i].post("/login", data=data).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(guess, range(8)))
    assert codes.count(401) == 2 and codes.count(429) == 6


def test_cli_lists_and_ends_sessions(app, team, capsys):
    from caseframe.cli.main import run

    carl, dora = signed_in(app, "carl"), signed_in(app, "dora")
    args = ["-p", str(team.root)]  # its caseframe.json names the store (SQLite or PostgreSQL)
    assert run([*args, "users", "sessions", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"carl"' in out and '"dora"' in out and '"active"' in out
    assert run([*args, "--as", "olga", "users", "sessions", "carl", "--end"]) == 0
    assert "1 session of 'carl' ended" in capsys.readouterr().out
    assert carl.get("/api/documents").status_code == 401
    assert dora.get("/api/documents").status_code == 200
    dora_id = session_id(dora)
    assert run([*args, "users", "sessions", "--id", str(dora_id), "--end"]) == 0
    assert dora.get("/api/documents").status_code == 401
    assert run([*args, "users", "sessions", "--all", "--json"]) == 0
    assert "ended by an owner" in capsys.readouterr().out
    assert run([*args, "users", "sessions", "nobody"]) == 1
    assert "unknown user 'nobody'" in capsys.readouterr().err
    assert run([*args, "users", "timeouts", "--idle", "30", "--absolute", "8"]) == 0
    assert "idle: 30 minutes; absolute: 8 hours" in capsys.readouterr().out
    assert team.session_timeouts().idle == 1800
    assert run([*args, "users", "timeouts", "--idle", "0.5"]) == 1
    assert "between a minute" in capsys.readouterr().err
    by_cli, by_olga = team.audit_entries(entity_type="session", limit=2)
    assert by_olga.actor == "olga" and by_olga.after["reason"] == "ended by an owner"
    assert by_cli.entity_id == str(dora_id)
