"""`codings import` in bulk: every row checked, documents/codes/coders resolved once, one
executemany, on SQLite and PostgreSQL, with the real PDPilot interview transcripts."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import event

from caseframe.api import Project
from caseframe.errors import InvalidInput, NotFound
from caseframe.store import schema as t

CODES = ("Purposes/Feature importance", "Purposes/Interactions", "Tools/SHAP", "Tools/PDP")


@pytest.fixture(params=["sqlite", "postgresql"])
def transcripts(request, tmp_path, shared):
    """A project (SQLite file or PostgreSQL database) holding the seven PDPilot transcripts
    and a small code tree."""
    db = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    project = Project.init(tmp_path / "proj", db=db, actor="tester")
    files = sorted((shared / "data" / "pdpilot-interviews" / "text").glob("P[0-9].txt"))
    assert all(r.ok for r in project.import_documents(files))
    for path in CODES:
        parent, name = path.split("/")
        if parent not in {c.name for c in project.codes()}:
            project.add_code(parent, kind="theme")
        project.add_code(name, parent=parent)
    yield project
    project.close()


def turn_rows(project: Project, per_document: int) -> list[dict[str, str]]:
    """Codings on the first turns of every transcript: odd ones by offsets, even ones by the
    turn's text as a quote (with its occurrence when the text repeats)."""
    rows = []
    for name in project.documents_frame()["name"]:
        doc = project.document(name)
        for i, turn in enumerate(doc.turns[:per_document]):
            row = {"document": name, "code": CODES[i % 4], "coder": ("ann", "bob")[i % 2]}
            if i % 2:
                row.update(start=str(turn.start), end=str(turn.end))
            else:
                quote = doc.text[turn.start : turn.end]
                hits, at = [], doc.text.find(quote)
                while at != -1:
                    hits.append(at)
                    at = doc.text.find(quote, at + 1)
                row["quote"] = quote
                if len(hits) > 1:
                    row["occurrence"] = str(hits.index(turn.start) + 1)
            rows.append(row)
    return rows


def write(path, rows) -> None:
    columns = ["document", "code", "coder", "start", "end", "quote", "occurrence", "memo"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)


def count_statements(project: Project, call) -> tuple[object, int]:
    seen = []

    def on_execute(*_args):
        seen.append(1)

    event.listen(project.store.engine, "before_cursor_execute", on_execute)
    try:
        return call(), len(seen)
    finally:
        event.remove(project.store.engine, "before_cursor_execute", on_execute)


def test_rows_land_where_their_offsets_or_quotes_say(transcripts, tmp_path):
    rows = turn_rows(transcripts, 20)
    write(tmp_path / "c.csv", rows)
    stored, problems = transcripts.import_codings(tmp_path / "c.csv")
    assert (stored, problems) == (len(rows), [])
    frame = transcripts.codings_frame()
    assert len(frame) == len(rows)
    for row in rows:
        doc = transcripts.document(row["document"])
        turn_text = {doc.text[tr.start : tr.end] for tr in doc.turns}
        got = frame[(frame["document"] == row["document"]) & (frame["code_path"] == row["code"])]
        assert set(got["text"]) <= turn_text
    assert set(frame["coder"]) == {"ann", "bob"}


def test_statement_count_does_not_grow_with_rows(transcripts, tmp_path):
    """Documents, codes and coders are looked up once per import, and the rows go in with one
    executemany: 10 and 30 turns per transcript cost the same number of SQL statements."""
    counts = []
    for per_document in (10, 30):
        write(tmp_path / "c.csv", turn_rows(transcripts, per_document))
        (stored, _problems), statements = count_statements(
            transcripts, lambda: transcripts.import_codings(tmp_path / "c.csv")
        )
        assert stored > 0
        counts.append(statements)
        with transcripts.store.transaction() as conn:  # start again from no codings, no coders
            conn.execute(t.codings.delete())
            conn.execute(t.coders.delete())
    assert counts[0] == counts[1] < 60


def test_bad_rows_are_all_reported_and_nothing_is_stored(transcripts, tmp_path):
    good = turn_rows(transcripts, 3)
    bad = [
        {"document": "P9.txt", "code": CODES[0], "coder": "ann", "start": "0", "end": "5"},
        {"document": "P1.txt", "code": "Purposes/Nope", "coder": "ann", "start": "0", "end": "5"},
        {"document": "P1.txt", "code": CODES[0], "coder": "ann", "start": "5", "end": "2"},
        {"document": "P1.txt", "code": CODES[0], "coder": "", "start": "0", "end": "5"},
        {**good[1], "memo": "the same row twice"},
    ]
    write(tmp_path / "c.csv", good + bad)
    with pytest.raises(InvalidInput, match=r"c\.csv:\d+: unknown document 'P9.txt'") as err:
        transcripts.import_codings(tmp_path / "c.csv")
    assert "(and 4 more rows)" in str(err.value) and "nothing was stored" in str(err.value)
    assert transcripts.codings_frame().empty
    assert transcripts.coders_frame().empty  # coders made for the import were rolled back
    stored, problems = transcripts.import_codings(tmp_path / "c.csv", skip_unplaced=True)
    assert stored == len(good) and len(problems) == 5
    assert "did you mean" in problems[0]
    assert "caseframe documents list" in problems[0]
    assert "unknown code" in problems[1]
    assert "do not fit document 'P1.txt'" in problems[2]
    assert "empty coder name" in problems[3]
    assert "has already coded" in problems[4] and "line" in problems[4]
    # a second import of the same rows meets the stored codings
    stored, problems = transcripts.import_codings(tmp_path / "c.csv", skip_unplaced=True)
    assert stored == 0 and all("already coded" in p for p in problems[: len(good)])


def test_unknown_document_names_the_closest(transcripts):
    with pytest.raises(NotFound) as err:
        transcripts.add_coding("P11.txt", 0, 5, CODES[0], "ann")
    assert "unknown document 'P11.txt'" in str(err.value)
    assert "did you mean 'P1.txt'" in str(err.value)
    assert "caseframe documents list" in str(err.value)
    with pytest.raises(NotFound, match="list them all with 'caseframe documents list'"):
        transcripts.document("interview-7")
