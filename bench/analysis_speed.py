"""Speed of the analyses on a large generated project.

Generates (once; reused if present) a project with bench/generate_project.py — by default
1,000 transcripts of 8,000 words, 50 codes, 100,000 codings from 3 coders, 3 regions, 100
sites — then times: quotes for one category (with its codes), each matrix cell kind, co-occurrence
(unit and overlap, count and Jaccard, and split by setting), coverage and the full HTML report;
then the site profiles of the example study (16 sites with illustrative SIS ratings): the web
page of one site, the overview page and the HTML file of all sites, as the workspace serves them.
Each query runs once to warm up, then `--repeat` times; the median wall time is reported.
Results go to bench/out/analysis_speed.json and are printed as a table.

    .venv/bin/python bench/analysis_speed.py [--project DIR] [--repeat 5] [--fresh] [--no-profiles]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from caseframe.api import Project  # noqa: E402
from generate_project import generate_project  # noqa: E402

OUT = REPO / "bench" / "out"
GOAL_QUERY_MS = 200
GOAL_REPORT_S = 10


def _time(fn, repeat: int) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, result). The CPU figure is
    steadier than wall time when other jobs share the machine's cores."""
    result = fn()  # warm-up (and the value we report on)
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=OUT / "analysis-project")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="Regenerate the project.")
    parser.add_argument(
        "--no-profiles", action="store_true", help="Skip the example study's profile pages."
    )
    args = parser.parse_args()

    if args.fresh and args.project.exists():
        shutil.rmtree(args.project)
    generated_in = None
    if not (args.project / "caseframe.json").exists():
        started = time.perf_counter()
        generate_project(args.project)
        generated_in = time.perf_counter() - started
    project = Project.open(args.project)
    docs = project.documents_frame()
    shape = {
        "documents": len(docs),
        "words": int(docs["words"].sum()),
        "codes": len(project.codes()),
        "coders": len(project.coders_frame()),
        "codings": int(docs["codings"].sum()),
        "cases": len(project.cases()),
        "generated_in_s": generated_in,
    }

    queries = {
        "quotes (Category 1 and its codes)": lambda: project.quotes("Category 1"),
        "matrix respondent × categories, count": lambda: project.matrix(
            "respondent", "categories", "count"
        ),
        "matrix site × categories, respondents": lambda: project.matrix(
            "site", "categories", "respondents"
        ),
        "matrix region × sis, valence": lambda: project.matrix("region", "sis", "valence"),
        "matrix setting × codes, count": lambda: project.matrix("setting", "codes", "count"),
        "matrix site × main categories, quotes": lambda: project.matrix(
            "site", "main_categories", "quotes"
        ),
        "matrix respondent × categories, summary": lambda: project.matrix(
            "respondent", "categories", "summary"
        ),
        "cooccurrence unit, count": lambda: project.cooccurrence("unit", "count"),
        "cooccurrence unit, jaccard by setting": lambda: project.cooccurrence(
            "unit", "jaccard", by="setting"
        ),
        "cooccurrence overlap, jaccard": lambda: project.cooccurrence("overlap", "jaccard"),
        "coverage sis": lambda: project.coverage("sis"),
    }
    rows = []
    for name, fn in queries.items():
        seconds, cpu, result = _time(fn, args.repeat)
        size = len(result) if hasattr(result, "__len__") else len(result.components)
        rows.append(
            {
                "query": name,
                "ms": round(seconds * 1000, 1),
                "cpu_ms": round(cpu * 1000, 1),
                "result_rows": size,
            }
        )
        print(
            f"{name:45s} {seconds * 1000:8.1f} ms  (cpu {cpu * 1000:6.1f} ms, {size} rows)",
            flush=True,
        )

    out = OUT / "analysis-report.html"
    started = time.perf_counter()
    project.report("html", out)
    report_s = time.perf_counter() - started
    print(f"{'full HTML report':45s} {report_s:8.2f} s  ({out.stat().st_size / 1e6:.1f} MB)")

    profiles = [] if args.no_profiles else _profile_pages(args.repeat)
    figures = {
        "project": shape,
        "queries": rows,
        "profile_pages": profiles,
        "report_html_s": round(report_s, 2),
        "report_html_mb": round(out.stat().st_size / 1e6, 2),
        "goal": {"query_ms": GOAL_QUERY_MS, "report_s": GOAL_REPORT_S},
        "all_queries_within_goal": all(r["ms"] < GOAL_QUERY_MS for r in rows),
        "report_within_goal": report_s < GOAL_REPORT_S,
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor(),
            "cores": os.cpu_count(),
            "load_average": os.getloadavg(),  # other jobs on the cores inflate wall times
        },
        "repeat": args.repeat,
        "statistic": "median wall time (and median process CPU time) after one warm-up run",
    }
    (OUT / "analysis_speed.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(shape))
    project.close()


def _profile_pages(repeat: int) -> list[dict]:
    """The example study's profiles (16 sites) as the web workspace draws them."""
    import tempfile

    from caseframe.example_study import build_example, load_example_ratings
    from caseframe.reports.profiles import profile_page

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        build = build_example(Path(folder) / "demo")
        example = build.project
        load_example_ratings(example)
        pages = {
            "profiles page, one site (A-S4)": lambda: profile_page(example, "A-S4"),
            "profiles page, overview of 16 sites": lambda: profile_page(example),
            "profiles HTML file, 16 sites": lambda: example.write_profiles(
                "html", Path(folder) / "profiles.html"
            ),
        }
        for name, fn in pages.items():
            seconds, cpu, _ = _time(fn, repeat)
            rows.append(
                {"page": name, "ms": round(seconds * 1000, 1), "cpu_ms": round(cpu * 1000, 1)}
            )
            print(f"{name:45s} {seconds * 1000:8.1f} ms  (cpu {cpu * 1000:6.1f} ms)", flush=True)
        example.close()
    return rows


if __name__ == "__main__":
    main()
