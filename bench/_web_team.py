"""The team scenario of bench/web_latency.py (issue 13): 100 paced coders, 20 back to back,
another user's event stream, and both loads at once with one worker killed; then the store is
checked against what the clients were told."""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

from web_latency import login, percentiles, worker_pids


class Coder:
    """One simulated person with their own session; never the same segment twice, so every
    201 is a new coding and a 409 can only mean an earlier try of the same request was stored."""

    def __init__(self, base: str, name: str, index: int, info: dict):
        self.client = login(base, name)
        self.name, self.index, self.info = name, index, info
        self.k = 0
        self.acked: dict[tuple[int, int, int], int | None] = {}
        self.ack_time: dict[int, float] = {}
        self.latencies: list[tuple[float, float]] = []  # (time answered, ms) of first tries
        self.retried_ms: list[float] = []
        self.errors: list[str] = []
        self.retries = 0

    def body(self) -> dict:
        k, self.k = self.k, self.k + 1
        span = self.info["work_len"] - 400
        start = (self.index * 1543 + k * 13) % span
        codes = self.info["codes"]
        return {
            "document_id": self.info["work_doc"],
            "start": start,
            "end": start + 10 + k % 50,
            "code_id": codes[(self.index + k) % len(codes)],
        }

    def apply(self) -> None:
        import httpx

        body = self.body()
        key = (body["start"], body["end"], body["code_id"])
        tries = 0
        t0 = time.perf_counter()
        while True:
            try:
                r = self.client.post("/api/codings", json=body)
                break
            except httpx.TransportError:  # the worker died with the connection
                tries += 1
                self.retries += 1
                if tries > 50:
                    self.errors.append("no answer after 50 tries")
                    return
                time.sleep(0.2)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code == 201:
            coding_id = r.json()["id"]
            self.acked[key] = coding_id
            self.ack_time[coding_id] = time.time()
            if tries:
                self.retried_ms.append(ms)
            else:
                self.latencies.append((time.time(), ms))
        elif r.status_code == 409 and tries:
            self.acked[key] = None  # stored by the try whose answer was lost
            self.retried_ms.append(ms)
        else:
            self.errors.append(f"{r.status_code} {r.text[:100]}")


class Follower(threading.Thread):
    """A user with the workspace open: reads /api/events and notes when each coding arrives."""

    def __init__(self, base: str, name: str):
        super().__init__(daemon=True)
        self.client = login(base, name)
        self.arrived: dict[int, float] = {}
        self.stop = False
        self.last_id: int | None = None
        self.start()

    def run(self) -> None:
        import httpx

        while not self.stop:
            headers = {} if self.last_id is None else {"Last-Event-ID": str(self.last_id)}
            try:
                with self.client.stream(
                    "GET", "/api/events", headers=headers, timeout=httpx.Timeout(30, read=60)
                ) as r:
                    for line in r.iter_lines():
                        if self.stop:
                            return
                        if line.startswith("id: "):
                            self.last_id = int(line[4:])
                        elif line.startswith("data: "):
                            event = json.loads(line[6:])
                            if event["kind"] == "coding" and isinstance(event["id"], int):
                                self.arrived.setdefault(event["id"], time.time())
            except httpx.HTTPError:
                time.sleep(0.3)


def run_coders(
    paced: list[Coder],
    busy: list[Coder],
    duration: float,
    per_coder: int,
    pace: tuple[float, float],
    kill=None,
) -> float:
    """Paced coders for `duration` s and busy coders `per_coder` codings each (or, with paced
    ones beside them, until `duration`); `kill(t0)` runs in its own thread. Returns the wall
    time."""
    stop_at = time.monotonic() + duration

    def paced_work(c: Coder) -> None:
        rng = random.Random(c.index)
        time.sleep(rng.uniform(0, pace[1]))
        while time.monotonic() < stop_at:
            c.apply()
            time.sleep(rng.uniform(*pace))

    def busy_work(c: Coder) -> None:
        for _ in range(per_coder):
            if paced and time.monotonic() >= stop_at:
                return
            c.apply()

    threads = [threading.Thread(target=paced_work, args=(c,)) for c in paced]
    threads += [threading.Thread(target=busy_work, args=(c,)) for c in busy]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    if kill:
        threading.Thread(target=kill, args=(time.monotonic(),), daemon=True).start()
    for th in threads:
        th.join()
    return time.perf_counter() - t0


