"""Latency of the web workspace on loopback, with one or several worker processes.

Two kinds of run (both start `caseframe serve --workers N` in its own process and talk to it
over loopback with httpx, latency measured at the client):

* `--scenario levels` (the old one): "apply a code" (POST /api/codings) with 1, 5 and 20
  coders, back to back (each sends its next coding when the last is answered) and paced
  (exponential pauses, mean --pace s); then opening a 30,000-word transcript with 500 codings.
* `--scenario team` (issue 13): 100 paced coders (one coding every 5–10 s each, uniform) for
  --duration s, with one more user following /api/events (how long after the answer a change
  arrives there); 20 coders back to back, --per-coder codings each; then both at once with one
  worker killed with SIGKILL a third of the way in: clients retry a cut connection (a 409 "already
  coded" on the retry means the first try was stored) and the store is checked afterwards: every
  acknowledged coding present, none twice, none stored that nobody asked for.

Usage:
    .venv/bin/python bench/web_latency.py --scenario team --workers 2             # SQLite
    .venv/bin/python bench/web_latency.py --scenario team --workers 4 \
        --db postgresql://user:pw@127.0.0.1:5432/postgres                          # PostgreSQL
Writes bench/out/web_latency-<store>-<workers>w-<scenario>.json and prints a table; the load
average of the machine is printed with the figures (other work on it slows everything).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
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
    from caseframe.store.queries import codings as codings_q

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
            codings_q.add(conn, int(docs["long.txt"]), start, end, code, "reference")
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


def start_server(project_dir: Path, port: int, db: str | None, workers: int):
    cmd = [sys.executable, "-c", "from caseframe.cli.main import main; main()", "serve"]
    cmd += [str(project_dir), "--port", str(port), "--workers", str(workers)]
    if db:
        cmd += ["--db", db]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(cmd, env=env)


def worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes under `caseframe serve` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"resource_tracker" not in cmdline:
                found.append(int(child))
    return sorted(found)


def login(base: str, name: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=4))
    token = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/login").text)[1]
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (200, 303), r.text
    client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
    return client


def percentiles(values: list[float]) -> dict:
    if len(values) < 2:
        return {"n": len(values)}
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


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="PostgreSQL server URL (a fresh database is made on it)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (caseframe serve)")
    ap.add_argument("--scenario", choices=["levels", "team"], default="levels")
    ap.add_argument("--coders", default="1,5,20", help="levels: numbers of coders")
    ap.add_argument("--per-coder", type=int, default=40, help="codings each busy coder applies")
    ap.add_argument("--pace", type=float, default=1.0, help="levels: mean pause (s), paced run")
    ap.add_argument("--paced-coders", type=int, default=100)
    ap.add_argument("--busy-coders", type=int, default=20)
    ap.add_argument("--pace-min", type=float, default=5.0)
    ap.add_argument("--pace-max", type=float, default=10.0)
    ap.add_argument("--duration", type=float, default=60.0, help="team: paced run length (s)")
    ap.add_argument("--kill-duration", type=float, default=30.0, help="team: run with a kill")
    ap.add_argument("--no-kill", dest="kill", action="store_false")
    args = ap.parse_args()

    levels = [int(x) for x in args.coders.split(",")]
    users = max(levels) if args.scenario == "levels" else args.paced_coders + args.busy_coders
    drop = None
    db = None
    if args.db:
        db, drop = fresh_pg_database(args.db)
    store = "postgresql" if db else "sqlite"
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"building the project ({users} users)", file=sys.stderr, flush=True)
        info = build(folder, db, users)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(folder / "project", port, db, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            results = {
                "store": store,
                "workers": args.workers,
                "scenario": args.scenario,
                "machine": f"{os.cpu_count()} CPUs, {sys.platform}",
                "load_average_before": load_before,
                "method": "caseframe serve --workers N in its own process; clients are threads "
                "with httpx on loopback (latency measured at the client); the clients share "
                "the machine's CPUs with the server",
            }
            if args.scenario == "levels":
                results["apply_code"] = [
                    apply_codes(base, info, n, args.per_coder) for n in levels
                ] + [apply_codes(base, info, n, args.per_coder, args.pace) for n in levels]
                results["open_30k_words_500_codings"] = open_transcript(base, info)
            else:
                from _web_team import team

                results["team"] = team(base, folder, db, info, args, server)
            results["load_average_after"] = load_average()
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            if drop:
                drop()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"web_latency-{store}-{args.workers}w-{args.scenario}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        f"store: {store}, {args.workers} worker(s); load average {load_before} → "
        f"{results['load_average_after']}"
    )
    if args.scenario == "levels":
        print_levels(results)
    else:
        from _web_team import print_team

        print_team(results["team"])
    print(f"written: {out}")


def print_levels(results: dict) -> None:
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
