"""The workspace's server side over HTTP: the overview (natural order, filters, folded notes),
the codes the picker searches, coder ids for stable colours, memo edits, a framework's
components as codes from the web."""

from __future__ import annotations

import re
import shutil

import pytest
from fastapi.testclient import TestClient

from caseframe.api import Project
from caseframe.web import create_app

USERS = {"olga": "owner", "carl": "coder", "dora": "coder", "vera": "viewer"}


def _login(client: TestClient, name: str) -> TestClient:
    token = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/login").text)[1]
    r = client.post(
        "/login",
        data={"name": name, "password": f"{name}-password", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
    return client


@pytest.fixture
def study(example_build, tmp_path):
    example_build.project.store.engine.dispose()
    shutil.copytree(example_build.out / "project", tmp_path / "project")
    project = Project.open(tmp_path / "project")
    for name, role in USERS.items():
        project.add_user(name, f"{name}-password", role)
    app = create_app(project=project)
    clients = {name: _login(TestClient(app), name) for name in USERS}
    yield project, clients
    project.close()


def _document_names(html: str) -> list[str]:
    table = html.split('id="documents"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/documents/\d+">([^<]+)</a>', table)


def test_overview_sorts_naturally_filters_and_folds_long_notes(study):
    project, clients = study
    html = clients["vera"].get("/").text
    names = _document_names(html)
    assert names.index("B8.txt") < names.index("B9.txt") < names.index("B10.txt")
    assert names == sorted(names, key=lambda n: (n[0], int(n[1:-4])))
    # the long case note is folded in every cell, not repeated in full
    note = project.cases_frame().set_index("key").loc["A", "note"]
    assert len(note) > 80
    assert html.count('<details class="fold">') >= len(names)
    assert f"<summary>{note[:50]}" in html
    # filter by a case attribute, and by text
    municipal = clients["vera"].get("/", params={"setting": "municipal social psychiatry"}).text
    frame = project.cases_frame().set_index("key")
    expected = [n for n in names if frame.loc[n[:-4], "setting"] == "municipal social psychiatry"]
    assert _document_names(municipal) == expected and 0 < len(expected) < len(names)
    assert f"Documents ({len(expected)} of {len(names)})" in municipal
    assert _document_names(clients["vera"].get("/", params={"q": "b1"}).text) == [
        "B10.txt",
        "B11.txt",
        "B12.txt",
    ]
    nothing = clients["vera"].get("/", params={"q": "no such thing"}).text
    assert _document_names(nothing) == [] and "No document matches the filter." in nothing


def test_codes_carry_their_framework_components_for_the_picker(study):
    project, clients = study
    codes = {c["name"]: c for c in clients["carl"].get("/api/codes").json()}
    sis = {c.key: c for c in project.framework("sis").components}
    mapped = codes["Opportunities for full-scale support"]["components"]
    assert {c["key"] for c in mapped} == {"C5", "O9", "O10"}
    o10 = next(c for c in mapped if c["key"] == "O10")
    assert o10["definition"] == sis["O10"].definition and o10["definition"]
    assert o10["keywords"] == list(sis["O10"].keywords) and o10["name"] == sis["O10"].name


def test_codings_name_their_coders_ids_for_stable_colours(study):
    project, clients = study
    doc = project.documents_frame().iloc[0]["id"]
    data = clients["carl"].get(f"/api/documents/{doc}/codings").json()
    ids = dict(zip(project.coders_frame()["name"], project.coders_frame()["id"], strict=True))
    carl = project.user("carl")
    assert data["coder_ids"]["carl"] == carl.coder_id
    for name in data["coders"]:
        assert data["coder_ids"][name] == ids.get(name, carl.coder_id if name == "carl" else None)


def test_memos_are_edited_and_deleted_by_their_authors_only(study):
    project, clients = study
    doc = int(project.documents_frame().iloc[0]["id"])
    r = clients["carl"].post(
        "/api/memos", json={"target_type": "document", "target_id": doc, "text": "first"}
    )
    memo = r.json()["id"]
    code = project.codes()[3].id
    clients["carl"].post(
        "/api/memos", json={"target_type": "code", "target_id": code, "text": "on a code"}
    )
    listed = clients["vera"].get(f"/api/memos?target_type=code&target_id={code}").json()
    assert listed[-1]["text"] == "on a code" and listed[-1]["author"] == "carl"
    assert clients["dora"].patch(f"/api/memos/{memo}", json={"text": "x"}).status_code == 403
    assert clients["dora"].delete(f"/api/memos/{memo}").status_code == 403
    assert clients["vera"].delete(f"/api/memos/{memo}").status_code == 403
    r = clients["carl"].patch(f"/api/memos/{memo}", json={"text": "second", "title": "t"})
    assert r.status_code == 200 and r.json()["text"] == "second"
    assert clients["carl"].patch(f"/api/memos/{memo}", json={"text": " "}).status_code == 400
    assert clients["carl"].delete(f"/api/memos/{memo}").status_code == 204
    assert clients["carl"].delete(f"/api/memos/{memo}").status_code == 404
    audit = project.audit_frame()
    rows = audit[(audit["entity_type"] == "memo") & (audit["entity_id"] == str(memo))]
    assert list(rows.sort_values("id")["action"]) == ["add", "update", "delete"]
    assert set(rows["actor"]) == {"carl"}


def test_an_owner_adds_a_frameworks_components_as_codes(study):
    project, clients = study
    page = clients["olga"].get("/frameworks/cfir2").text
    assert 'id="add-framework-codes"' in page
    assert 'id="add-framework-codes"' not in clients["carl"].get("/frameworks/cfir2").text
    assert clients["carl"].post("/api/frameworks/cfir2/codes").status_code == 403
    before = len(project.codes())
    r = clients["olga"].post("/api/frameworks/cfir2/codes")
    assert r.status_code == 201
    added = r.json()["added"]
    top = [c for c in project.framework("cfir2").components if not c.parent_key]
    created = len(project.codes()) - before  # the components, their levels and a root
    assert added == len(top) and created > added
    audit = project.audit_frame()
    by_olga = audit[(audit["actor"] == "olga") & (audit["entity_type"] == "code")]
    assert len(by_olga) == created and set(by_olga["action"]) == {"add"}
    after = clients["olga"].get("/frameworks/cfir2").text
    assert 'id="add-framework-codes"' not in after and "Every component is in" in after
    assert clients["olga"].post("/api/frameworks/cfir2/codes").json()["added"] == 0
    assert clients["olga"].post("/api/frameworks/nonsense/codes").status_code == 404


def test_document_page_has_the_tools_and_no_inline_script(study):
    project, clients = study
    html = clients["carl"].get("/documents/1").text
    for needed in ('id="find"', 'id="undo"', 'id="stripes"', 'id="doc-memo-text"', 'id="help"'):
        assert needed in html, needed
    assert 'src="/static/audio.js"' in html  # the recording's buttons stay
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: scripts from files only
    viewer = clients["vera"].get("/documents/1").text
    assert 'id="undo"' not in viewer and 'id="doc-memo-text"' not in viewer


def test_a_large_overview_comes_in_pages_and_lists_cases_on_request(study, monkeypatch):
    from caseframe.web.routes import pages

    project, clients = study
    monkeypatch.setattr(pages, "PAGE_SIZE", 5)
    monkeypatch.setattr(pages, "CASES_SHOWN", 3)
    everything = sorted(project.documents_frame()["name"], key=lambda n: (n[0], int(n[1:-4])))
    first = clients["vera"].get("/").text
    assert _document_names(first) == everything[:5]
    assert 'href="/?page=2"' in first and "Show the" in first and 'id="cases"' not in first
    third = clients["vera"].get("/", params={"page": 3}).text
    assert _document_names(third) == everything[10:15]
    filtered = clients["vera"].get("/", params={"q": "txt", "page": 2}).text
    assert _document_names(filtered) == everything[5:10]
    assert 'href="/?q=txt&amp;page=1"' in filtered  # the filter stays on every page
    assert 'id="cases"' in clients["vera"].get("/", params={"cases": "all"}).text