def summary(coders: list[Coder], wall: float, since: float = 0.0) -> dict:
    ms = [m for c in coders for t, m in c.latencies if t >= since]
    out = percentiles(ms)
    out.update(
        throughput_per_s=sum(len(c.acked) for c in coders) / wall if wall else None,
        retried=sum(c.retries for c in coders),
        retried_ms=percentiles([m for c in coders for m in c.retried_ms]),
        errors=[e for c in coders for e in c.errors][:5],
    )
    return out


def check_store(project_dir: Path, db: str | None, coders: list[Coder]) -> dict:
    """Every acknowledged coding is stored once; nothing stored that was not acknowledged."""
    from caseframe.web.app import open_project

    project = open_project(project_dir, db)
    try:
        frame = project.codings_frame(coders=[c.name for c in coders])
    finally:
        project.close()
    stored: dict[str, dict[tuple[int, int, int], list[int]]] = {}
    for row in frame.itertuples():
        stored.setdefault(row.coder, {}).setdefault((row.start, row.end, row.code_id), []).append(
            row.id
        )
    lost = duplicated = unacknowledged = acknowledged = 0
    for c in coders:
        mine = stored.get(c.name, {})
        for key, coding_id in c.acked.items():
            acknowledged += 1
            ids = mine.get(key, [])
            if not ids or (coding_id is not None and coding_id not in ids):
                lost += 1
        duplicated += sum(len(ids) - 1 for ids in mine.values() if len(ids) > 1)
        unacknowledged += sum(1 for key in mine if key not in c.acked)
    return {
        "acknowledged": acknowledged,
        "stored": len(frame),
        "lost": lost,
        "duplicated": duplicated,
        "stored_not_acknowledged": unacknowledged,
    }


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def server_pids(server, project_dir: Path, db: str | None) -> list[int]:
    """The server and its workers, and on PostgreSQL the backends serving this database."""
    pids = [server.pid, *worker_pids(server.pid)]
    if db:
        from sqlalchemy import create_engine, text

        from caseframe.store.engine import normalise_url

        engine = create_engine(normalise_url(db))
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            )
            pids += [r.pid for r in rows]
        engine.dispose()
    return pids


