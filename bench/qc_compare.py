"""caseframe beside qc (PyPI qualitative-coding 1.7.8), call by call, on one real transcript.

Each round does the same small job with both tools, every step a fresh process timed from start
to exit: create a project, import a transcript (PDPilot P1.txt from ../shared, 18 KB), add a
code, list the codes, code one passage, list the codings of a code, export the project as
.qdpx. The equivalent calls:

  init          caseframe init DIR                  | qc init (in DIR)
  import        caseframe -p DIR import P1.txt      | qc corpus import -i verbatim P1.txt
  add code      caseframe -p DIR codes add NAME     | codebook.yaml written, then qc codebook
  list codes    caseframe -p DIR codes list         | qc codes list
  code passage  caseframe -p DIR code P1.txt START END CODE --coder KG
                                                    | qc code KG -1 (its editor: sed writes the
                                                    |   code on that line of the codes file)
  list codings  caseframe -p DIR codings list --code CODE | qc codes find CODE
  export        caseframe -p DIR export qdpx out.qdpx     | qc export out.qdpx

qc has no command that adds a code: its codebook is a YAML file the user edits, which
`qc codebook` then reads; so that step times `qc codebook` after the file is written. Rounds
alternate which tool goes first; the table gives the median of `--rounds` rounds. Both tools
run as their users get them: qc installed on first use into its own virtual environment,
bench/out/qc-venv (`pip install qualitative-coding==1.7.8`), caseframe as the `caseframe` script
of a plain install of this working tree (bench/plain_install.py: `pip install .`, no extras).
pip writes both tools' .pyc files at install time, and the commands run without
PYTHONDONTWRITEBYTECODE and PYTHONPATH, so neither compiles its modules anew on every call.
CPU time (user + system of the child) is reported beside wall time: load from other jobs on a
shared machine disturbs it far less.

    python bench/qc_compare.py [--rounds 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plain_install import caseframe_command, child_env, describe

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
QC_VENV = OUT / "qc-venv"
WORK = OUT / "qc-compare"
TRANSCRIPT = HERE.parent.parent / "shared" / "data" / "pdpilot-interviews" / "text" / "P1.txt"
CASEFRAME = ["caseframe"]  # the plain install's script, filled in by main()
QC_VERSION = "1.7.8"
CODE = "ice_plots"  # qc takes no spaces in a code name
LINE = 3  # 1-based line of the transcript that both tools code (a turn of Dan's)
STEPS = ("init", "import", "add code", "list codes", "code passage", "list codings", "export")


def qc_env() -> dict[str, str]:
    """qc runs in its own environment: without caseframe's PYTHONPATH, with bytecode caches."""
    return child_env()


def ensure_qc() -> Path:
    qc = QC_VENV / "bin" / "qc"
    if not qc.exists():
        subprocess.run([sys.executable, "-m", "venv", str(QC_VENV)], check=True, env=qc_env())
        subprocess.run(
            [str(QC_VENV / "bin" / "pip"), "install", "-q", f"qualitative-coding=={QC_VERSION}"],
            check=True,
            env=qc_env(),
        )
    return qc


def timed(argv: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one call; fails loudly on a non-zero exit."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env or child_env(), stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            sys.exit(f"failed ({proc.returncode}): {' '.join(argv)}\n{out.read().decode()}")
    return took, usage.ru_utime + usage.ru_stime


def passage() -> tuple[int, int]:
    """Code-point offsets of line LINE (without its newline) in the transcript."""
    text = TRANSCRIPT.read_text(encoding="utf-8").replace("\r\n", "\n")
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: LINE - 1])
    assert lines[LINE - 1].strip(), f"line {LINE} of {TRANSCRIPT.name} is empty"
    return start, start + len(lines[LINE - 1])


