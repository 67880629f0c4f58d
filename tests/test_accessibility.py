"""Every page of the workspace passes axe-core with no serious or critical violation.

axe-core comes from the npm registry (pinned in scripts/setup-web-tests.sh), never from a CDN;
it is put into each page by Playwright in a context that bypasses the page's CSP (the CSP
allows scripts only from the app). Pages are checked in Debian's Chromium at 1440×900.
"""

from __future__ import annotations

import re

import pytest

from workspace_support import (
    axe_script,
    axe_violations,
    launch,
    open_document,
    playwright_api,
    served_study,
    sign_in,
)


@pytest.fixture(scope="module")
def server(example_build, shared, tmp_path_factory):
    yield from served_study(example_build, shared, tmp_path_factory.mktemp("a11y"))


@pytest.fixture(scope="module")
def owner_state(server):
    """A signed-in owner (sees every page) as a storage state for fresh contexts."""
    pw, browser = launch(playwright_api())
    context, _page = sign_in(browser, server, "olga")
    state = context.storage_state()
    context.close()
    yield {"pw": pw, "browser": browser, "state": state}
    browser.close()
    pw.stop()


def _page(owner_state, server):
    context = owner_state["browser"].new_context(
        viewport={"width": 1440, "height": 900},
        storage_state=owner_state["state"],
        bypass_csp=True,  # only so that axe can be added; the app's own scripts are unchanged
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def _matrix_cell_url(page, server) -> str:
    page.goto(server["url"] + "/matrix?rows=region&cols=framework&cell=count&framework=sis")
    href = page.locator("#matrix td a").first.get_attribute("href")
    return href


PAGES = {
    "overview": "/",
    "overview filtered": "/?q=A&setting=municipal+social+psychiatry",
    "codes": "/codes",
    "framework": "/frameworks/sis",
    "search": '/search?q="ICE plots"',
    "matrix": "/matrix",
    "matrix by component": "/matrix?rows=region&cols=framework&cell=valence&framework=sis",
    "matrix quotes": "/matrix?rows=region&cols=categories&cell=quotes",
    "quotes": "/quotes?code=5",
    "coverage": "/coverage",
    "profiles": "/profiles",
    "agreement": "/agreement",
    "disagreements": "/disagreements",
    "suggestions": "/suggestions",
    "audit": "/audit",
    "users": "/users",
    "sessions": "/sessions",
    "import": "/import",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_violations(name, server, owner_state):
    script = axe_script()
    context, page = _page(owner_state, server)
    page.goto(server["url"] + PAGES[name])
    page.wait_for_load_state("load")
    assert page.locator("h1").count() >= 1
    assert axe_violations(page, script) == [], name
    context.close()


def test_login_page_has_no_serious_violations(server, owner_state):
    script = axe_script()
    context = owner_state["browser"].new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(server["url"] + "/login")
    assert axe_violations(page, script) == []
    context.close()


def test_matrix_cell_page_has_no_serious_violations(server, owner_state):
    script = axe_script()
    context, page = _page(owner_state, server)
    page.goto(server["url"] + _matrix_cell_url(page, server))
    page.wait_for_selector("#cell-quotes")
    assert axe_violations(page, script) == []
    context.close()


def test_document_page_and_its_dialogs_have_no_serious_violations(server, owner_state):
    script = axe_script()
    context, page = _page(owner_state, server)
    # a demo transcript with codings of two coders, suggestions panel and memos
    open_document(page, server, 5, "?q=support")
    assert axe_violations(page, script) == [], "document"
    page.locator("#transcript .turn").first.click()
    page.keyboard.press("j")
    page.keyboard.press("c")
    page.wait_for_selector("#picker[open]")
    page.keyboard.type("O10")
    page.wait_for_selector("#picker-list li.active")
    assert axe_violations(page, script) == [], "code picker"
    page.keyboard.press("Escape")
    page.wait_for_selector("#picker", state="hidden")
    page.keyboard.press("?")
    page.wait_for_selector("#help[open]")
    assert axe_violations(page, script) == [], "help"
    page.keyboard.press("Escape")
    # a long real transcript
    open_document(page, server, server["docs"]["P2.txt"])
    assert axe_violations(page, script) == [], "PDPilot P2"
    context.close()


def test_every_navigation_page_is_checked(server, owner_state):
    """The pages named in the menu are all in PAGES (a new page needs an axe check too)."""
    context, page = _page(owner_state, server)
    page.goto(server["url"] + "/")
    menu = page.locator("header nav a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    checked = {re.sub(r"[?#].*", "", p) for p in PAGES.values()}
    assert set(menu) <= checked, set(menu) - checked
    context.close()
