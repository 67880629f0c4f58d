"""Latency of the web workspace on loopback.

1. "Apply a code" (POST /api/codings, the request the browser sends) with 1, 5 and 20
   simulated coders working at once, each sending its next coding as soon as the last one is
   answered (a closed loop, so this is the busy case, not a typical team): p50/p95/p99.
2. Opening a 30,000-word transcript that carries 500 codings: the page, the document JSON and
   its codings (server side), and, when Debian's Chromium is installed, until the browser has
   drawn the highlighted transcript.

The server runs in its own process (uvicorn, one worker) so client and server do not share a
GIL. Usage:
    .venv/bin/python bench/web_latency.py                      # SQLite
    .venv/bin/python bench/web_latency.py --db postgresql://user:pw@127.0.0.1:5432/postgres
Writes bench/out/web_latency-<store>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
PASSWORD = "bench-password"
WORDS = (
    "the service team peer support worker users staff supervision meeting funding plan "
    "manager recovery experience role trust change time week month colleague question"
).split()


def transcript(words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines, count, turn = [], 0, 0
    while count < words:
        n = rng.randint(20, 120)
        speaker = "I" if turn % 2 == 0 else "R"
        lines.append(f"{speaker}: " + " ".join(rng.choice(WORDS) for _ in range(n)) + ".")
        count += n
        turn += 1
    return "\n".join(lines) + "\n"


def build(folder: Path, db: str | None, coders: int) -> dict:
    from caseframe.api import Project

    project = Project.init(folder / "project", db=db)
    text = transcript(30_000)
    (folder / "long.txt").write_text(text, encoding="utf-8")
    (folder / "work.txt").write_text(transcript(30_000, seed=11), encoding="utf-8")
    results = project.import_documents([folder / "long.txt", folder / "work.txt"])
    assert all(r.ok for r in results), [r.error for r in results]
    codes = [project.add_code(f"Code {i}").id for i in range(10)]
    docs = project.documents_frame().set_index("name")["id"]
    rng = random.Random(3)
    length = len(text)
    seen = set()
    while len(seen) < 500:  # 500 codings on the transcript that is opened
        start = rng.randrange(0, length - 400)
        seen.add((start, start + rng.randint(20, 400), rng.choice(codes)))
    with project.store.transaction() as conn:
        for start, end, code in sorted(seen):
            project._insert_coding(conn, int(docs["long.txt"]), start, end, code, "reference")
    project.add_user("owner", PASSWORD, "owner")
    for i in range(coders):
        project.add_user(f"coder{i}", PASSWORD, "coder")
    info = {
        "open_doc": int(docs["long.txt"]),
        "work_doc": int(docs["work.txt"]),
        "work_len": len((folder / "work.txt").read_text(encoding="utf-8")),
        "codes": codes,
    }
    project.close()
    return info


def serve(project_dir: str, port: int, db: str | None) -> None:
    import uvicorn

    from caseframe.web import create_app

    app = create_app(project_dir, db=db)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def login(base: str, name: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/login").text)[1]
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (200, 303), r.text
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
    return client


def percentiles(values: list[float]) -> dict:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": q[49], "p95": q[94], "p99": q[98], "max": max(values)}


def apply_codes(
    base: str, info: dict, coders: int, per_coder: int, pace: float | None = None
) -> dict:
    clients = [login(base, f"coder{i}") for i in range(coders)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(coders)

    def work(i: int) -> None:
        rng = random.Random(1000 * coders + i + (7 if pace else 0))
        mine = []
        barrier.wait()
        for _ in range(per_coder):
            if pace:  # a person: the next coding after a pause (exponential, mean `pace` s)
                time.sleep(rng.expovariate(1 / pace))
            start = rng.randrange(0, info["work_len"] - 300)
            body = {
                "document_id": info["work_doc"],
                "start": start,
                "end": start + rng.randint(10, 300),
                "code_id": rng.choice(info["codes"]),
                "valence": rng.choice([None, "facilitator", "barrier"]),
            }
            t0 = time.perf_counter()
            r = clients[i].post("/api/codings", json=body)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if r.status_code == 201:
                    latencies.append(ms)
                    mine.append(r.json()["id"])
                elif r.status_code != 409:  # a random repeat of a segment is a fair 409
                    failures.append(f"{r.status_code} {r.text[:100]}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(coders)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    for c in clients:
        c.close()
    result = percentiles(latencies)
    result.update(
        coders=coders,
        mode=f"paced, mean {pace} s between codings" if pace else "closed loop",
        throughput_per_s=len(latencies) / wall,
        failures=failures[:5],
    )
    return result


def open_transcript(base: str, info: dict, repeats: int = 5) -> dict:
    client = login(base, "owner")
    doc = info["open_doc"]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for path in (f"/documents/{doc}", f"/api/documents/{doc}", f"/api/documents/{doc}/codings"):
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
        times.append((time.perf_counter() - t0) * 1000)
    n = len(client.get(f"/api/documents/{doc}/codings").json()["codings"])
    client.close()
    result = {"server_ms_median": statistics.median(times), "codings": n}
    result["browser_ms_median"] = browser_open(base, doc, repeats)
    return result


def browser_open(base: str, doc: int, repeats: int) -> float | None:
    if not Path("/usr/bin/chromium").exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(base + "/login")
        page.fill("input[name=name]", "owner")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            page.goto(f"{base}/documents/{doc}")
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            times.append((time.perf_counter() - t0) * 1000)
        browser.close()
    return statistics.median(times)


def fresh_pg_database(admin_url: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from caseframe.store.engine import normalise_url

    name = "cf_bench_" + uuid.uuid4().hex[:8]
    engine = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(admin_url)).set(database=name)

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url.render_as_string(hide_password=False), drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="PostgreSQL server URL (a fresh database is made on it)")
    ap.add_argument("--coders", default="1,5,20")
    ap.add_argument("--per-coder", type=int, default=40, help="codings each coder applies")
    ap.add_argument("--pace", type=float, default=1.0, help="mean pause (s) in the paced run")
    ap.add_argument("--serve", nargs=2, metavar=("PROJECT", "PORT"), help=argparse.SUPPRESS)
    ap.add_argument("--serve-db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve_db)
        return

    levels = [int(x) for x in args.coders.split(",")]
    drop = None
    db = None
    if args.db:
        db, drop = fresh_pg_database(args.db)
    store = "postgresql" if db else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        info = build(folder, db, max(levels))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, __file__, "--serve", str(folder / "project"), str(port)]
        if db:
            cmd += ["--serve-db", db]
        server = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            results = {
                "store": store,
                "machine": f"{os.cpu_count()} CPUs, {sys.platform}",
                "method": "closed loop: each coder posts its next coding when answered; paced: "
                "after an exponential pause (mean --pace s); "
                "uvicorn 1 worker; latency from the client (httpx) incl. loopback",
                "apply_code": [apply_codes(base, info, n, args.per_coder) for n in levels]
                + [apply_codes(base, info, n, args.per_coder, args.pace) for n in levels],
                "open_30k_words_500_codings": open_transcript(base, info),
            }
        finally:
            server.terminate()
            server.wait(timeout=20)
            if drop:
                drop()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"web_latency-{store}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"store: {store}")
    print(f"{'coders':>7} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}  mode")
    for r in results["apply_code"]:
        print(
            f"{r['coders']:>7} {r['n']:>5} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
            f"{r['throughput_per_s']:>7.1f}  {r['mode']}"
        )
    o = results["open_30k_words_500_codings"]
    print(
        f"open 30,000 words + {o['codings']} codings: server {o['server_ms_median']:.0f} ms", end=""
    )
    print(f", browser {o['browser_ms_median']:.0f} ms" if o["browser_ms_median"] else "")
    print(f"written: {out}")


def _wait(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main()
