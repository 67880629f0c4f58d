"""End-to-end: Debian's Chromium driven by Playwright against a live workspace on loopback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from caseframe.api import Project

CHROMIUM = Path("/usr/bin/chromium")
PASSWORDS = {"olga": "owner-pass-1", "carl": "coder-pass-1", "dora": "coder-pass-2"}
PASSWORDS["vera"] = "viewer-pass-1"
ROLES = {"olga": "owner", "carl": "coder", "dora": "coder", "vera": "viewer"}
INTERVIEW = (
    "I: How did the peer support workers settle in at your service?\n"
    "R: At first the staff were unsure what the new colleagues would do, but after a few "
    "months of shared supervision and weekly meetings everybody saw how much the users "
    "valued talking with someone who had been through the same things.\n"
    "I: And the funding?\n"
    "R: That was the hard part, because the project money ended after two years.\n"
)
HOSTILE = (
    "I: <script>window.__pwned = 1; alert('script')</script>\n"
    "R: <img src=x onerror=\"window.__pwned = 2; alert('img')\"> & <b>bold</b>\n"
)


def _chromium():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing; .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(example_build, tmp_path_factory):
    """The example study plus two transcripts, served by uvicorn in a thread."""

    from caseframe.web import create_app
    from support import served

    folder = tmp_path_factory.mktemp("browser")
    example_build.project.store.engine.dispose()
    shutil.copytree(example_build.out / "project", folder / "project")
    project = Project.open(folder / "project")
    for name, role in ROLES.items():
        project.add_user(name, PASSWORDS[name], role)
    (folder / "interview.txt").write_text(INTERVIEW, encoding="utf-8")
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    results = project.import_documents(
        [folder / "interview.txt", folder / "hostile.txt"], case="A1"
    )
    assert all(r.ok for r in results), [r.error for r in results]
    with served(create_app(project=project)) as url:
        docs = project.documents_frame().set_index("name")["id"]
        yield {
            "url": url,
            "project": project,
            "interview": int(docs["interview.txt"]),
            "hostile": int(docs["hostile.txt"]),
        }
    project.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = _chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def sign_in(browser, server, name):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(server["url"] + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(server["url"] + "/")
    return context, page


def open_document(page, server, doc_id):
    page.goto(f"{server['url']}/documents/{doc_id}")
    page.wait_for_selector("body[data-ready='1']")


def drag_select(page, locator, fraction=0.5):
    """Select text with the mouse: press at the start of the first line, drag right."""
    box = locator.bounding_box()
    y = box["y"] + 8
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=5)
    page.mouse.up()
    return page.evaluate("window.getSelection().toString()")


def test_code_a_passage_and_see_it_after_reload_with_a_second_coder(browser, server):
    project = server["project"]
    carl_ctx, carl = sign_in(browser, server, "carl")
    open_document(carl, server, server["interview"])
    answer = carl.locator(".turn", has_text="At first the staff").locator("span.seg").first
    selected = drag_select(carl, answer).strip()
    assert len(selected) > 10
    # the keyboard path: c opens the picker, typing filters, Enter applies
    carl.keyboard.press("c")
    carl.wait_for_selector("#picker[open]")
    carl.keyboard.type("role of peer")
    assert carl.locator("#picker-list li").count() >= 1
    wanted = carl.locator("#picker-list li.active .name").inner_text()
    carl.select_option("#picker-valence", "facilitator")
    carl.fill("#picker-memo", "settling in")
    carl.focus("#picker-filter")
    carl.keyboard.press("Enter")
    carl.wait_for_selector("#picker", state="hidden")
    carl.wait_for_selector("#transcript span.seg.hl")
    stored = project.codings_frame(documents=[server["interview"]], coders=["carl"])
    assert len(stored) == 1
    row = stored.iloc[0]
    assert row["text"] == selected and row["code"] == wanted
    assert row["valence"] == "facilitator" and row["memo"] == "settling in"
    # the highlight survives a reload, and covers exactly the stored range
    carl.reload()
    carl.wait_for_selector("body[data-ready='1']")
    highlighted = carl.eval_on_selector_all(
        "#transcript span.seg.hl", "els => els.map(e => e.textContent).join('')"
    )
    assert highlighted == selected

    # a second coder in another browser context sees carl's coding, can hide it, codes too
    dora_ctx, dora = sign_in(browser, server, "dora")
    open_document(dora, server, server["interview"])
    assert dora.locator("#transcript span.seg.hl").count() >= 1
    dora.uncheck("#coders input[data-coder='carl']")
    assert dora.locator("#transcript span.seg.hl").count() == 0
    funding = dora.locator(".turn", has_text="That was the hard part").locator("span.seg").first
    dora_text = drag_select(dora, funding, 0.8).strip()
    dora.click("#open-picker")
    dora.wait_for_selector("#picker[open]")
    dora.fill("#picker-filter", "future")
    dora.click("#picker-apply")
    dora.wait_for_selector("#picker", state="hidden")
    dora.wait_for_selector("#codings .delete")
    assert dora.locator("#codings .delete").count() == 1  # only her own coding is editable
    coded = project.codings_frame(documents=[server["interview"]], coders=["carl", "dora"])
    assert sorted(coded["coder"]) == ["carl", "dora"]
    assert coded.set_index("coder").loc["dora", "text"] == dora_text
    # carl reloads and sees both; he can delete his own coding
    carl.reload()
    carl.wait_for_selector("body[data-ready='1']")
    assert carl.locator("#coders input[data-coder='dora']").count() == 1
    assert carl.locator("#codings li[data-coding]").count() == 2
    carl.on("dialog", lambda d: d.accept())
    carl.click("#codings .delete")
    _chromium().expect(carl.locator("#codings li[data-coding]")).to_have_count(1)
    assert project.codings_frame(documents=[server["interview"]], coders=["carl"]).empty
    carl_ctx.close()
    dora_ctx.close()


def test_viewer_cannot_code(browser, server):
    ctx, page = sign_in(browser, server, "vera")
    open_document(page, server, server["interview"])
    assert page.locator("#open-picker").count() == 0
    drag_select(page, page.locator("#transcript span.seg").nth(1))
    page.keyboard.press("c")
    assert page.locator("#picker[open]").count() == 0
    status = page.evaluate(
        """async (doc) => (await fetch('/api/codings', {method: 'POST',
            headers: {'Content-Type': 'application/json',
                      'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
            body: JSON.stringify({document_id: doc, start: 0, end: 5, code_id: 5})})).status""",
        server["interview"],
    )
    assert status == 403
    ctx.close()


def test_markup_in_a_transcript_is_shown_not_run(browser, server):
    ctx, page = sign_in(browser, server, "carl")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_document(page, server, server["hostile"])
    text = page.inner_text("#transcript")
    assert "<script>window.__pwned = 1" in text and "<img src=x onerror=" in text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#transcript img, #transcript script, #transcript b").count() == 0
    assert dialogs == []
    ctx.close()
