"""CLI start-up: wall time and peak memory of `caseframe` calls against bare imports, in one run.

Goals (issue 12): `caseframe --help` ≤ 2.5 × `python -c "import typer, rich"`; `codes list --json`
on the demo project ≤ 2 × `python -c "import typer, rich, sqlalchemy"`; every read command
≤ 120 MB peak resident memory.

Method: each command runs as a fresh process (`python -c "from caseframe.cli.main import main;
main()" ARGS`, which is what the installed `caseframe` script runs) `--repeat` times; the rounds
are interleaved (every command once, then again) so that load from other jobs on the machine
falls on all of them alike, and the median wall time is reported. Peak memory is the child's
maximum resident set size from os.wait4 (the interpreter and every library it loaded). Ratios
divide medians of the same run. The demo project is built once into bench/out/startup-demo.

    PYTHONPATH=src .venv/bin/python bench/cli_startup.py [--repeat 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
DEMO = OUT / "startup-demo"
CASEFRAME = [sys.executable, "-c", "from caseframe.cli.main import main; main()"]
GOAL_RSS_MB = 120

# (label, argv, baseline label or None, goal ratio or None)
CALLS: list[tuple[str, list[str], str | None, float | None]] = [
    ("import typer, rich", [sys.executable, "-c", "import typer, rich"], None, None),
    (
        "import typer, rich, sqlalchemy",
        [sys.executable, "-c", "import typer, rich, sqlalchemy"],
        None,
        None,
    ),
    ("caseframe --help", [*CASEFRAME, "--help"], "import typer, rich", 2.5),
    (
        "codes list --json",
        [*CASEFRAME, "-p", "{p}", "codes", "list", "--json"],
        "import typer, rich, sqlalchemy",
        2.0,
    ),
    ("cases list --json", [*CASEFRAME, "-p", "{p}", "cases", "list", "--json"], None, None),
    ("documents list --json", [*CASEFRAME, "-p", "{p}", "documents", "list", "--json"], None, None),
    ("codings list --json", [*CASEFRAME, "-p", "{p}", "codings", "list", "--json"], None, None),
    ("framework list --json", [*CASEFRAME, "-p", "{p}", "framework", "list", "--json"], None, None),
    ("coders list --json", [*CASEFRAME, "-p", "{p}", "coders", "list", "--json"], None, None),
    ("memo list --json", [*CASEFRAME, "-p", "{p}", "memo", "list", "--json"], None, None),
    ("audit --json", [*CASEFRAME, "-p", "{p}", "audit", "--json"], None, None),
    (
        "quotes --json",
        [*CASEFRAME, "-p", "{p}", "quotes", "Incentives and conditions", "--json"],
        None,
        None,
    ),
]


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr and proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{stderr}")
    return wall, usage.ru_maxrss / 1024  # Linux reports kilobytes


def ensure_demo() -> Path:
    project = DEMO / "project"
    if not (project / "caseframe.json").exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*CASEFRAME, "demo", "--out", str(DEMO), "--no-serve"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    project = ensure_demo()
    calls = [
        (label, [a.replace("{p}", str(project)) for a in argv], base, goal)
        for label, argv, base, goal in CALLS
    ]
    for _, argv, _, _ in calls:  # warm the file cache and .pyc files
        run_once(argv)
    times: dict[str, list[float]] = {label: [] for label, *_ in calls}
    rss: dict[str, list[float]] = {label: [] for label, *_ in calls}
    for _ in range(args.repeat):
        for label, argv, _, _ in calls:
            wall, peak = run_once(argv)
            times[label].append(wall)
            rss[label].append(peak)
    load = os.getloadavg()
    print(
        f"# CLI start-up, {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {load[0]:.1f}/{load[1]:.1f}; median of {args.repeat} interleaved runs"
    )
    print(f"{'call':34} {'median s':>9} {'min s':>7} {'peak MB':>8}  ratio (goal)")
    results = []
    for label, _, base, goal in calls:
        median = statistics.median(times[label])
        peak = max(rss[label])
        line = f"{label:34} {median:9.3f} {min(times[label]):7.3f} {peak:8.1f}"
        entry = {"call": label, "median_s": median, "min_s": min(times[label]), "peak_mb": peak}
        if base:
            ratio = median / statistics.median(times[base])
            verdict = "met" if ratio <= goal else "NOT met"
            line += f"  {ratio:.2f}× {base} (≤ {goal}×: {verdict})"
            entry.update(ratio=ratio, baseline=base, goal=goal)
        if label.startswith(
            (
                "codes",
                "cases",
                "documents",
                "codings",
                "framework",
                "coders",
                "memo",
                "audit",
                "quotes",
            )
        ):
            line += f"  [≤ {GOAL_RSS_MB} MB: {'met' if peak <= GOAL_RSS_MB else 'NOT met'}]"
        print(line)
        results.append(entry)
    if args.json:
        args.json.write_text(
            json.dumps({"load": load, "repeat": args.repeat, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
