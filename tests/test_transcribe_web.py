"""The web side of transcription: audio served with range requests to the roles that may read,
the timeline, relabelling turns (coders, audited), and the player in Debian's Chromium."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import speech
from caseframe.api import Project
from caseframe.store import schema as t
from caseframe.web import create_app

PASSWORDS = {"olga": "owner-pass-1", "carl": "coder-pass-1", "vera": "viewer-pass-1"}
PASSWORDS["nora"] = "norole-pass-1"
ROLES = {"olga": "owner", "carl": "coder", "vera": "viewer", "nora": None}
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def served_project(tmp_path_factory):
    model = speech.require_model()
    folder = tmp_path_factory.mktemp("web-speech")
    clip = folder / "interview.wav"
    times = speech.dialogue(
        clip,
        [
            ("en", "How did the team receive the new colleague?"),
            ("en-us+f3", "Peer support changes attitudes and the whole atmosphere at the units."),
        ],
    )
    project = Project.init(folder / "proj")
    (result,) = project.transcribe(
        [clip], model, language="en", speakers="Interviewer,Manager", state_dir=folder / "st"
    )
    assert result.ok, result.error
    (folder / "notes.txt").write_text("Interviewer: no audio here\n", encoding="utf-8")
    project.import_documents([folder / "notes.txt"])
    for name, role in ROLES.items():
        project.add_user(name, PASSWORDS[name], role)
    docs = project.documents_frame().set_index("name")["id"]
    yield {
        "project": project,
        "clip": clip,
        "times": times,
        "doc": int(docs[result.document]),
        "text_doc": int(docs["notes.txt"]),
    }
    project.close()


def client_for(app, name: str | None) -> TestClient:
    client = TestClient(app)
    if name is None:
        return client
    token = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/login").text)[1]
    r = client.post(
        "/login",
        data={"name": name, "password": PASSWORDS[name], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    if ROLES[name]:
        client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
    return client


@pytest.fixture(scope="module")
def app(served_project):
    return create_app(project=served_project["project"])


def test_audio_is_streamed_whole_or_by_range(app, served_project):
    original = served_project["clip"].read_bytes()
    size = len(original)
    vera = client_for(app, "vera")
    url = f"/media/{served_project['doc']}"
    whole = vera.get(url)
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/wav"
    assert int(whole.headers["content-length"]) == size
    part = vera.get(url, headers={"Range": "bytes=100-4195"})
    assert part.status_code == 206 and part.content == original[100:4196]
    assert part.headers["content-range"] == f"bytes 100-4195/{size}"
    assert int(part.headers["content-length"]) == 4096
    tail = vera.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == original[-10:]
    open_end = vera.get(url, headers={"Range": f"bytes={size - 3}-"})
    assert open_end.content == original[-3:]
    too_far = vera.get(url, headers={"Range": f"bytes={size}-"})
    assert too_far.status_code == 416 and too_far.headers["content-range"] == f"bytes */{size}"
    head = vera.head(url, headers={"Range": "bytes=0-9"})
    assert (
        head.status_code == 206 and head.content == b"" and head.headers["content-length"] == "10"
    )
    stale = vera.get(url, headers={"Range": "bytes=0-9", "If-Range": '"another-version"'})
    assert stale.status_code == 200 and stale.content == original
    fresh = vera.get(url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["etag"]})
    assert fresh.status_code == 206 and fresh.content == original[:10]


def test_audio_needs_a_role_and_a_recording(app, served_project):
    url = f"/media/{served_project['doc']}"
    anonymous = client_for(app, None).get(url, follow_redirects=False)
    assert anonymous.status_code in (303, 401)
    assert client_for(app, "nora").get(url).status_code == 404
    vera = client_for(app, "vera")
    assert vera.get(f"/media/{served_project['text_doc']}").status_code == 404
    assert vera.get("/media/9999").status_code == 404


def test_timeline_lists_media_passages_and_turns(app, served_project):
    data = client_for(app, "vera").get(f"/api/documents/{served_project['doc']}/timeline").json()
    assert data["media"]["url"] == f"/media/{served_project['doc']}"
    assert [tr["speaker"] for tr in data["turns"]] == ["Interviewer", "Manager"]
    starts = [s["start_ms"] for s in data["segments"]]
    assert starts == sorted(starts) and len(starts) >= 2
    plain = client_for(app, "vera").get(f"/api/documents/{served_project['text_doc']}/timeline")
    assert plain.json()["media"] is None and plain.json()["segments"] == []


def test_relabelling_needs_the_coder_role_and_is_audited(app, served_project):
    doc = served_project["doc"]
    url = f"/api/documents/{doc}/turns/1"
    assert client_for(app, "vera").post(url, json={"speaker": "X"}).status_code == 403
    carl = client_for(app, "carl")
    assert carl.post(url, json={"speaker": ""}).status_code == 400
    assert carl.post(f"/api/documents/{doc}/turns/7", json={"speaker": "X"}).status_code == 404
    no_csrf = TestClient(app, cookies=carl.cookies)
    assert no_csrf.post(url, json={"speaker": "X"}).status_code == 403
    r = carl.post(url, json={"speaker": "Manager B10"})
    assert r.status_code == 200 and r.json()["speaker"] == "Manager B10"
    project = served_project["project"]
    assert project.document(doc).turns[1].speaker == "Manager B10"
    with project.store.read() as conn:
        row = conn.execute(select(t.audit_log).where(t.audit_log.c.action == "relabel")).all()[-1]
    assert row.actor == "carl" and row.after["speaker"] == "Manager B10"
    project.relabel_turn(doc, 1, "Manager")


def wait_until(page, expression: str, timeout: float = 15.0):
    """Poll a JavaScript expression (the page's CSP forbids Playwright's wait_for_function)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression)
        except Exception as exc:  # a reload in progress destroys the context; poll again
            if "context was destroyed" not in str(exc):  # playwright's Error, without importing it
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {expression}")
        time.sleep(0.1)


