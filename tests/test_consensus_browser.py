"""End-to-end in Chromium: two coders code overlapping passages in their own sessions, the owner
opens Disagreements, settles three units with notes, and the consensus coder holds exactly
those decisions."""

from __future__ import annotations

import pytest

from consensus_support import DISPUTED, answers, make_project, planned_spans
from test_web_browser import _chromium

PASSWORDS = {"olga": "owner-pass-1", "carl": "coder-pass-1", "dora": "coder-pass-2"}
ROLES = {"olga": "owner", "carl": "coder", "dora": "coder"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from caseframe.web import create_app
    from support import served

    _chromium()
    project, doc = make_project(tmp_path_factory.mktemp("consensus-browser"))
    for name, role in ROLES.items():
        project.add_user(name, PASSWORDS[name], role)
    with served(create_app(project=project)) as url:
        yield {"url": url, "project": project, "doc": doc}
    project.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = _chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def sign_in(browser, server, name):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(server["url"] + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(server["url"] + "/")
    return context, page


def code_as(browser, server, coder: str) -> None:
    """The coder codes the planned passages through the workspace's API, in their session."""
    project, doc = server["project"], server["doc"]
    ids = {c.name: c.id for c in project.codes()}
    ctx, page = sign_in(browser, server, coder)
    token = page.get_attribute("meta[name=csrf-token]", "content")
    for start, end, code in planned_spans(project, doc, coder):
        body = {"document_id": doc, "start": start, "end": end, "code_id": ids[code]}
        r = page.request.post(
            server["url"] + "/api/codings", data=body, headers={"X-CSRF-Token": token}
        )
        assert r.status == 201, r.text()
    ctx.close()


def test_owner_settles_three_units_into_the_consensus_coder(browser, server):
    project, doc = server["project"], server["doc"]
    code_as(browser, server, "carl")
    code_as(browser, server, "dora")
    expect = _chromium().expect

    ctx, page = sign_in(browser, server, "olga")
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.goto(server["url"] + "/agreement")
    page.click("text=Work through the disagreements")
    page.wait_for_selector("#item")
    expect(page.locator("#total")).to_have_text(str(DISPUTED))
    expect(page.locator("#settled")).to_have_text("0")
    units = answers(project, doc)
    text = project.document(doc).text

    # 1: Peer support disputed on the first answer: take dora's codes
    assert page.inner_text("#passage") == text[units[0].start : units[0].end]
    assert "Peer support" in page.inner_text("#codes-disputed")
    assert "lived experience" in page.inner_text("#codes-disputed")  # the definition
    page.check("input[value='accept:dora']")
    page.fill("#decision-note", "the peer role is explicit")
    page.click("#record")
    expect(page.locator("#settled")).to_have_text("1")
    # 2: Funding applied by carl only: neither
    expect(page.locator("#passage")).to_have_text(text[units[1].start : units[1].end])
    page.check("input[value='neither']")
    page.fill("#decision-note", "not about money")
    page.click("#record")
    expect(page.locator("#settled")).to_have_text("2")
    # 3: Funding vs Peer support: another code
    expect(page.locator("#passage")).to_have_text(text[units[2].start : units[2].end])
    page.check("input[value='other']")
    page.select_option("#other-code", "Staff attitudes")
    page.fill("#decision-note", "it is about how staff saw it")
    page.click("#record")
    expect(page.locator("#settled")).to_have_text("3")
    assert page.locator("#items li.settled").count() == 3
    assert problems == []
    ctx.close()

    # the consensus coder holds exactly those decisions
    starts = {u.start: i for i, u in enumerate(units)}
    held: dict[int, set[str]] = {}
    for r in project.codings_frame(coders=["consensus"]).itertuples():
        assert (r.start, r.end) == (units[starts[r.start]].start, units[starts[r.start]].end)
        held.setdefault(starts[r.start], set()).add(r.code)
        assert project.consensus_trace(r.id)["decided_by"] == "olga"
    assert held == {0: {"Staff attitudes", "Peer support"}, 2: {"Staff attitudes"}}
    decisions = project.consensus_decisions()
    assert set(decisions["note"]) == {
        "the peer role is explicit",
        "not about money",
        "it is about how staff saw it",
    }
    assert sorted(decisions["start"].unique().tolist()) == [u.start for u in units[:3]]
    # agreement before consensus is still that of carl and dora
    assert project.agreement_matrix().coders == ["carl", "dora"]