def round_caseframe(folder: Path) -> dict[str, tuple[float, float]]:
    project = folder / "project"
    p = ["-p", str(project)]
    start, end = passage()
    t = {"init": timed([*CASEFRAME, "init", str(project)])}
    t["import"] = timed([*CASEFRAME, *p, "import", str(TRANSCRIPT)])
    t["add code"] = timed([*CASEFRAME, *p, "codes", "add", CODE])
    t["list codes"] = timed([*CASEFRAME, *p, "codes", "list"])
    t["code passage"] = timed(
        [*CASEFRAME, *p, "code", TRANSCRIPT.name, str(start), str(end), CODE, "--coder", "KG"]
    )
    t["list codings"] = timed([*CASEFRAME, *p, "codings", "list", "--code", CODE])
    t["export"] = timed([*CASEFRAME, *p, "export", "qdpx", str(folder / "out.qdpx")])
    found = subprocess.run(
        [*CASEFRAME, *p, "codings", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    )
    assert len(json.loads(found.stdout)) == 1, "caseframe did not store the coding"
    return t


def round_qc(qc: Path, folder: Path) -> dict[str, tuple[float, float]]:
    project = folder / "project"
    project.mkdir(parents=True)
    env = {**qc_env(), "QC_SETTINGS": "settings.yaml"}
    t = {"init": timed([str(qc), "init"], cwd=project, env=env)}
    settings = (project / "settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("editor: code\n", "editor: bench\n")
    settings += (
        "editors:\n  bench:\n    name: bench\n"
        f"    code_command: sed -i '{LINE}s/.*/{CODE}/' \"{{codes_file_path}}\"\n"
        '    memo_command: "true"\n'
    )
    (project / "settings.yaml").write_text(settings, encoding="utf-8")
    shutil.copy(TRANSCRIPT, folder / TRANSCRIPT.name)
    t["import"] = timed(
        [str(qc), "corpus", "import", "-i", "verbatim", str(folder / TRANSCRIPT.name)],
        cwd=project,
        env=env,
    )
    (project / "codebook.yaml").write_text(f"- {CODE}\n", encoding="utf-8")
    t["add code"] = timed([str(qc), "codebook"], cwd=project, env=env)
    t["list codes"] = timed([str(qc), "codes", "list"], cwd=project, env=env)
    t["code passage"] = timed([str(qc), "code", "KG", "-1"], cwd=project, env=env)
    t["list codings"] = timed([str(qc), "codes", "find", CODE], cwd=project, env=env)
    t["export"] = timed([str(qc), "export", str(folder / "out.qdpx")], cwd=project, env=env)
    found = subprocess.run(
        [str(qc), "codes", "stats"], cwd=project, env=env, capture_output=True, text=True
    )
    assert CODE in found.stdout, "qc did not store the coding"
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not TRANSCRIPT.is_file():
        sys.exit(f"{TRANSCRIPT}: not found; the shared data folder must sit beside the repository")
    qc = ensure_qc()
    CASEFRAME[:] = caseframe_command()
    shutil.rmtree(WORK, ignore_errors=True)
    times: dict[str, dict[str, list[tuple[float, float]]]] = {
        tool: {s: [] for s in STEPS} for tool in ("caseframe", "qc")
    }
    load_before = os.getloadavg()
    for i in range(args.rounds + 1):  # round 0 warms caches, not counted
        order = ("caseframe", "qc") if i % 2 else ("qc", "caseframe")
        for tool in order:
            folder = WORK / f"round{i}" / tool
            folder.mkdir(parents=True)
            got = round_caseframe(folder) if tool == "caseframe" else round_qc(qc, folder)
            if i:
                for step, took in got.items():
                    times[tool][step].append(took)
    load = os.getloadavg()
    print(
        f"# caseframe vs qc {QC_VERSION}: median of {args.rounds} rounds; caseframe from a plain "
        f"install ({describe()}); {os.cpu_count()} CPUs, load (1/5 min) "
        f"{load_before[0]:.1f}/{load_before[1]:.1f} before, {load[0]:.1f}/{load[1]:.1f} after"
    )
    print(
        f"{'step':14} {'caseframe s':>11} {'qc s':>7} {'ratio':>6}  faster?  "
        f"{'cpu: caseframe s':>16} {'qc s':>6} {'ratio':>6}"
    )
    rows = []
    for step in STEPS:
        ours, theirs = (
            [statistics.median(run[k] for run in times[tool][step]) for k in (0, 1)]
            for tool in ("caseframe", "qc")
        )
        ratio, cpu_ratio = ours[0] / theirs[0], ours[1] / theirs[1]
        print(
            f"{step:14} {ours[0]:11.3f} {theirs[0]:7.3f} {ratio:6.2f}  "
            f"{'yes' if ratio < 1 else 'NO':7}  {ours[1]:16.3f} {theirs[1]:6.3f} {cpu_ratio:6.2f}"
        )
        rows.append(
            {
                "step": step,
                "caseframe_s": ours[0],
                "qc_s": theirs[0],
                "ratio": ratio,
                "caseframe_cpu_s": ours[1],
                "qc_cpu_s": theirs[1],
                "cpu_ratio": cpu_ratio,
            }
        )
    if args.json:
        args.json.write_text(
            json.dumps({"load": [load_before, load], "rounds": args.rounds, "steps": rows})
        )


if __name__ == "__main__":
    main()
