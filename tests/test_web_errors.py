"""Errors in the web workspace: no server path in any message, every response has a request
id, and an unexpected error is a 500 showing only that id, with the details in the server log."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from caseframe.errors import InvalidInput
from caseframe.web import create_app
from caseframe.web.scrub import without_paths


@pytest.fixture
def owner_client(tmp_path):
    from caseframe.api import Project

    project = Project.init(tmp_path / "proj")
    project.add_user("olga", "owner-pass-1", "owner")
    app = create_app(project=project)

    @app.get("/api/boom")
    def boom():
        raise RuntimeError(f"disk trouble in {tmp_path}/secret/store")

    @app.get("/boom")
    def boom_page():
        raise RuntimeError("broken page")

    @app.get("/api/where")
    def where():
        raise InvalidInput("cannot read it", where=str(tmp_path / "srv" / "upload" / "notes.txt"))

    client = TestClient(app, raise_server_exceptions=False)
    form = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]*)"', form)[1]
    client.post("/login", data={"name": "olga", "password": "owner-pass-1", "csrf_token": token})
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
    yield client, tmp_path
    project.close()


def test_upload_errors_name_the_file_not_the_servers_folder(owner_client):
    client, _tmp = owner_client
    r = client.post(
        "/api/import",
        files=[("files", ("broken.pdf", b"not a pdf")), ("files", ("empty.docx", b"PK\x03\x04"))],
    )
    assert r.status_code == 200
    text = r.text
    assert "caseframe-import-" not in text and "/tmp" not in text
    errors = [item["error"] for item in r.json()["results"]]
    assert all(errors) and "broken.pdf" in errors[0]


def test_error_messages_show_no_server_path(owner_client):
    client, tmp = owner_client
    r = client.get("/api/where")
    assert r.status_code == 400
    assert r.json()["error"] == "notes.txt: cannot read it."
    assert str(tmp) not in r.text


def test_an_unexpected_error_is_a_500_with_a_request_id(owner_client, caplog):
    client, tmp = owner_client
    with caplog.at_level(logging.ERROR, logger="caseframe.web"):
        r = client.get("/api/boom")
    assert r.status_code == 500
    request_id = r.headers["x-request-id"]
    assert r.json() == {
        "error": f"something went wrong on the server (request id {request_id})",
        "request_id": request_id,
    }
    assert str(tmp) not in r.text and "disk trouble" not in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    logged = [rec for rec in caplog.records if request_id in rec.getMessage()]
    assert logged and logged[0].exc_info and "disk trouble" in str(logged[0].exc_info[1])
    page = client.get("/boom", headers={"Accept": "text/html"})
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-request-id"] in page.text and "broken page" not in page.text


def test_every_response_has_its_own_request_id(owner_client):
    client, _tmp = owner_client
    ids = {client.get(path).headers["x-request-id"] for path in ("/", "/api/session", "/nope")}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    page = client.get("/documents/999")
    assert page.status_code == 404 and page.headers["x-request-id"] in page.text


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("/tmp/caseframe-import-x1/a b.txt: bad", "a b.txt: bad"),
        ("/srv/cf/project/project.sqlite: cannot open", "project.sqlite: cannot open"),
        (r"C:\Users\olga\study\A5.docx: not a Word file", "A5.docx: not a Word file"),
        ("valid: 0–120; owner/coder roles", "valid: 0–120; owner/coder roles"),
        ("see http://example.org/help", "see http://example.org/help"),
    ],
)
def test_paths_are_cut_to_the_file_name(message, shown):
    assert without_paths(message) == shown
