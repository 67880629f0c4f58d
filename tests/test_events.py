"""Live updates between two users through a real `caseframe serve --workers 2` (SQLite and
PostgreSQL): other users' changes arrive as Server-Sent Events whichever worker serves whom,
`Last-Event-ID` resumes, a worker killed with SIGKILL is replaced and nothing acknowledged is
lost; X-Forwarded-For counts from the named proxy."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

PASSWORDS = {"olga": "owner-pass-1", "carl": "coder-pass-1", "dora": "coder-pass-2"}
TEXT = (
    "I: How does the team work with the peer support worker?\n"
    "R: Very well; the staff ask her first now, and the users trust her.\n"
    "I: And the funding?\n"
    "R: It ends next year and nobody has a plan yet.\n"
)
WAIT = 60.0  # generous upper bound for anything to arrive on a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn's supervisor runs (its children that are not helpers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"multiprocessing.resource_tracker" not in cmdline:
                found.append(int(child))
    return sorted(found)


def until(check, what: str, bound: float = WAIT):
    deadline = time.monotonic() + bound
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@contextlib.contextmanager
def serving(root: Path, *extra: str):
    """`caseframe serve ROOT EXTRA...` in its own process until the block ends; yields its base
    URL and the process."""
    port = free_port()
    cli = "from caseframe.cli.main import main; main()"
    argv = [sys.executable, "-c", cli, "serve", str(root), "--port", str(port), *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, proc.stdout.read()
        try:
            return httpx.get(base + "/login", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        until(up, f"caseframe serve {' '.join(extra)} to start", 120)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


class Browser:
    """A signed-in user: an httpx client with the session cookie and CSRF header."""

    def __init__(self, base: str, name: str, forwarded_for: str | None = None):
        self.base, self.name = base, name
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        self.client = httpx.Client(base_url=base, timeout=60, headers=headers)
        form = self.client.get("/login").text
        token = re.search(r'name="csrf-token" content="([^"]*)"', form)[1]
        r = self.client.post(
            "/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token}
        )
        assert r.status_code in (200, 303), r.text
        self.client.headers["X-CSRF-Token"] = self.client.get("/api/session").json()["csrf"]

    def post(self, path: str, body: dict) -> httpx.Response:
        """On a new connection each time (so the requests spread over the workers); a
        connection cut by a dying worker is retried, and 409 'already coded' then means the
        first try was stored."""
        for _ in range(20):
            try:
                with httpx.Client(
                    base_url=self.base, cookies=self.client.cookies, headers=self.client.headers
                ) as once:
                    return once.post(path, json=body, timeout=60)
            except httpx.TransportError:
                time.sleep(0.5)
        raise AssertionError(f"{path}: no answer after 20 tries")


class Listener(threading.Thread):
    """An EventSource: reads /api/events, reconnects with Last-Event-ID as a browser does."""

    def __init__(self, browser: Browser, last_event_id: int | None = None):
        super().__init__(daemon=True)
        self.browser = browser
        self.events: list[dict] = []
        self.ids: list[int] = []
        self.connections = 0
        self.last_id = last_event_id
        self.stop = False
        self.start()

    def run(self) -> None:
        while not self.stop:
            headers = {} if self.last_id is None else {"Last-Event-ID": str(self.last_id)}
            try:
                with httpx.Client(
                    base_url=self.browser.base,
                    cookies=self.browser.client.cookies,
                    timeout=httpx.Timeout(30, read=60),
                ) as client:
                    with client.stream("GET", "/api/events", headers=headers) as r:
                        if r.status_code != 200:
                            return
                        self.connections += 1
                        event_id = None
                        for line in r.iter_lines():
                            if self.stop:
                                return
                            if line.startswith("id: "):
                                event_id = int(line[4:])
                            elif line.startswith("data: "):
                                self.events.append(json.loads(line[6:]))
                                self.ids.append(event_id)
                                self.last_id = event_id
            except httpx.HTTPError:
                pass
            time.sleep(0.3)

    def codings(self) -> list[int]:
        return [e["id"] for e in self.events if e["kind"] == "coding"]


@pytest.fixture
def served(project, tmp_path):
    (tmp_path / "interview.txt").write_text(TEXT, encoding="utf-8")
    assert project.import_documents([tmp_path / "interview.txt"])[0].ok
    code = project.add_code("Trust").id
    for name, role in (("olga", "owner"), ("carl", "coder"), ("dora", "coder")):
        project.add_user(name, PASSWORDS[name], role)
    with serving(project.root, "--workers", "2", "--proxy", "127.0.0.1") as (base, proc):
        yield base, proc, project, code


def test_two_users_see_each_others_changes_across_two_workers(served):
    base, proc, project, code = served
    assert len(workers_of(proc.pid)) == 2
    doc = project.documents_frame()["id"].iloc[0]
    carl, dora = Browser(base, "carl"), Browser(base, "dora")
    dora_tabs = [Listener(dora) for _ in range(3)]
    carl_tab = Listener(carl)
    until(lambda: all(t.connections for t in [*dora_tabs, carl_tab]), "the streams to open")

    made = []
    for i in range(6):
        r = carl.post(
            "/api/codings",
            {"document_id": int(doc), "start": 5 * i, "end": 5 * i + 20, "code_id": code},
        )
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    r = dora.post(
        "/api/memos", {"target_type": "document", "target_id": int(doc), "text": "see line 2"}
    )
    assert r.status_code == 201
    memo_id = r.json()["id"]
    r = dora.post(
        "/api/codings", {"document_id": int(doc), "start": 60, "end": 80, "code_id": code}
    )
    dora_coding = r.json()["id"]

    for tab in dora_tabs:
        until(lambda tab=tab: tab.codings() == made, "carl's codings in dora's tabs")
    until(lambda: len(carl_tab.events) == 2, "dora's memo and coding in carl's tab")
    first = dora_tabs[0].events[0]
    assert first == {
        "kind": "coding",
        "action": "add",
        "id": made[0],
        "document_id": int(doc),
        "actor": "carl",
        "event_id": dora_tabs[0].ids[0],
    }
    assert all(e["actor"] == "carl" for t in dora_tabs for e in t.events)  # not her own
    kinds = [(e["kind"], e["id"], e["document_id"]) for e in carl_tab.events]
    assert kinds == [("memo", memo_id, int(doc)), ("coding", dora_coding, int(doc))]

    # a stream that starts from an earlier id gets what came after it
    late = Listener(dora, last_event_id=dora_tabs[0].ids[2])
    until(lambda: late.codings() == made[3:], "the resumed stream")

    # one worker killed with SIGKILL: the supervisor starts another, the tabs reconnect
    # (with Last-Event-ID) and nothing acknowledged is lost or shown twice
    victim = workers_of(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    more = []
    for i in range(4):
        r = carl.post(
            "/api/codings",
            {"document_id": int(doc), "start": 100 + i, "end": 120 + i, "code_id": code},
        )
        assert r.status_code in (201, 409), r.text
        if r.status_code == 201:
            more.append(r.json()["id"])
    until(
        lambda: len(workers_of(proc.pid)) == 2 and victim not in workers_of(proc.pid),
        "a new worker",
    )
    for tab in dora_tabs:
        until(lambda tab=tab: tab.codings() == made + more, "the codings after the kill")
    stored = set(project.codings_frame(coders=["carl"])["id"])
    assert set(made + more) <= stored and len(stored) == len(made) + len(more)
    for tab in [*dora_tabs, carl_tab, late]:
        tab.stop = True


def test_forwarded_for_from_the_named_proxy_is_the_client(served):
    base, _proc, project, _code = served
    Browser(base, "carl", forwarded_for="198.51.100.20")
    assert [s.client for s in project.web_sessions("carl")] == ["198.51.100.20"]


def test_more_writers_than_threads_all_finish(tmp_path):
    """On SQLite a worker's writers queue on a lock. 80 at once is more than the 40 threads
    that run endpoints; the queue must not take those threads (it did: the request holding the
    lock then found no thread to finish in, and the worker hung)."""
    from concurrent.futures import ThreadPoolExecutor

    from caseframe.api import Project

    project = Project.init(tmp_path / "proj")
    project.add_user("carl", PASSWORDS["carl"], "coder")
    project.close()
    with serving(tmp_path / "proj") as (base, _proc):
        carl = Browser(base, "carl")

        def write(i: int) -> int:
            with httpx.Client(
                base_url=base, cookies=carl.client.cookies, headers=carl.client.headers
            ) as client:
                body = {"target_type": "project", "text": f"note {i}"}
                return client.post("/api/memos", json=body, timeout=120).status_code

        with ThreadPoolExecutor(80) as pool:
            statuses = list(pool.map(write, range(160)))
        assert statuses == [201] * 160
