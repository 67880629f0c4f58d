"""Server CPU per request of the web workspace: a plain page, the session check, applying a code.

Starts `caseframe serve` (one worker, SQLite unless --db) in its own process on the project that
`web_latency.py` builds, signs in --coders coders, then sends each kind of request back to back
from that many threads and divides the server process's CPU time (user + system, /proc) by the
requests answered. Each kind runs --rounds times in turn; the first round warms caches.

    .venv/bin/python bench/web_cpu.py [--coders 4] [--per-coder 150] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web_latency as wl  # noqa: E402
from _web_team import cpu_seconds  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coders", type=int, default=4)
    ap.add_argument("--per-coder", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    import httpx

    folder = Path(tempfile.mkdtemp(prefix="caseframe-webcpu-"))
    info = wl.build(folder, None, args.coders)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = wl.start_server(folder / "project", port, None, 1)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base + "/login")
            break
        except httpx.TransportError:
            time.sleep(0.3)
    clients = [wl.login(base, f"coder{i}") for i in range(args.coders)]

    def send(kind: str, i: int) -> None:
        rng = random.Random(hash((kind, i)))
        for _ in range(args.per_coder):
            if kind == "sign-in page (no store)":
                clients[i].get("/login")
            elif kind == "session check (GET /api/session)":
                clients[i].get("/api/session")
            else:
                start = rng.randrange(0, info["work_len"] - 300)
                body = {"document_id": info["work_doc"], "start": start, "valence": None}
                body |= {"end": start + rng.randint(10, 300), "code_id": rng.choice(info["codes"])}
                clients[i].post("/api/codings", json=body)

    print(f"load average {os.getloadavg()[0]:.1f}; {args.coders} coders back to back")
    try:
        for round_no in range(1, args.rounds + 1):
            for kind in (
                "sign-in page (no store)",
                "session check (GET /api/session)",
                "apply a code (POST /api/codings)",
            ):
                before, started = cpu_seconds([server.pid]), time.perf_counter()
                threads = [
                    threading.Thread(target=send, args=(kind, i)) for i in range(args.coders)
                ]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                n = args.coders * args.per_coder
                ms = (cpu_seconds([server.pid]) - before) * 1000 / n
                rate = n / (time.perf_counter() - started)
                print(f"round {round_no}  {kind:36} {ms:5.2f} ms server CPU  {rate:5.0f} req/s")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