def test_the_player_plays_from_a_turn_and_a_coding_and_a_coder_relabels(served_project):
    from support import served

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing; .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    project = served_project["project"]
    doc = served_project["doc"]
    line = project.timeline(doc)
    text = project.document(doc).text
    code = project.add_code("Attitudes")
    at = text.index("atmosphere")
    coding = project.add_coding(doc, at, at + len("atmosphere"), code.id, coder="carl")
    with served(create_app(project=project)) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(url + "/login")
        page.fill("input[name=name]", "carl")
        page.fill("input[name=password]", PASSWORDS["carl"])
        page.click("button[type=submit]")
        page.wait_for_url(url + "/")
        page.goto(f"{url}/documents/{doc}")
        page.wait_for_selector("body[data-audio-ready='1']")
        wait_until(page, "document.getElementById('recording-audio').readyState >= 1")
        duration = page.evaluate("document.getElementById('recording-audio').duration")
        assert duration == pytest.approx(line.media.duration_ms / 1000, abs=0.1)

        # record where each seek lands (playback moves on at once, so polling would race it)
        page.evaluate(
            "window.__seeks = []; const a = document.getElementById('recording-audio');"
            "a.addEventListener('seeked', () => window.__seeks.push(a.currentTime))"
        )

        def seek_by(button, expected: float, count: int) -> None:
            button.click()
            wait_until(page, f"window.__seeks.length >= {count}")
            assert page.evaluate("window.__seeks")[count - 1] == pytest.approx(expected, abs=0.05)

        turn_start = next(s for s in line.segments if s.start >= line.turns[1].start)
        second = page.locator("#transcript .turn[data-turn='1'] .speaker button", has_text="▶")
        seek_by(second, turn_start.start_ms / 1000, 1)
        seg = next(s for s in line.segments if s.start <= at < s.end)
        share = (at - seg.start) / (seg.end - seg.start)
        expected = (seg.start_ms + share * (seg.end_ms - seg.start_ms)) / 1000
        seek_by(
            page.locator(f"#codings li[data-coding='{coding.id}'] button[data-audio]"), expected, 2
        )
        page.once("dialog", lambda d: d.accept("Manager B10"))
        page.locator("#transcript .turn[data-turn='1'] .speaker button", has_text="✎").click()
        page.wait_for_selector("body[data-audio-ready='1']")
        wait_until(
            page,
            "[...document.querySelectorAll('#transcript .speaker')]"
            ".some((s) => s.textContent.includes('Manager B10'))",
        )
        browser.close()
    assert project.document(doc).turns[1].speaker == "Manager B10"
    project.relabel_turn(doc, 1, "Manager")
    project.delete_coding(coding.id)
