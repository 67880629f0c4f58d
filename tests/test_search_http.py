"""Search over HTTP: the JSON API, the Search page, "code all hits" (owners only, CSRF), on the
project's SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from caseframe.api import Project
from caseframe.web import create_app

USERS = {"olga": "owner", "carl": "coder", "vera": "viewer", "nora": None}
HOSTILE = "I: what did she say?\nR: <script>alert('x')</script> about the funding\n"


def _login(client: TestClient, name: str) -> None:
    token = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/login").text)[1]
    r = client.post(
        "/login",
        data={"name": name, "password": f"{name}-password", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    session = client.get("/api/session")
    if session.status_code == 200:
        client.headers["X-CSRF-Token"] = session.json()["csrf"]


def _setup(project: Project, shared, tmp_path) -> dict[str, TestClient]:
    folder = shared / "data" / "pdpilot-interviews" / "text"
    (tmp_path / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    paths = [folder / "P1.txt", folder / "P2.txt", tmp_path / "hostile.txt"]
    assert all(r.ok for r in project.import_documents(paths))
    project.add_code("ICE plots")
    for name, role in USERS.items():
        project.add_user(name, f"{name}-password", role)
    app = create_app(project=project)
    clients = {}
    for name in USERS:
        clients[name] = TestClient(app)
        _login(clients[name], name)
    return clients


def _check_search(project: Project, clients: dict[str, TestClient]) -> None:
    vera = clients["vera"]
    r = vera.get("/api/search", params={"q": '"ICE plots"'})
    assert r.status_code == 200
    data = r.json()
    expected = project.search('"ICE plots"')
    assert data["total"] == expected.total > 0 and data["documents"] == 2
    for hit in data["hits"]:
        text = project.document(hit["document_id"]).text
        assert " ".join(text[hit["start"] : hit["end"]].split()).lower() == "ice plots"
        assert set(hit) >= {"document", "start", "end", "match", "before", "after", "speaker"}
    one = vera.get("/api/search", params={"q": "ICE", "document": data["hits"][0]["document_id"]})
    assert {h["document_id"] for h in one.json()["hits"]} == {data["hits"][0]["document_id"]}
    bad = vera.get("/api/search", params={"q": '  "" '})
    assert bad.status_code == 400 and bad.json()["error"].startswith("nothing to search for")
    assert vera.get("/api/search", params={"q": "x", "limit": 0}).status_code == 400
    assert clients["nora"].get("/api/search", params={"q": "ICE"}).status_code == 404

    # the page: hits grouped by document, the match marked, links into the document
    page = vera.get("/search", params={"q": '"ICE plots"'}).text
    assert f"{expected.total} hits in 2 documents" in page
    assert page.count("<mark>") == expected.total
    first = expected.hits[0]
    assert f"/documents/{first.document_id}?q=%22ICE%20plots%22&amp;at={first.start}" in page
    assert 'id="code-hits"' not in page  # viewers cannot code
    assert "Code all hits" in clients["olga"].get("/search", params={"q": "ICE"}).text
    # markup in a transcript is shown as text
    hostile = vera.get("/search", params={"q": "funding"}).text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in hostile
    assert "<script>alert" not in hostile
    assert "nothing to search for" in vera.get("/search", params={"q": "*"}).text
    assert vera.get("/search").status_code == 200

    # code all hits: owners only, with the CSRF token, one transaction audited as the owner
    code = next(c.id for c in project.codes() if c.name == "ICE plots")
    body = {"query": '"ICE plots"', "code_id": code}
    assert clients["carl"].post("/api/search/code", json=body).status_code == 403
    plain = TestClient(clients["olga"].app, cookies=clients["olga"].cookies)
    assert plain.post("/api/search/code", json=body).status_code == 403  # no CSRF token
    r = clients["olga"].post("/api/search/code", json=body)
    assert r.status_code == 201, r.text
    done = r.json()
    assert len(done["created"]) == expected.total and done["coder"] == "olga"
    coded = project.codings_frame(codes=[code], coders=["olga"])
    assert len(coded) == expected.total
    audit = project.audit_frame()
    assert set(audit[audit["action"] == "code_search"]["actor"]) == {"olga"}
    again = clients["olga"].post("/api/search/code", json=body).json()
    assert again["created"] == [] and again["skipped"] == expected.total
    unknown = clients["olga"].post("/api/search/code", json={**body, "code_id": 99999})
    assert unknown.status_code == 404


def test_search_over_http_on_sqlite(project, shared, tmp_path):
    _check_search(project, _setup(project, shared, tmp_path))


def test_search_over_http_on_postgresql(pg_database, shared, tmp_path):
    project = Project.init(tmp_path / "pg", db=pg_database)
    try:
        assert project.store.dialect == "postgresql"
        _check_search(project, _setup(project, shared, tmp_path))
    finally:
        project.close()


@pytest.mark.parametrize("path", ["/search?q=ICE", "/api/search?q=ICE"])
def test_search_needs_sign_in(project, path):
    client = TestClient(create_app(project=project))
    r = client.get(path, follow_redirects=False)
    assert r.status_code in (303, 401)
