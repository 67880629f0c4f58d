"""REFI-QDA export and import time on the generated 1,000-transcript project.

Builds the project with bench/generate_project.py (1,000 transcripts of 8,000 words, 50 codes,
100,000 codings by 3 coders, 1,103 cases), then times, each in a fresh process state:
  1. export the whole project to .qdpx (store read, mapping, XML build, schema validation, zip);
  2. import that .qdpx into a new project (read + checks, mapping, one transaction);
  3. export the imported project again, and check the two archives are byte-identical.
Writes bench/out/refi_speed.json and prints the figures.

    .venv/bin/python bench/refi_speed.py [--transcripts N] [--codings N] [--keep]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import platform
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from generate_project import generate_project  # noqa: E402

OUT = REPO / "bench" / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--codings", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the projects and archives")
    args = parser.parse_args()

    work = OUT / "refi-speed"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    generate_project(
        work / "source", transcripts=args.transcripts, words=args.words, codings=args.codings
    )
    generated = time.perf_counter() - t0

    from caseframe.api import Project

    project = Project.open(work / "source")
    t0 = time.perf_counter()
    first, report = project.export_qdpx(work / "first.qdpx")
    export_s = time.perf_counter() - t0
    counts = project.refi_project().counts()
    project.close()

    t0 = time.perf_counter()
    copy, result = Project.from_qdpx(first, work / "copy")
    import_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    second, _ = copy.export_qdpx(work / "second.qdpx")
    reexport_s = time.perf_counter() - t0
    copy.close()
    identical = filecmp.cmp(first, second, shallow=False)

    figures = {
        "what": "REFI-QDA .qdpx export and import of a generated project",
        "transcripts": args.transcripts,
        "words_per_transcript": args.words,
        "counts": counts,
        "archive_mb": round(first.stat().st_size / 1e6, 1),
        "generate_s": round(generated, 1),
        "export_s": round(export_s, 1),
        "import_s": round(import_s, 1),
        "reexport_s": round(reexport_s, 1),
        "round_trip_byte_identical": identical,
        "export_report": report.lines(),
        "import_report": result.report.lines(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    (OUT / "refi_speed.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
