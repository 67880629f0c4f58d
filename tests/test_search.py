"""Full-text search: the query language, hits with offsets and context on real transcripts,
the index kept in step with imports and pseudonymisation, code-all-hits, the CLI, and the same
answers from SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from alembic import command
from sqlalchemy import text

from caseframe.analysis.search import context, find_hits, parse_query
from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.errors import InvalidInput
from caseframe.store import migrate
from caseframe.store.queries import search as search_q
from caseframe.store.schema_extra import FTS_TABLE, FTS_TRIGGERS, PG_INDEX

PDPILOT = ("P1", "P2", "P3")


def _pdpilot(project: Project, shared, names=PDPILOT) -> None:
    folder = shared / "data" / "pdpilot-interviews" / "text"
    results = project.import_documents([folder / f"{n}.txt" for n in names])
    assert all(r.ok for r in results), results


@pytest.fixture
def pdpilot(project, shared):
    _pdpilot(project, shared)
    return project


# -- the query language (pure) ---------------------------------------------------------------------


def test_parse_query_words_phrases_prefixes():
    q = parse_query('ICE "partial dependence" financ*  ice')
    assert [(t.words, t.prefix) for t in q.terms] == [
        (("ice",), False),
        (("partial", "dependence"), False),
        (("financ",), True),
    ]
    assert [t.words for t in parse_query("peer-support").terms] == [("peer", "support")]
    for empty in ("", "   ", '"" * --'):
        with pytest.raises(InvalidInput, match="nothing to search for"):
            parse_query(empty)


def test_hits_are_whole_words_prefixes_and_phrases_case_insensitive():
    text = "Funding ended. The fund's plan: FUNDS, funding-plan; refunding."
    assert find_hits(text, parse_query("fund")) == [(19, 23)]
    assert [text[s:e] for s, e in find_hits(text, parse_query("fund*"))] == [
        "Funding",
        "fund",
        "FUNDS",
        "funding",
    ]
    assert [text[s:e] for s, e in find_hits(text, parse_query('"funding plan"'))] == [
        "funding-plan"
    ]
    # every term must occur somewhere, else no hit at all
    assert find_hits(text, parse_query("fund missing")) == []
    # diacritics are kept: 'har' is not 'hår'
    assert find_hits("Jag har hår.", parse_query("har")) == [(4, 7)]


def test_context_stays_inside_its_turn_and_on_one_line():
    text = "Dan: first question here?\n\nParticipant: we use ICE plots\n daily at work."
    start = text.index("ICE")
    before, after = context(text, start, start + 3, width=200, within=(27, len(text)))
    assert before == "Participant: we use " and after == " plots daily at work."


# -- on real transcripts ---------------------------------------------------------------------------


def test_search_finds_every_occurrence_with_offsets_speaker_and_context(pdpilot):
    result = pdpilot.search("ICE plots")
    texts = {n: pdpilot.document(n).text for n in ("P1.txt", "P2.txt", "P3.txt")}
    # reference: a plain case-insensitive word count per document
    expected = {
        n: len(re.findall(r"\bice\b", t, re.I)) + len(re.findall(r"\bplots\b", t, re.I))
        for n, t in texts.items()
    }
    found: dict[str, int] = {}
    for hit in result.hits:
        assert texts[hit.document][hit.start : hit.end] == hit.match
        assert hit.match.lower() in ("ice", "plots")
        assert hit.speaker in ("Dan", "Participant")
        assert "\n" not in hit.before + hit.after
        found[hit.document] = found.get(hit.document, 0) + 1
    assert found == {n: c for n, c in expected.items() if c}
    assert result.total == sum(expected.values()) and not result.truncated
    assert result.documents == len(found)
    # natural order of documents, text order of hits
    order = [h.document for h in result.hits]
    assert order == sorted(order, key=lambda n: int(n[1:-4]))
    assert all(
        a.start < b.start
        for a, b in zip(result.hits, result.hits[1:], strict=False)
        if a.document == b.document
    )


def test_search_limit_document_filter_and_phrase(pdpilot):
    limited = pdpilot.search("the", limit=5)
    assert len(limited.hits) == 5 and limited.truncated
    one = pdpilot.search('"ICE plots"', documents=["P2.txt"])
    p2 = pdpilot.document("P2.txt").text
    assert {h.document for h in one.hits} == {"P2.txt"}
    assert len(one.hits) == len(re.findall(r"\bICE\s+plots\b", p2, re.I))
    assert pdpilot.search("zzzqqq").hits == []


# -- the index is kept in step ---------------------------------------------------------------------


def test_search_objects_exist_at_the_head_revision(project):
    expected = {FTS_TABLE, *FTS_TRIGGERS} if project.store.dialect == "sqlite" else {PG_INDEX}
    with project.store.read() as conn:
        assert search_q.index_objects(conn) == expected


def test_upgrading_a_store_indexes_the_texts_it_already_holds(project, shared):
    _pdpilot(project, shared, ("P1",))
    cfg = migrate.alembic_config()
    with project.store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        assert search_q.index_objects(conn) == set()
    migrate.upgrade(project.store.engine)
    assert project.search("sharing").total >= 1


def _fts_terms(path) -> set[str]:
    db = sqlite3.connect(path)
    db.execute(f"CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, '{FTS_TABLE}', 'row')")
    terms = {row[0] for row in db.execute("SELECT term FROM temp.vocab")}
    db.close()
    return terms


def test_imports_and_pseudonymisation_update_the_index(project, tmp_path):
    from caseframe.privacy import KeyFile

    folder = tmp_path / "private"
    folder.mkdir()
    key = KeyFile.create(folder / "study.cfkey", "correct horse battery staple", scrypt_n=2**14)
    (tmp_path / "one.txt").write_text(
        "Interviewer: Hej Anna, hur går det på Solgläntan?\nAnna: Bra. Dr Lind ringer ofta.\n",
        encoding="utf-8",
    )
    project.import_documents([tmp_path / "one.txt"])
    assert {h.match for h in project.search("Solgläntan Lind").hits} == {"Solgläntan", "Lind"}
    project.register_name(key, "Anna Berg", "respondent", "Manager A3", ["Anna"])
    project.register_name(key, "Solgläntan", "site")
    project.register_name(key, "Lind", "person", "Doctor")
    review = folder / "review.csv"
    project.write_privacy_review(review, project.privacy_scan(key))
    project.apply_privacy_review(key, review)

    assert project.search("Solgläntan").hits == [] and project.search("Lind").hits == []
    hits = project.search('"Manager A3"').hits
    new = project.document("one.txt").text
    assert hits and all(new[h.start : h.end] == "Manager A3" for h in hits)
    if project.store.dialect != "sqlite":
        return  # PostgreSQL's index is an expression over the text itself
    # the old words are gone from the index itself, not only hidden by the texts
    terms = _fts_terms(project.root / "project.sqlite")
    assert {"anna", "solgläntan", "lind"} & terms == set()
    assert {"manager", "a3", "ringer"} <= terms


# -- code every hit --------------------------------------------------------------------------------


def test_code_all_hits_in_one_audited_transaction(pdpilot):
    code = pdpilot.add_code("ICE plots").id
    done = pdpilot.code_search_hits('"ICE plots"', code, coder="kim", actor="olga")
    result = pdpilot.search('"ICE plots"')
    assert len(done.created) == result.total > 0 and done.skipped == 0
    frame = pdpilot.codings_frame(codes=[code], coders=["kim"])
    assert sorted(zip(frame["document"], frame["start"], frame["end"], strict=True)) == sorted(
        (h.document, h.start, h.end) for h in result.hits
    )
    assert {" ".join(t.lower().split()) for t in frame["text"]} == {"ice plots"}
    audit = pdpilot.audit_frame()
    mine = audit[audit["actor"] == "olga"]
    assert (mine["action"] == "add").sum() == len(done.created)
    summary = mine[mine["action"] == "code_search"].iloc[0]["after"]
    assert summary["query"] == '"ICE plots"' and summary["coder"] == "kim"
    # again: everything is already coded, nothing is added twice
    again = pdpilot.code_search_hits('"ICE plots"', code, coder="kim")
    assert again.created == [] and again.skipped == len(done.created)


def test_code_all_hits_by_turn_codes_each_turn_once(pdpilot):
    code = pdpilot.add_code("Plots").id
    done = pdpilot.code_search_hits("plots", code, coder="kim", documents=["P1"], unit="turn")
    doc = pdpilot.document("P1.txt")
    turns = {(t.start, t.end) for t in doc.turns}
    coded = pdpilot.codings_frame(codes=[code])
    spans = set(zip(coded["start"], coded["end"], strict=True))
    assert spans <= turns and len(spans) == len(done.created)
    holding = {(t.start, t.end) for t in doc.turns if "plots" in doc.text[t.start : t.end].lower()}
    assert spans == {s for s in holding if re.search(r"\bplots\b", doc.text[s[0] : s[1]], re.I)}


def test_code_all_hits_rolls_back_on_an_unknown_code(pdpilot):
    before = len(pdpilot.codings_frame())
    with pytest.raises(Exception, match="unknown code"):
        pdpilot.code_search_hits("plots", "No such code", coder="kim")
    assert len(pdpilot.codings_frame()) == before


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_search_json_and_errors(pdpilot, capsys):
    folder = str(pdpilot.root)
    assert run(["-p", folder, "search", '"decision tree"', "--document", "P2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    p2 = pdpilot.document("P2.txt").text
    assert data["hits"] and {h["document"] for h in data["hits"]} == {"P2.txt"}
    assert all(p2[h["start"] : h["end"]] == h["match"] for h in data["hits"])
    assert run(["-p", folder, "search", "ICE"]) == 0
    out = capsys.readouterr().out
    assert "P1.txt" in out and "hits in 3 documents" in out
    assert run(["-p", folder, "search", "  "]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: nothing to search for") and "Traceback" not in err
    pdpilot.add_code("Trust")
    assert run(["-p", folder, "--as", "olga", "search", "trust", "--code", "Trust"]) == 0
    assert "Coded" in capsys.readouterr().out
    assert len(pdpilot.codings_frame(codes=["Trust"])) == pdpilot.search("trust").total


# -- PostgreSQL gives the same answers -------------------------------------------------------------


def test_postgresql_search_matches_sqlite(shared, pg_database, tmp_path):
    pdpilot = Project.init(tmp_path / "lite")
    _pdpilot(pdpilot, shared)
    pg = Project.init(tmp_path / "pg", db=pg_database)
    try:
        _pdpilot(pg, shared)
        with pg.store.read() as conn:
            assert PG_INDEX in search_q.index_objects(conn)
            # the planner can use the index: the query's expression is the index's
            plan = conn.execute(
                text(
                    "EXPLAIN SELECT id FROM documents WHERE to_tsvector('simple'::regconfig, "
                    "text) @@ to_tsquery('simple'::regconfig, 'ice')"
                )
            ).scalars()
            assert "to_tsvector" in " ".join(plan)
        for query in ("ICE plots", '"partial dependence"', "interpret*", "trust model", "X"):
            a, b = pdpilot.search(query), pg.search(query)
            assert [(h.document, h.start, h.end) for h in a.hits] == [
                (h.document, h.start, h.end) for h in b.hits
            ], query
            assert (a.total, a.documents) == (b.total, b.documents)
        # the index follows a text change too
        doc = pg.document("P1.txt")
        with pg.store.transaction() as conn:
            conn.execute(
                text("UPDATE documents SET text = :t WHERE id = :i"),
                {"t": doc.text + " zebrafinch", "i": doc.id},
            )
        assert [h.document for h in pg.search("zebrafinch").hits] == ["P1.txt"]
    finally:
        pg.close()
        pdpilot.close()
