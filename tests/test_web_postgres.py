"""The same workspace on a real PostgreSQL server (CASEFRAME_TEST_PG_URL; required in CI)."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient

from caseframe.api import Project
from caseframe.web import create_app
from caseframe.web.app import open_project

TRANSCRIPT = (
    "I: How is the peer support worker doing?\n"
    "R: Very well; the team relies on her now, and the users ask for her by name.\n"
    "I: Any worries?\n"
    "R: Funding ends next year and nobody has a plan for that yet.\n"
)


def _login(client: TestClient, name: str, password: str) -> None:
    token = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/login").text)[1]
    r = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]


def test_workspace_on_postgresql(pg_database, tmp_path):
    project = Project.init(tmp_path / "proj", db=pg_database)
    assert project.store.dialect == "postgresql"
    (tmp_path / "interview.txt").write_text(TRANSCRIPT, encoding="utf-8")
    assert project.import_documents([tmp_path / "interview.txt"])[0].ok
    code = project.add_code("Sustainability").id
    for name, role in (("olga", "owner"), ("carl", "coder"), ("dora", "coder")):
        project.add_user(name, f"{name}-password", role)
    project.close()

    # the folder's config names the PostgreSQL store; --db gives the same store explicitly
    web_project = open_project(tmp_path / "proj", db=pg_database)
    app = create_app(project=web_project)
    clients = {n: TestClient(app) for n in ("olga", "carl", "dora")}
    for name, client in clients.items():
        _login(client, name, f"{name}-password")
    doc_id = clients["carl"].get("/api/documents").json()[0]["id"]
    length = len(TRANSCRIPT)

    # two coders at the same time on the same document lose nothing
    errors: list[str] = []

    def work(name: str, offset: int) -> None:
        for i in range(10):
            start = (offset + 3 * i) % (length - 10)
            r = clients[name].post(
                "/api/codings",
                json={"document_id": doc_id, "start": start, "end": start + 7, "code_id": code},
            )
            if r.status_code != 201:
                errors.append(r.text)

    threads = [threading.Thread(target=work, args=a) for a in (("carl", 0), ("dora", 1))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    listed = clients["olga"].get(f"/api/documents/{doc_id}/codings").json()["codings"]
    assert sorted({c["coder"] for c in listed}) == ["carl", "dora"] and len(listed) == 20

    # bad offsets are a 400 with the message, not a server error
    r = clients["carl"].post(
        "/api/codings", json={"document_id": doc_id, "start": 5, "end": length + 1, "code_id": code}
    )
    assert r.status_code == 400 and f"valid: 0–{length}" in r.json()["error"]
    # own codings only
    theirs = next(c["id"] for c in listed if c["coder"] == "dora")
    assert clients["carl"].delete(f"/api/codings/{theirs}").status_code == 403

    # a stale code-tree edit is refused
    version = web_project.code(code).version
    r = clients["olga"].post(
        f"/api/codes/{code}/rename", json={"name": "Funding", "version": version}
    )
    assert r.status_code == 200
    r = clients["olga"].post(
        f"/api/codes/{code}/rename", json={"name": "Money", "version": version}
    )
    assert r.status_code == 409 and "changed by someone else" in r.json()["error"]
    assert len(web_project.codings_frame(codes=[code])) == 20  # renaming kept every coding

    # the audit log and the session key live in the PostgreSQL store
    entries = clients["olga"].get("/api/audit").json()
    assert sum(e["action"] == "add" and e["entity_type"] == "coding" for e in entries) == 20
    assert any(e["action"] == "rename" and e["after"]["name"] == "Funding" for e in entries)
    secret = web_project.web_secret()
    web_project.close()
    again = Project.open(tmp_path / "proj")
    assert again.web_secret() == secret
    again.close()
