"""HTTP-level tests of the workspace's later features: site profiles, intercoder agreement and
machine suggestions beside the text (roles, CSRF, audit, errors). The figures shown are the
Project API's; each page is checked against what the API returns for the same project."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from caseframe.api import Project
from caseframe.example_study import CODER as CONSENSUS
from caseframe.example_study import load_example_ratings
from caseframe.web import create_app
from caseframe.web.app import SECURITY_HEADERS
from caseframe.web.routes.profiles import PROFILE_POLICY
from test_web_http import ROLES, add_team, copy_example, login

WORKSPACE_POLICY = dict(SECURITY_HEADERS)[b"content-security-policy"].decode()
INTERVIEW = (
    "I: How did the peer support workers settle in at your service?\n"
    "R: At first the staff were unsure what the new colleagues would do, but after a few "
    "months of shared supervision and weekly meetings everybody saw how much the users "
    "valued talking with someone who had been through the same things.\n"
    "I: And the funding?\n"
    "R: That was the hard part, because the project money ended after two years.\n"
)


def add_interview(project: Project, folder: Path) -> int:
    """An uncoded transcript with pending `definitions` suggestions (a low floor, so each
    unit gets some; every unit read, interviewer turns and headings too, and no κ floor: the
    example's categories are not suggested well enough to be offered by default)."""
    path = folder / "interview.txt"
    path.write_text(INTERVIEW, encoding="utf-8")
    results = project.import_documents([path], case="A1")
    assert all(r.ok for r in results), [r.error for r in results]
    doc = int(project.documents_frame().set_index("name")["id"]["interview.txt"])
    run = project.suggest(
        "definitions",
        documents=[doc],
        options={"min_score": 0.01, "relative": 0.5},
        min_kappa=0.0,
        min_words=0,
        skip_headings=False,
        skip_interviewer=False,
    )
    assert run.stored >= 6, run
    return doc


def signed_in(app) -> dict[str, TestClient]:
    made = {}
    for name in ROLES:
        client = TestClient(app)
        client.headers["X-CSRF-Token"] = login(client, name)
        made[name] = client
    return made


@pytest.fixture(scope="module")
def study(example_build, tmp_path_factory):
    """The example study with its illustrative SIS ratings and a transcript with suggestions."""
    folder = tmp_path_factory.mktemp("web-features")
    project = copy_example(example_build, folder / "project")
    add_team(project)
    assert load_example_ratings(project) == 480
    doc = add_interview(project, folder)
    app = create_app(project=project)
    yield {"project": project, "doc": doc, "app": app, "clients": signed_in(app)}
    project.close()


def pending(project: Project, doc: int) -> list[int]:
    return project.suggestions_frame(document=doc)["id"].tolist()


# -- every page by role -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ROLES))
def test_new_pages_by_role(study, name):
    client = study["clients"][name]
    doc = study["doc"]
    paths = [
        "/profiles",
        "/profiles?site=A-S4",
        "/profiles/page?site=A-S4",
        "/agreement",
        "/api/agreement?bootstrap=0",
        f"/documents/{doc}",
        f"/api/documents/{doc}/suggestions",
    ]
    for path in paths:
        r = client.get(path)
        assert r.status_code == (404 if ROLES[name] is None else 200), (name, path)
    if ROLES[name] is not None:
        page = client.get("/").text
        assert 'href="/profiles"' in page and 'href="/agreement"' in page


def test_every_new_state_changing_route_checks_csrf(study):
    from caseframe.web.routes import agreement, profiles, suggestions

    client = TestClient(study["app"])
    login(client, "olga")  # signed in as owner, but sends no token
    checked = 0
    for module in (profiles, agreement, suggestions):
        for route in module.router.routes:
            for method in route.methods - {"GET", "HEAD", "OPTIONS"}:
                path = re.sub(r"\{[^}]+\}", "1", route.path)
                r = client.request(method, path, json={"accept": [1]})
                assert r.status_code == 403 and "CSRF" in r.json()["error"], (method, path)
                checked += 1
    assert checked == 1


# -- site profiles ------------------------------------------------------------------------------


def test_profile_page_is_its_own_document_with_its_own_policy(study):
    client = study["clients"]["vera"]
    r = client.get("/profiles/page?site=A-S4")
    assert r.headers["content-type"].startswith("text/html")
    # exactly one policy, this response's: inline styles yes, scripts and fetches no
    policies = r.headers.get_list("content-security-policy")
    assert policies == [PROFILE_POLICY]
    assert "script-src" not in PROFILE_POLICY and "default-src 'none'" in PROFILE_POLICY
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert r.headers["x-content-type-options"] == "nosniff"  # the other headers still apply
    html = r.text
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html and "<svg" in html
    assert 'id="site-A-S4"' in html and 'id="site-B-S3"' not in html
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    # the same page as the Python API makes it (the date line aside)
    from caseframe.reports.profiles import profile_page

    strip = lambda s: re.sub(r"generated \d{4}-\d\d-\d\d", "", s)  # noqa: E731
    assert strip(html) == strip(profile_page(study["project"], "A-S4"))


def test_profiles_page_in_the_workspace(study):
    client = study["clients"]["carl"]
    r = client.get("/profiles")
    assert r.headers.get_list("content-security-policy") == [WORKSPACE_POLICY]
    sites = [p.site for p in study["project"].site_profiles("sis").profiles]
    assert len(sites) == 16
    for site in sites:
        assert f'href="/profiles?site={site}&amp;framework=sis"' in r.text
    assert 'src="/profiles/page?framework=sis"' in r.text
    one = client.get("/profiles?site=a-s4")  # the case key in any case
    assert 'src="/profiles/page?site=A-S4&amp;framework=sis"' in one.text
    assert "<b>A-S4</b>" in one.text
    everything = client.get("/profiles/page").text
    assert all(f'id="site-{s}"' in everything for s in sites)


def test_unknown_or_unrated_site_is_404_with_a_message(study):
    client = study["clients"]["vera"]
    for path in ("/profiles?site=ZZ-9", "/profiles/page?site=ZZ-9"):
        r = client.get(path)
        assert r.status_code == 404 and "unknown case 'ZZ-9'" in unescape(r.text), path
    r = client.get("/profiles/page?site=A1", headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.json()["error"].startswith("site 'A1' has no sis assessment")


def test_profiles_before_any_rating(example_build, tmp_path):
    project = copy_example(example_build, tmp_path / "project")
    try:
        add_team(project)
        client = TestClient(create_app(project=project))
        login(client, "vera")
        r = client.get("/profiles")
        assert r.status_code == 200 and 'id="no-profiles"' in r.text
        assert "profile-frame" not in r.text
        r = client.get("/profiles/page")
        assert r.status_code == 404 and "no site has a sis assessment yet" in r.text
    finally:
        project.close()


# -- agreement ----------------------------------------------------------------------------------


def test_agreement_needs_two_human_coders(example_build, tmp_path):
    # none: a new project; one: the example study (its consensus coding only)
    empty = Project.init(tmp_path / "empty")
    one = copy_example(example_build, tmp_path / "one")
    try:
        for project in (empty, one):
            add_team(project)
            assert project.agreement_summary(bootstrap=0) is None
            client = TestClient(create_app(project=project))
            login(client, "vera")
            r = client.get("/agreement")
            assert r.status_code == 200 and 'id="agreement-none"' in r.text
            assert "two or more human coders" in r.text and "agreement-codes" not in r.text
            assert client.get("/api/agreement").json() == {"summary": None, "per_code": []}
    finally:
        empty.close()
        one.close()


def test_agreement_with_two_coders(example_build, tmp_path):
    project = copy_example(example_build, tmp_path / "project")
    try:
        add_team(project)
        app = create_app(project=project)
        carl = TestClient(app)
        carl.headers["X-CSRF-Token"] = login(carl, "carl")
        # carl codes two transcripts: the consensus codings but one, plus one of his own
        reference = project.codings_frame(documents=[1, 2])
        assert len(reference) >= 2
        rows = reference.to_dict(orient="records")
        other = next(c.id for c in project.codes() if c.kind == "category")
        for row in rows[1:] + [{**rows[0], "code_id": other}]:
            body = {"document_id": int(row["document_id"]), "start": int(row["start"])}
            body |= {"end": int(row["end"]), "code_id": int(row["code_id"])}
            r = carl.post("/api/codings", json=body)
            assert r.status_code in (201, 409), r.text
        # the example's codings belong to a consensus coder: counted only when named
        assert project.agreement_summary(bootstrap=0) is None  # carl alone: nothing to compare
        pair = ["carl", CONSENSUS]
        summary = project.agreement_summary(bootstrap=200, coders=pair)
        report = project.agreement(bootstrap=200, coders=pair).to_json()
        assert summary is not None and len(summary["coders"]) == 2 and summary["units"] > 0

        vera = TestClient(app)
        login(vera, "vera")
        # point estimates first; the 95% intervals when asked for (200 resamples, as above)
        page = vera.get("/agreement", params={"coders": pair}).text
        point = project.agreement_summary(bootstrap=0, coders=pair)
        assert point["text"] in unescape(page) and "95% CI" not in point["text"]
        with_ci = vera.get("/agreement", params={"coders": pair, "ci": 1}).text
        assert summary["text"] in unescape(with_ci) and "95% CI" in summary["text"]
        table = page.split('id="agreement-codes"')[1]
        assert table.count("<tr data-code=") == len(report["per_code"])
        for row in report["per_code"]:
            assert f'data-code="{row["code"]}"' in table
        first = report["per_code"][0]
        cells = re.search(rf'data-code="{re.escape(first["code"])}">(.*?)</tr>', table, re.S)[1]
        fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        for key in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1"):
            assert f"<td>{fmt(first[key])}</td>" in cells, key
        # the JSON twin carries the API's own figures
        data = vera.get("/api/agreement", params={"coders": pair}).json()
        assert data["summary"]["text"] == summary["text"]
        assert [r["code"] for r in data["per_code"]] == [r["code"] for r in report["per_code"]]
        for got, want in zip(data["per_code"], report["per_code"], strict=True):
            for key in ("units", "percent_agreement", "cohen_kappa", "krippendorff_alpha"):
                assert got[key] == pytest.approx(want[key], nan_ok=True), key
        assert vera.get("/api/agreement?bootstrap=99999").status_code == 400
    finally:
        project.close()


# -- suggestions --------------------------------------------------------------------------------


def test_suggestions_listed_for_a_document(study):
    project, doc = study["project"], study["doc"]
    expected = project.suggestions_frame(document=doc)
    got = study["clients"]["vera"].get(f"/api/documents/{doc}/suggestions").json()["suggestions"]
    assert [s["id"] for s in got] == expected["id"].tolist()
    text = project.document(doc).text
    for s in got:
        assert {"code", "score", "method", "status", "start", "end", "snippet"} <= set(s)
        assert s["status"] == "suggested" and s["method"] == "definitions"
        assert s["snippet"].rstrip("…") in " ".join(text[s["start"] : s["end"]].split())
    assert study["clients"]["vera"].get("/api/documents/99999/suggestions").status_code == 404
    page = study["clients"]["vera"].get(f"/documents/{doc}").text
    assert 'id="suggestions-box"' in page and 'id="show-suggestions"' in page


def test_coder_accepts_and_rejects(study):
    project, doc, carl = study["project"], study["doc"], study["clients"]["carl"]
    ids = pending(project, doc)
    take, drop = ids[0], ids[1]
    suggestion = project.suggestions_frame(document=doc).set_index("id").loc[take]
    r = carl.post("/api/suggestions/review", json={"accept": [take], "reject": [drop]})
    assert r.status_code == 200, r.text
    assert r.json() == {"reviewer": "carl", "accepted": 1, "rejected": 1, "codings_created": 1}
    statuses = project.suggestions_frame(document=doc, status=None).set_index("id")["status"]
    assert statuses[take] == "accepted" and statuses[drop] == "rejected"
    mine = project.codings_frame(documents=[doc], coders=["carl"])
    assert len(mine) == 1
    coding = mine.iloc[0]
    assert (coding["start"], coding["end"]) == (suggestion["start"], suggestion["end"])
    assert coding["code"] == suggestion["code"] and coding["status"] == "final"
    # carl's new coding is in the document's codings; the two are no longer pending
    listed = carl.get(f"/api/documents/{doc}/codings").json()["codings"]
    assert [c["coder"] for c in listed if c["mine"]] == ["carl"]
    left = [s["id"] for s in carl.get(f"/api/documents/{doc}/suggestions").json()["suggestions"]]
    assert take not in left and drop not in left and len(left) == len(ids) - 2
    # audited: who, and which suggestions
    entry = project.audit_frame(limit=1).iloc[0]
    assert (entry["actor"], entry["action"]) == ("carl", "suggest.review")
    assert entry["after"] == {"accepted": [take], "rejected": [drop]}
    # a decision is final
    r = carl.post("/api/suggestions/review", json={"reject": [take]})
    assert r.status_code == 409 and "already accepted" in r.json()["error"]


def test_owner_may_review_too(study):
    project, doc = study["project"], study["doc"]
    sid = pending(project, doc)[-1]
    r = study["clients"]["olga"].post("/api/suggestions/review", json={"reject": [sid]})
    assert r.status_code == 200 and r.json()["rejected"] == 1
    assert sid not in pending(project, doc)


def test_review_refused_without_role_or_token(study):
    project, doc, clients = study["project"], study["doc"], study["clients"]
    before = pending(project, doc)
    sid = before[0]
    body = {"accept": [sid]}
    r = clients["vera"].post("/api/suggestions/review", json=body)
    assert r.status_code == 403 and "coder role" in r.json()["error"]
    assert clients["nora"].post("/api/suggestions/review", json=body).status_code == 404
    wrong = {"X-CSRF-Token": "0" * 64}
    r = clients["carl"].post("/api/suggestions/review", json=body, headers=wrong)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    bare = TestClient(study["app"])
    login(bare, "dora")
    r = bare.post("/api/suggestions/review", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = clients["carl"].post(
        "/api/suggestions/review", json=body, headers={"Origin": "http://evil.example"}
    )
    assert r.status_code == 403
    assert pending(project, doc) == before
    log = project.audit_frame(limit=50)
    changes = log[log["entity_type"] != "session"]  # their sign-ins are audited, nothing else
    assert not changes["actor"].isin(["vera", "nora", "dora"]).any()
    assert set(log[log["actor"].isin(["vera", "nora", "dora"])]["action"]) == {"sign-in"}


def test_review_bad_requests(study):
    project, doc, carl = study["project"], study["doc"], study["clients"]["carl"]
    before = pending(project, doc)
    # an unknown id, or a human coding's id, is no suggestion: 404, and nothing is decided
    human = int(project.codings_frame(documents=[1])["id"].iloc[0])
    for bad in (999_999, human):
        r = carl.post("/api/suggestions/review", json={"accept": [before[0], bad]})
        assert r.status_code == 404 and f"no suggestion {bad}" in r.json()["error"]
    assert pending(project, doc) == before
    r = carl.post("/api/suggestions/review", json={})
    assert r.status_code == 400 and "nothing to review" in r.json()["error"]
    r = carl.post("/api/suggestions/review", json={"accept": [before[0]], "reject": [before[0]]})
    assert r.status_code == 400 and "both accepted and rejected" in r.json()["error"]
    r = carl.post("/api/suggestions/review", json={"accept": ["x"]})
    assert r.status_code == 400
    r = carl.post("/api/suggestions/review", json={"accept": [before[0]], "extra": 1})
    assert r.status_code == 400
    r = carl.post(
        "/api/suggestions/review",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
    assert pending(project, doc) == before
