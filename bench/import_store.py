"""Import throughput into a project store: `caseframe import` end to end (read, turns, units,
one transaction per file) for 100 generated transcripts of 8,000 words and the 7 PDPilot
transcripts, on SQLite and, when CASEFRAME_TEST_PG_URL is set, on PostgreSQL.

Run: .venv/bin/python bench/import_store.py
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from caseframe.api import Project  # noqa: E402
from import_throughput import generate_corpus  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"


def run(name: str, files: list[Path], folder: Path, db: str | None = None) -> None:
    project = Project.init(folder, db=db)
    start = time.perf_counter()
    results = project.import_documents(files)
    seconds = time.perf_counter() - start
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    words = sum(r.words for r in results)
    store = "PostgreSQL" if db else "SQLite"
    print(
        f"| {name} | {store} | {len(files)} | {words:,} | {seconds:.2f} | {words / seconds:,.0f} |"
    )
    project.close()


def main() -> None:
    print("| corpus | store | files | words | seconds | words/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "corpus").mkdir()
        files, _ = generate_corpus(tmp_path / "corpus", docs=100, words=8000, seed=0)
        pdpilot = sorted((SHARED / "data" / "pdpilot-interviews" / "text").glob("P[0-9].txt"))
        run("synthetic 100 × 8,000 words", files, tmp_path / "p1")
        run("PDPilot transcripts", pdpilot, tmp_path / "p2")
        pg = os.environ.get("CASEFRAME_TEST_PG_URL")
        if pg:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            from caseframe.store.engine import normalise_url

            name = "cf_bench_" + uuid.uuid4().hex[:8]
            admin = create_engine(normalise_url(pg), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(normalise_url(pg)).set(database=name).render_as_string(False)
            try:
                run("synthetic 100 × 8,000 words", files, tmp_path / "p3", db=url)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak resident memory of the whole run: {peak:.0f} MiB (getrusage ru_maxrss).")
    print("Timing: wall clock around Project.import_documents (read, decode, NFC, turns,")
    print("meaning units by turn, content hash, one transaction per file), after project init.")


if __name__ == "__main__":
    main()
