"""`caseframe codings import` of a 5,000-row CSV: seconds and SQL statements.

The project: 100 generated transcripts of ≈1,500 words each (alternating "I:"/"R:" turns from a
fixed vocabulary, seed 0), imported with `Project.import_documents`; a code tree of 4 themes with
5 codes each. The CSV: 5,000 rows over all 100 documents and 3 coders, half placed by `start,end`
offsets and half by a `quote` (a verbatim run of 4–12 words, with an `occurrence` column where the
run is found more than once), with valence, strength and memo on some rows.

Measured: wall clock around `Project.import_codings(csv)` (best of `--repeat` runs, each into a
fresh copy of the project's codings: the codings are deleted between runs) and the number of SQL
statements the engine sent (SQLAlchemy `before_cursor_execute`; an executemany counts once), and
once the whole CLI call `caseframe codings import` (start-up included) in a subprocess.

Run:
    PYTHONPATH=src .venv/bin/python bench/codings_import.py                # SQLite
    PYTHONPATH=src .venv/bin/python bench/codings_import.py --db postgresql://postgres@HOST/postgres
With --db, a scratch database is created on that server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete, event

from caseframe.api import Project
from caseframe.store import schema as t

VOCABULARY = (
    "the a and to of in that it is was we they peer support worker staff manager service user "
    "team role work time think really have had not but with for this on be as about when so "
    "what there were more some very also them would like just know because people their our "
    "meeting training supervision funding project recovery experience client trust hope "
    "boundaries climate structure organisation region municipality psychiatry unit group "
    "change question perspective knowledge important difficult good new together need"
).split()
THEMES = ("Funding", "Leadership", "Training", "Routines")
CODERS = ("KG", "AL", "MS")
CSV_COLUMNS = "document code coder start end quote occurrence valence strength memo".split()


def write_transcripts(folder: Path, n: int, words: int, rng: random.Random) -> list[Path]:
    paths = []
    for i in range(n):
        lines, left = [], words
        speaker = "I"
        while left > 0:
            k = min(left, rng.randint(15, 80))
            sentence = " ".join(rng.choice(VOCABULARY) for _ in range(k))
            lines.append(f"{speaker}: {sentence.capitalize()}.")
            speaker = "R" if speaker == "I" else "I"
            left -= k
        path = folder / f"transcript_{i:03d}.txt"
        path.write_text(f"Interview {i}\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def write_codings_csv(project: Project, out: Path, rows: int, rng: random.Random) -> None:
    docs = project.documents_frame()["name"].tolist()
    texts = {name: project.document(name).text for name in docs}
    codes = [f"{theme}/{theme} {j}" for theme in THEMES for j in range(1, 6)]
    seen = set()
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, CSV_COLUMNS)
        writer.writeheader()
        while len(seen) < rows:
            name = rng.choice(docs)
            text = texts[name]
            words = [(m, m + len(w)) for m, w in _word_spans(text)]
            a = rng.randrange(len(words) - 12)
            b = a + rng.randint(3, 11)
            start, end = words[a][0], words[b][1]
            code, coder = rng.choice(codes), rng.choice(CODERS)
            if (name, start, end, code, coder) in seen:
                continue
            seen.add((name, start, end, code, coder))
            row = {"document": name, "code": code, "coder": coder}
            if len(seen) % 2:
                row.update(start=start, end=end)
            else:
                quote = text[start:end]
                hits, at = [], text.find(quote)
                while at != -1:
                    hits.append(at)
                    at = text.find(quote, at + 1)
                row["quote"] = quote
                if len(hits) > 1:
                    row["occurrence"] = hits.index(start) + 1
            if rng.random() < 0.6:
                row["valence"] = rng.choice(("facilitator", "barrier", "mixed"))
                if rng.random() < 0.5:
                    row["strength"] = rng.choice((1, 2))
            if rng.random() < 0.2:
                row["memo"] = f"note {len(seen)}"
            writer.writerow(row)


def _word_spans(text: str):
    import re

    for m in re.finditer(r"\S+", text):
        yield m.start(), m.group()


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


@contextmanager
def scratch_database(admin_url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from caseframe.store.engine import normalise_url

    name = "cf_bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(admin_url)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(folder: Path, db: str | None, args: argparse.Namespace) -> None:
    rng = random.Random(0)
    corpus = folder / "corpus"
    corpus.mkdir()
    project = Project.init(folder / "proj", db=db)
    results = project.import_documents(write_transcripts(corpus, args.documents, args.words, rng))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    for theme in THEMES:
        project.add_code(theme, kind="theme")
        for j in range(1, 6):
            project.add_code(f"{theme} {j}", parent=theme, kind="code")
    csv_path = folder / "codings.csv"
    write_codings_csv(project, csv_path, args.rows, rng)
    counter = StatementCounter(project.store.engine)
    best, statements = float("inf"), 0
    for _ in range(args.repeat):
        with project.store.transaction() as conn:
            conn.execute(delete(t.codings))
            conn.execute(delete(t.audit_log))
        counter.count = 0
        began = time.perf_counter()
        stored, problems = project.import_codings(csv_path)
        seconds = time.perf_counter() - began
        assert stored == args.rows and not problems, problems[:3]
        if seconds < best:
            best, statements = seconds, counter.count
    with project.store.transaction() as conn:
        conn.execute(delete(t.codings))
    project.close()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    began = time.perf_counter()
    command = [sys.executable, "-m", "caseframe", "-p", str(folder / "proj")]
    subprocess.run(
        [*command, "codings", "import", str(csv_path)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    cli = time.perf_counter() - began
    store = "PostgreSQL" if db else "SQLite"
    print(f"| {store} | {args.rows:,} | {best:.2f} | {statements:,} | {cli:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--words", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| store | rows | import_codings s (best) | SQL statements | CLI call s |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            with scratch_database(args.db) as url:
                measure(Path(tmp), url, args)
        else:
            measure(Path(tmp), None, args)
    print(
        f"\n{args.documents} transcripts × ≈{args.words} words; best of {args.repeat} API runs; "
        "statements counted with SQLAlchemy's before_cursor_execute (an executemany is one)."
    )


if __name__ == "__main__":
    main()
