"""CLI start-up: wall time, CPU time and peak memory of `caseframe` calls against bare imports.

Goals (issue 12): `caseframe --help` ≤ 2.5 × `python -c "import typer, rich"`; `codes list --json`
on the demo project ≤ 2 × `python -c "import typer, rich, sqlalchemy"`; every read command
≤ 120 MB peak resident memory.

Method: everything runs from a plain install of this working tree (bench/plain_install.py: a
venv with `pip install .` and no extras, .pyc files written by pip, caseframe reinstalled when
src/ changed): the bare imports with its interpreter, the commands with its installed
`caseframe` script. Each call is a fresh process, `--repeat` times; the rounds are interleaved
(every call once, then again), so that load from other jobs falls on all of them alike, and the
median is reported. Wall time is from start to exit; CPU time is the child's user + system time
(os.wait4), which load on a shared machine disturbs far less. Peak memory is the child's maximum
resident set size. Ratios divide medians of the same run. The demo project is built once into
bench/out/startup-demo.

    python bench/cli_startup.py [--repeat 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from plain_install import caseframe_command, child_env, describe, plain_python

OUT = Path(__file__).resolve().parent / "out"
DEMO = OUT / "startup-demo"
PYTHON = "{python}"  # the plain install's interpreter and script, filled in by main()
CASEFRAME = ["{caseframe}"]
GOAL_RSS_MB = 120
READ_COMMANDS = (
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

# (label, argv, baseline label or None, goal ratio or None)
CALLS: list[tuple[str, list[str], str | None, float | None]] = [
    ("import typer, rich", [PYTHON, "-c", "import typer, rich"], None, None),
    (
        "import typer, rich, sqlalchemy",
        [PYTHON, "-c", "import typer, rich, sqlalchemy"],
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
    ("framework show sis", [*CASEFRAME, "-p", "{p}", "framework", "show", "sis"], None, None),
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


def run_once(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one run; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr and proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: kilobytes


def ensure_demo(caseframe: list[str]) -> Path:
    project = DEMO / "project"
    if not (project / "caseframe.json").exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*caseframe, "demo", "--out", str(DEMO), "--no-serve"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=child_env(),
        )
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    python, caseframe = str(plain_python()), caseframe_command()
    project = ensure_demo(caseframe)
    fill = {"{p}": str(project), "{python}": python, "{caseframe}": caseframe[0]}
    calls = [
        (label, [fill.get(a, a) for a in argv], base, goal) for label, argv, base, goal in CALLS
    ]
    for _, argv, _, _ in calls:  # warm the file cache
        run_once(argv)
    load_before = os.getloadavg()
    figures: dict[str, list[tuple[float, float, float]]] = {label: [] for label, *_ in calls}
    for _ in range(args.repeat):
        for label, argv, _, _ in calls:
            figures[label].append(run_once(argv))
    load = os.getloadavg()
    print(
        f"# CLI start-up: {describe()}; {os.cpu_count()} CPUs, load (1/5 min) "
        f"{load_before[0]:.1f}/{load_before[1]:.1f} before, {load[0]:.1f}/{load[1]:.1f} after; "
        f"median of {args.repeat} interleaved runs; plain install {python}"
    )
    print(
        f"{'call':34} {'wall s':>7} {'cpu s':>6} {'peak MB':>8}  "
        "ratio wall / cpu to the baseline (goal)"
    )
    results = []
    median = {
        label: (
            statistics.median(f[0] for f in runs),
            statistics.median(f[1] for f in runs),
        )
        for label, runs in figures.items()
    }
    for label, _, base, goal in calls:
        wall, cpu = median[label]
        peak = max(f[2] for f in figures[label])
        line = f"{label:34} {wall:7.3f} {cpu:6.3f} {peak:8.1f}"
        entry = {"call": label, "median_s": wall, "cpu_s": cpu, "peak_mb": peak}
        if base:
            ratio = wall / median[base][0]
            cpu_ratio = cpu / median[base][1]
            verdict = "met" if ratio <= goal else "NOT met"
            line += f"  {ratio:.2f}× / {cpu_ratio:.2f}× {base} (≤ {goal}×: {verdict})"
            entry.update(ratio=ratio, cpu_ratio=cpu_ratio, baseline=base, goal=goal)
        if label.startswith(READ_COMMANDS):
            line += f"  [≤ {GOAL_RSS_MB} MB: {'met' if peak <= GOAL_RSS_MB else 'NOT met'}]"
        print(line)
        results.append(entry)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"load": [load_before, load], "repeat": args.repeat, "results": results}, indent=2
            )
        )


if __name__ == "__main__":
    main()