def cpu_per_coding(server, project_dir: Path, db: str | None, run) -> tuple[float, dict]:
    """Run `run()` (returns the codings stored) and the server's CPU ms per coding."""
    pids = server_pids(server, project_dir, db)
    before, client_before = cpu_seconds(pids), cpu_seconds([os.getpid()])
    stored = run()
    pids = sorted(set(pids) | set(server_pids(server, project_dir, db)))
    used, client = cpu_seconds(pids) - before, cpu_seconds([os.getpid()]) - client_before
    per = used * 1000 / stored if stored else float("nan")
    return per, {
        "server_cpu_ms_per_coding": per,
        "implied_codings_per_s_per_core": 1000 / per if stored else None,
        "client_cpu_ms_per_coding": client * 1000 / stored if stored else None,
    }


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def team(base: str, folder: Path, db: str | None, info: dict, args, server) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    n_paced, n_busy = args.paced_coders, args.busy_coders
    names = [f"coder{i}" for i in range(n_paced + n_busy)]
    with ThreadPoolExecutor(4) as pool:  # each sign-in is an Argon2 hash on the server
        coders = list(pool.map(lambda i: Coder(base, names[i], i, info), range(len(names))))
    paced, busy = coders[:n_paced], coders[n_paced:]
    progress(f"{len(coders)} coders signed in")
    for c in busy[:5]:  # warm every worker's imports and connections
        for _ in range(4):
            c.apply()
    for c in busy[:5]:
        c.latencies.clear()
    follower = Follower(base, "owner")
    time.sleep(1)
    pace = (args.pace_min, args.pace_max)
    result: dict = {}

    progress(f"paced run: {n_paced} coders for {args.duration:g} s")
    started = time.time()
    box: dict = {}

    def paced_run() -> int:
        box["wall"] = run_coders(paced, [], args.duration, 0, pace)
        return sum(len(c.acked) for c in paced)

    _per, cpu = cpu_per_coding(server, folder / "project", db, paced_run)
    wall = box["wall"]
    result["paced"] = summary(paced, wall)
    result["paced"]["cpu"] = cpu
    result["paced"]["slowest"] = sorted(
        ((round(t - started, 2), round(ms)) for c in paced for t, ms in c.latencies),
        key=lambda x: -x[1],
    )[:15]
    result["paced"]["coders"] = n_paced
    until = time.monotonic() + 10  # the last changes may still be on their way
    while time.monotonic() < until and any(
        i not in follower.arrived for c in paced for i in c.ack_time
    ):
        time.sleep(0.2)
    delivered = [
        (follower.arrived[i] - c.ack_time[i]) * 1000
        for c in paced
        for i in c.ack_time
        if i in follower.arrived
    ]
    result["paced"]["event_after_answer_ms"] = percentiles(delivered)
    result["paced"]["events_missing"] = sum(
        1 for c in paced for i in c.ack_time if i not in follower.arrived
    )

    for c in busy:
        c.latencies.clear()
    progress(f"back to back: {n_busy} coders × {args.per_coder}")
    done_before = sum(len(c.acked) for c in busy)

    def busy_run() -> int:
        box["wall"] = run_coders([], busy, 0, args.per_coder, pace)
        return sum(len(c.acked) for c in busy) - done_before

    _per, cpu = cpu_per_coding(server, folder / "project", db, busy_run)
    wall = box["wall"]
    result["busy"] = summary(busy, wall)
    result["busy"]["cpu"] = cpu
    result["busy"]["coders"] = n_busy

    for c in coders:
        c.latencies.clear()
        c.retried_ms.clear()
    kill_info: dict = {}

    def kill(t0: float) -> None:
        time.sleep(args.kill_duration / 3)
        victims = worker_pids(server.pid)
        kill_info["workers_before"] = len(victims)
        kill_info["at_s"] = time.monotonic() - t0
        kill_info["time"] = time.time()
        os.kill(victims[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = worker_pids(server.pid)
            if len(now) == len(victims) and victims[0] not in now:
                kill_info["replaced_after_s"] = time.time() - kill_info["time"]
                break
            time.sleep(0.1)

    wall = run_coders(
        paced, busy, args.kill_duration, 10**6, pace, kill=kill if args.kill else None
    )
    after = kill_info.get("time", 0.0)
    result["with_kill"] = {
        "paced": summary(paced, wall),
        "busy": summary(busy, wall),
        "busy_after_kill": summary(busy, wall, since=after) if after else None,
        "kill": kill_info,
    }
    if after:
        recovered = []
        for c in busy:
            later = [t for t, _ in c.latencies if t > after]
            recovered.append(min(later) - after if later else None)
        result["with_kill"]["clients_recovered"] = sum(r is not None for r in recovered)
        result["with_kill"]["slowest_recovery_s"] = max(
            (r for r in recovered if r is not None), default=None
        )
    follower.stop = True
    result["store_check"] = check_store(folder / "project", db, coders)
    result["store"] = "postgresql" if db else "sqlite"
    return result


def _row(label: str, r: dict) -> str:
    if r.get("n", 0) < 2:
        return f"{label:<34} n={r.get('n', 0)}"
    rate = r.get("throughput_per_s")
    return (
        f"{label:<34} {r['n']:>5} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
        f"{rate if rate is not None else float('nan'):>7.1f}"
    )


def print_team(t: dict) -> None:
    print(f"{'':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}")
    print(_row(f"paced ({t['paced']['coders']} coders)", t["paced"]))
    print(_row(f"back to back ({t['busy']['coders']} coders)", t["busy"]))
    k = t["with_kill"]
    print(_row("both at once, paced", k["paced"]))
    print(_row("both at once, back to back", k["busy"]))
    if k.get("busy_after_kill"):
        print(_row("  back to back after the kill", k["busy_after_kill"]))
        print(
            f"  worker killed at {k['kill'].get('at_s', 0):.1f} s, replaced after "
            f"{k['kill'].get('replaced_after_s', float('nan')):.1f} s; "
            f"{k['clients_recovered']}/{t['busy']['coders']} busy "
            f"clients answered again, the slowest after {k['slowest_recovery_s'] or 0:.2f} s; "
            f"{k['busy']['retried'] + k['paced']['retried']} connections retried"
        )
    for label, part in (("paced", t["paced"]), ("back to back", t["busy"])):
        cpu = part.get("cpu") or {}
        if cpu.get("implied_codings_per_s_per_core"):
            print(
                f"{label}: server CPU {cpu['server_cpu_ms_per_coding']:.1f} ms per coding "
                f"(workers{' and PostgreSQL' if t.get('store') == 'postgresql' else ''}) → "
                f"{cpu['implied_codings_per_s_per_core']:.0f} codings/s per core; client "
                f"{cpu['client_cpu_ms_per_coding']:.1f} ms"
            )
    e = t["paced"]["event_after_answer_ms"]
    if e.get("n", 0) >= 2:
        print(
            f"event stream: a change arrives p50 {e['p50']:.0f} ms / p95 {e['p95']:.0f} ms / "
            f"max {e['max']:.0f} ms after its answer; {t['paced']['events_missing']} missing"
        )
    print("store check:", json.dumps(t["store_check"]))
