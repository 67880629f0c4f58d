"""The review queue in the workspace (/suggestions): the menu entry, the queue's JSON, and in
Chromium deciding by keyboard, with reasons beside Accept/Reject and no serious or critical
accessibility violation (axe-core, from the npm registry: scripts/setup-web-tests.sh)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from caseframe.api import Project
from test_web_browser import PASSWORDS, ROLES, _chromium, sign_in
from test_web_http import login

AXE = Path(__file__).resolve().parents[1] / ".cache/web-tests/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def study(example_build, tmp_path_factory):
    """The example study with zero-shot SIS suggestions pending in every transcript."""
    folder = tmp_path_factory.mktemp("queue")
    example_build.project.store.engine.dispose()
    shutil.copytree(example_build.out / "project", folder / "project")
    project = Project.open(folder / "project")
    for name, role in ROLES.items():
        project.add_user(name, PASSWORDS[name], role)
    project.add_framework_codes("sis")
    run = project.suggest(framework="sis")
    assert run.stored >= 10
    yield project
    project.close()


def test_queue_page_and_json(study):
    from caseframe.web import create_app

    app = create_app(project=study)
    client = TestClient(app)
    login(client, "vera")
    assert 'href="/suggestions"' in client.get("/").text
    page = client.get("/suggestions")
    assert page.status_code == 200 and 'id="queue"' in page.text
    assert 'data-can-review="no"' in page.text  # a viewer reads, does not decide
    data = client.get("/api/suggestions/queue?limit=500").json()
    pending = study.suggestions_frame()
    assert data["pending"] == len(pending)
    # no SIS codings yet: the queue's own model cannot be fitted, the stored scores order it
    assert data["model"]["state"] in {"fitting", "unavailable"}
    listed = [s for u in data["units"] for s in u["suggestions"]]
    assert sorted(s["id"] for s in listed) == sorted(pending["id"])
    for unit in data["units"]:
        assert unit["text"] == study.document(unit["document_id"]).text[unit["start"] : unit["end"]]
        for s in unit["suggestions"]:
            assert s["reliability"].startswith("not yet measured")
            assert all(unit["text"][p["start"] : p["end"]] == p["text"] for p in s["phrases"])
    assert client.get("/api/suggestions/queue?limit=0").status_code == 400


@pytest.fixture(scope="module")
def server(study):
    from caseframe.web import create_app
    from support import served

    _chromium()
    with served(create_app(project=study)) as url:
        yield {"url": url, "project": study}


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


def test_deciding_by_keyboard(browser, server):
    project = server["project"]
    expect = _chromium().expect
    ctx, page = sign_in(browser, server, "carl")
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.goto(server["url"] + "/suggestions")
    items = page.locator("li.suggestion")
    expect(items.first).to_be_focused()
    total = items.count()
    first_id = int(items.first.get_attribute("data-id"))
    second_id = int(items.nth(1).get_attribute("data-id"))
    # reasons beside the buttons
    assert items.first.locator("button.accept").count() == 1
    assert "not yet measured" in items.first.locator(".reliability").inner_text()

    page.keyboard.press("a")  # accept the focused one
    expect(page.locator(f"li.suggestion[data-id='{first_id}']")).to_have_count(0)
    expect(page.locator(f"li.suggestion[data-id='{second_id}']")).to_be_focused()
    page.keyboard.press("j")  # move on, then reject
    third_id = int(page.evaluate("document.activeElement.dataset.id"))
    assert third_id not in (first_id, second_id)
    page.keyboard.press("r")
    expect(page.locator(f"li.suggestion[data-id='{third_id}']")).to_have_count(0)
    expect(items).to_have_count(total - 2)
    status = project.suggestions_frame(status=None).set_index("id")["status"]
    assert (status[first_id], status[third_id]) == ("accepted", "rejected")
    accepted = project.suggestions_frame(status="accepted").iloc[0]
    mine = project.codings_frame(coders=["carl"])
    assert (mine["start"] == accepted["start"]).any() and (mine["code"] == accepted["code"]).any()
    assert problems == []
    ctx.close()

    ctx, page = sign_in(browser, server, "vera")  # a viewer sees the queue without buttons
    page.goto(server["url"] + "/suggestions")
    expect(page.locator("li.suggestion").first).to_be_visible()
    assert page.locator("li.suggestion button").count() == 0
    ctx.close()


def test_queue_page_has_no_serious_accessibility_violations(browser, server):
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed at {AXE} (bash scripts/setup-web-tests.sh)")
    context = browser.new_context(bypass_csp=True)  # only so that axe can be added
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(server["url"] + "/login")
    page.fill("input[name=name]", "carl")
    page.fill("input[name=password]", PASSWORDS["carl"])
    page.click("button[type=submit]")
    page.wait_for_url(server["url"] + "/")
    page.goto(server["url"] + "/suggestions")
    page.wait_for_selector("li.suggestion")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    context.close()
