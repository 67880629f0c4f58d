"""`export qdpx` side by side with qc's export of the same texts and codings.

1. Builds a caseframe project with bench/generate_project.py (default: 100 transcripts of 8,000
   words, 5,000 codings by 3 coders, seed 0).
2. Builds a qc (qualitative-coding 1.7.8) project from the same texts and codings: caseframe
   exports it with `--line-names` and qc's own REFI reader (what `qc init --import` runs)
   imports that archive. qc codes whole lines, so it keeps one coding per (line, code, coder);
   the figures say how many.
3. Times the two exports, alternating, `--rounds` times, each in a fresh Python process:
   - caseframe: `Project.open(p).export_qdpx(out)` (read the store, map, build the XML,
     validate it against the REFI-QDA schema once, zip) and `caseframe -p P export qdpx OUT`;
   - qc: `REFIQDAWriter(settings).write(out)`, what `qc export` runs (no schema validation).
     qc's command line itself is not timed: it imports spaCy at start-up for another command.
   Each row gives the export call alone (perf_counter and process CPU time inside the process)
   and the whole process (wall clock around it, start-up and imports included). Medians over the
   rounds; CPU time is the steadier figure on a shared machine.
Writes bench/out/refi_vs_qc.json and prints the figures.

    .venv/bin/python bench/refi_vs_qc.py [--transcripts N] [--codings N] [--rounds N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from generate_project import generate_project  # noqa: E402
from refi_peers import qc_available, qc_import, qc_python  # noqa: E402

OUT = REPO / "bench" / "out"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONBREAKPOINT": "0"}

CASEFRAME_EXPORT = """
import sys, time
from caseframe.api import Project
project = Project.open(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
project.export_qdpx(sys.argv[2])
print(f"EXPORT {time.perf_counter() - t:.4f} {time.process_time() - c:.4f}")
"""
QC_EXPORT = """
import sys, time
from qualitative_coding.refi_qda.writer import REFIQDAWriter
t, c = time.perf_counter(), time.process_time()
REFIQDAWriter("settings.yaml").write(sys.argv[2])
print(f"EXPORT {time.perf_counter() - t:.4f} {time.process_time() - c:.4f}")
"""


def timed(args: list[str], cwd: Path) -> tuple[float, float | None, float | None]:
    """(whole process seconds, export call seconds, export call CPU seconds) of one run."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{done.stderr[-2000:]}")
    call = [line.split() for line in done.stdout.splitlines() if line.startswith("EXPORT ")]
    return wall, float(call[-1][1]) if call else None, float(call[-1][2]) if call else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=int, default=100)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--codings", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the projects and archives")
    args = parser.parse_args()
    if not qc_available():
        sys.exit("qc is not installed: pip install qualitative-coding==1.7.8 (the test extra)")

    work = OUT / "refi-vs-qc"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    source = work / "caseframe"
    generate_project(source, transcripts=args.transcripts, words=args.words, codings=args.codings)

    from caseframe.api import Project

    with Project.open(source) as project:
        counts = project.refi_project().counts()
        lines, _ = project.export_qdpx(work / "for-qc.qdpx", line_names=True)
    kept = qc_import(lines, work / "qc")
    caseframe_bin = Path(sys.executable).with_name("caseframe")
    runs: dict[str, list[tuple]] = {"caseframe": [], "cli": [], "qc": []}
    for i in range(args.rounds):  # alternate, so load from other jobs hits both alike
        out = work / f"cf-{i}.qdpx"
        runs["caseframe"].append(
            timed([sys.executable, "-c", CASEFRAME_EXPORT, str(source), str(out)], work)
        )
        runs["qc"].append(
            timed([qc_python(), "-c", QC_EXPORT, "-", str(work / f"qc-{i}.qdpx")], work / "qc")
        )
        cli_out = work / f"cli-{i}.qdpx"
        runs["cli"].append(
            timed([str(caseframe_bin), "-p", str(source), "export", "qdpx", str(cli_out)], work)
        )

    def median(name: str, which: int) -> float | None:
        values = [r[which] for r in runs[name] if r[which] is not None]
        return round(statistics.median(values), 3) if values else None

    figures = {
        "what": "caseframe export qdpx vs qc's REFI-QDA export of the same texts and codings",
        "how": (
            "generate_project.py builds the caseframe project; qc's REFIQDAReader imports its "
            "--line-names export into a qc project; the two exports then run alternately, each "
            "in a fresh python process, timed inside the process (perf_counter, process_time) "
            "and around it (wall clock); medians over the rounds"
        ),
        "project": {
            "transcripts": args.transcripts,
            "words_per_transcript": args.words,
            "caseframe": counts,
            "qc_keeps": {
                "documents": len(kept["documents"]),
                "coded_lines": len(kept["coded"]),
                "codes_in_codebook": len(kept["codebook"]),
                "coders": len(kept["coders"]),
            },
        },
        "rounds": args.rounds,
        "median_export_call_s": {"caseframe": median("caseframe", 1), "qc": median("qc", 1)},
        "median_export_call_cpu_s": {"caseframe": median("caseframe", 2), "qc": median("qc", 2)},
        "median_process_s": {
            "caseframe (python -c, Project.export_qdpx)": median("caseframe", 0),
            "caseframe (CLI: caseframe export qdpx)": median("cli", 0),
            "qc (python -c, REFIQDAWriter.write)": median("qc", 0),
        },
        "archive_mb": {
            "caseframe": round((work / "cf-0.qdpx").stat().st_size / 1e6, 2),
            "qc": round((work / "qc-0.qdpx").stat().st_size / 1e6, 2),
        },
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    for key in ("median_export_call_s", "median_export_call_cpu_s"):
        call = figures[key]
        if call["caseframe"] and call["qc"]:
            figures[f"ratio_caseframe_over_qc ({key})"] = round(call["caseframe"] / call["qc"], 2)
    OUT.mkdir(exist_ok=True)
    (OUT / "refi_vs_qc.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
