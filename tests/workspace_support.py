"""Helpers for the workspace's browser tests: a served example study with a team and real
transcripts, Debian's Chromium through Playwright, sign-in, axe-core (from the npm registry)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
TEAM = {"olga": "owner", "carl": "coder", "dora": "coder", "vera": "viewer"}
PDPILOT = [f"P{i}" for i in range(1, 8)]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def password(name: str) -> str:
    return f"{name}-password-1"


def playwright_api():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing; .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


def served_study(example_build, shared, folder: Path):
    """A copy of the example study with the team and the seven PDPilot transcripts; a generator
    yielding {url, project, docs: {name: id}} while uvicorn serves it."""
    from caseframe.api import Project
    from caseframe.web import create_app
    from support import served

    example_build.project.store.engine.dispose()
    shutil.copytree(example_build.out / "project", folder / "project")
    project = Project.open(folder / "project")
    for name, role in TEAM.items():
        project.add_user(name, password(name), role)
    texts = shared / "data" / "pdpilot-interviews" / "text"
    results = project.import_documents([texts / f"{n}.txt" for n in PDPILOT])
    assert all(r.ok for r in results), [r.error for r in results]
    docs = project.documents_frame().set_index("name")["id"].astype(int).to_dict()
    with served(create_app(project=project)) as url:
        yield {"url": url, "project": project, "docs": docs}
    project.close()


def launch(sync_api):
    """A Playwright instance and Chromium; the caller closes both (see `browser` fixtures)."""
    pw = sync_api.sync_playwright().start()
    return pw, pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def sign_in(browser, server, name: str, **context_options):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, **context_options)
    page = context.new_page()
    page.set_default_timeout(20_000)  # an upper bound under load, never a wait
    page.goto(server["url"] + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password(name))
    page.click("button[type=submit]")
    page.wait_for_url(server["url"] + "/")
    return context, page


def open_document(page, server, doc_id: int, query: str = "") -> None:
    page.goto(f"{server['url']}/documents/{doc_id}{query}")
    page.wait_for_selector("body[data-drawn='1']")


def wait_until(page, expression: str, timeout: float = 20.0):
    """Poll a JavaScript expression (the CSP forbids Playwright's wait_for_function)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {expression}")
        time.sleep(0.05)


def axe_script() -> Path:
    """axe-core's axe.min.js, installed (pinned) by scripts/setup-web-tests.sh from npm."""
    cache = Path(os.environ.get("CASEFRAME_WEB_TEST_CACHE", REPO / ".cache" / "web-tests"))
    path = cache / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "setup-web-tests.sh")],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not path.is_file():
            if os.environ.get("CI"):
                pytest.fail(f"axe-core did not install: {done.stderr.strip()[-500:]}")
            pytest.skip(f"axe-core is not installed (scripts/setup-web-tests.sh): {done.stderr}")
    return path


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' '))}));
}"""


def axe_violations(page, script: Path) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now."""
    page.add_script_tag(path=str(script))
    return page.evaluate(AXE_RUN)
