"""Names outside the transcripts, and propagation that respects case and ordinary words.

A respondent's name is in file names written three ways, a case id and label, a code, a set, a
coder (and so memo authors and the audit log), a memo title. After `privacy scan` and `apply`,
no export of the project holds it: codings CSV and XLSX, the HTML, Word and Markdown report,
QDPX, QDC, and the SQLite file after compaction.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path

import pytest

from caseframe.privacy import KeyFile, Registry, scan
from caseframe.privacy.corpus import scan_corpus
from caseframe.privacy.propagate import Vocabulary, spaced_view
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.store import schema as t
from caseframe.store.core import now

PASS = "another long passphrase for tests"
FILE_NAMES = ["Karin_Lindqvist_second.txt", "karin-lindqvist.docx", "KarinLindqvist.txt"]
TEXT = (
    "Interviewer: Hur började det?\n"
    "Respondent: Jag heter Karin Lindqvist och leder teamet. Lindqvists kollegor stöttar.\n"
    "Interviewer: Och nu, {n}?\n"
    "Respondent: Det går bättre nu, vecka {n}.\n"
)
_ORIGINAL = re.compile(r"karin|lindqvist", re.IGNORECASE)


# -- the parts ----------------------------------------------------------------------------------


def test_spaced_view_of_file_names():
    view, index = spaced_view("KarinLindqvist_2-a.txt")
    assert view == "Karin Lindqvist 2 a txt"
    assert [index[i] for i in (0, 5, 6)] == [0, -1, 5]


def test_vocabulary_counts_running_text_only():
    vocab = Vocabulary(["we are learning; mail karin.lindqvist@example.se or see www.example.se"])
    assert vocab.is_common("Learning") and not vocab.is_common("Karin")
    assert not vocab.is_common("Learning Lindqvist")


def test_a_name_that_is_also_a_lower_case_word_is_not_spread_onto_the_word():
    """The regression: "Learning" cued once became a person wherever "learning" stood."""
    texts = {
        "a.txt": "Dr Learning joined in May. We met Dr Learning twice.",
        "b.txt": "Machine learning helps. Learning is hard. Deep learning too.\n"
        "Then Machine Learning came up, and so did Learning Analytics.",
        "c.txt": "The consultant, Learning, said so; I asked Learning about it.",
    }
    found = scan_corpus(texts, Registry(), PseudonymBook())
    assert "b.txt" not in found  # neither the word, nor sentence starts, nor longer names
    assert [(d.text, d.source) for d in found["a.txt"]] == [
        ("Learning", "pattern:titled_name"),
        ("Learning", "pattern:titled_name"),
    ]
    # mid-sentence and alone, the capital does mark a name
    assert [d.source for d in found["c.txt"]] == ["propagated:project"] * 2


def test_a_name_that_is_no_word_is_spread_in_any_capitalised_form():
    texts = {"a.txt": "Hi, Donna. Donna's plan works.", "b.txt": "Donna said so. Then DONNA!"}
    found = scan_corpus(texts, Registry(), PseudonymBook())
    assert [d.text for d in found["b.txt"]] == ["Donna", "DONNA"]
    # where the text also writes "donna", only a mid-sentence "Donna" is taken
    text = "Hi, Donna. donna's plan. Donna came, said Donna."
    assert [(d.start, d.text) for d in scan(text)] == [(4, "Donna"), (42, "Donna")]


def test_identifiers_are_matched_with_any_separator_and_case():
    registry = Registry()
    registry.add("Karin Lindqvist", "person")
    texts = {f"documents.name#{i}": n for i, n in enumerate(FILE_NAMES, start=1)}
    texts["codes.name#1"] = "Karin's doubts"  # the first name alone is not registered
    found = scan_corpus(texts, registry, PseudonymBook(), identifiers=set(texts))
    assert {ref: [d.text for d in ds] for ref, ds in found.items()} == {
        "documents.name#1": ["Karin_Lindqvist"],
        "documents.name#2": ["karin-lindqvist"],
        "documents.name#3": ["KarinLindqvist"],
    }


# -- on a project, through every export -------------------------------------------------------


@pytest.fixture
def named(project, tmp_path):
    """A project whose respondent Karin Lindqvist is named everywhere but in the codebook's
    framework texts; the key registers her name with the variants "Karin" and "Lindqvist"."""
    src = tmp_path / "src"
    src.mkdir()
    for n, name in enumerate(FILE_NAMES, start=1):
        if name.endswith(".docx"):
            import docx

            document = docx.Document()
            for line in TEXT.format(n=n).splitlines():
                document.add_paragraph(line)
            document.save(src / name)
        else:
            (src / name).write_text(TEXT.format(n=n), encoding="utf-8")
    project.add_case("karin-lindqvist", label="Karin Lindqvist (team lead)", kind="respondent")
    results = project.import_documents([src / n for n in FILE_NAMES], case="karin-lindqvist")
    assert all(r.ok for r in results), results
    code = project.add_code("Karin's doubts", description="What Karin worries about")
    project.add_code("Stöd", parent=code.name)
    for name in project.documents_frame()["name"]:
        doc = project.document(name)
        turn = doc.turns[1]
        project.add_coding(name, turn.start, turn.end, code.id, "Karin Lindqvist")
    project.add_memo(
        "case",
        "karin-lindqvist",
        "Lugnt samtal.",
        title="Samtal med Karin",
        author="Karin Lindqvist",
    )
    with project.writing("Karin Lindqvist") as w:
        w.audit("note", "case", "karin-lindqvist", None, {"label": "Karin Lindqvist"})
    with project.store.transaction() as conn:
        conn.execute(
            t.sets.insert().values(
                name="Intervjuer med Karin Lindqvist", description="", guid=str(uuid.uuid4())
            )
        )
    key = KeyFile.create(tmp_path / "private.cfkey", PASS, scrypt_n=2**14)
    project.register_name(
        key, "Karin Lindqvist", "respondent", "Respondent K", ["Karin", "Lindqvist"]
    )
    return project, key


def _text_of(path: Path) -> str:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return path.read_bytes().decode("utf-8", "replace")


def test_names_everywhere_are_scanned(named):
    project, key = named
    targets = {i.document.split("#")[0] for i in project.privacy_scan(key)}
    assert set(FILE_NAMES) <= targets  # the transcripts
    assert {
        "documents.name",
        "cases.key",
        "cases.label",
        "codes.name",
        "codes.description",
        "sets.name",
        "coders.name",
        "memos.title",
    } <= targets


def test_apply_pseudonymises_every_name_and_no_export_holds_the_original(named, tmp_path):
    project, key = named
    summary = project.apply_privacy_review(key, project.privacy_scan(key), actor="olga")
    assert summary.fields >= 9 and summary.scrubbed >= 3  # coder name: memo author, audit log
    assert sorted(project.documents_frame()["name"]) == [
        "[Respondent K].docx",
        "[Respondent K].txt",
        "[Respondent K]_second.txt",
    ]
    assert set(project.cases_frame()["key"]) >= {"[Respondent K]"}
    assert "[Respondent K]'s doubts" in set(project.codes_frame()["name"])
    out = tmp_path / "exports"
    out.mkdir()
    written = [
        project.export_codings("csv", out / "codings.csv"),
        project.export_codings("xlsx", out / "codings.xlsx"),
        project.export_qdpx(out / "project.qdpx")[0],
        project.export_qdc(out / "codebook.qdc")[0],
    ]
    written += [project.report(fmt, out / f"report.{fmt}") for fmt in ("html", "docx", "md")]
    for path in written:
        text = _text_of(path)
        assert "Respondent K" in text or path.suffix == ".qdc", path.name
        hit = _ORIGINAL.search(text)
        assert not hit, (path.name, text[max(0, hit.start() - 80) : hit.end() + 40])
    project.close()
    for path in sorted(project.root.glob("project.sqlite*")):
        raw = path.read_bytes().decode("utf-8", "replace")
        hit = _ORIGINAL.search(raw)
        assert not hit, (path.name, raw[max(0, hit.start() - 80) : hit.end() + 40])
    # the audit entry of the apply is there, with counts and no name
    entry = next(e for e in project.audit_entries() if e.action == "pseudonymise")
    assert entry.actor == "olga" and entry.after["fields"] == summary.fields
    assert not _ORIGINAL.search(str(entry.after))


def test_a_rename_that_would_clash_changes_nothing(project, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "Karin.txt").write_text("Intervju ett.\n", encoding="utf-8")
    (src / "[Person 1].txt").write_text("Intervju två.\n", encoding="utf-8")
    assert all(r.ok for r in project.import_documents(sorted(src.iterdir())))
    key = KeyFile.create(tmp_path / "k.cfkey", PASS, scrypt_n=2**14)
    project.register_name(key, "Karin", "person")
    items = project.privacy_scan(key)
    assert [i.document.split("#")[0] for i in items] == ["documents.name"]
    from caseframe.errors import Conflict

    with pytest.raises(Conflict, match="would both be named"):
        project.apply_privacy_review(key, items)
    assert sorted(project.documents_frame()["name"]) == ["Karin.txt", "[Person 1].txt"]
    assert now()  # the store still opens and reads


def test_annomi_project_scan_proposes_no_ordinary_word(shared):
    """All 133 AnnoMI transcripts as one project: names found once are spread to the other
    transcripts, but not onto "mark the form", "a green light", "those jeans" or "nick a car",
    which the earlier case-insensitive rule proposed as persons (bench/privacy_precision.py)."""
    import pandas as pd

    df = pd.read_csv(
        shared / "data" / "annomi" / "AnnoMI-full.csv", dtype=str, keep_default_na=False
    )
    rows = df.drop_duplicates(["transcript_id", "utterance_id"]).copy()
    rows["order"] = rows["utterance_id"].astype(int)
    texts = {
        tid: "\n".join(g.sort_values("order")["utterance_text"])
        for tid, g in rows.groupby("transcript_id")
    }
    found = scan_corpus(texts, Registry(), PseudonymBook())
    persons = [(ref, d.text) for ref, ds in found.items() for d in ds if d.category == "person"]
    assert len(persons) == 204
    assert all(text[0].isupper() for _ref, text in persons)
    assert ("121", "Green") not in persons  # "Green Prescriptions": beside a capitalised word
    assert sum(ref == "12" and text == "Sarah" for ref, text in persons) == 4  # spread in


@pytest.mark.postgres
def test_apply_and_compact_on_postgresql(tmp_path, pg_database):
    """The same apply on PostgreSQL: one transaction, then VACUUM FULL outside it."""
    from sqlalchemy import text

    from caseframe.api import Project

    project = Project.init(tmp_path / "pg", db=pg_database)
    try:
        src = tmp_path / "src"
        src.mkdir()
        (src / "Karin_Lindqvist.txt").write_text(TEXT.format(n=1), encoding="utf-8")
        assert all(r.ok for r in project.import_documents([src / "Karin_Lindqvist.txt"]))
        project.add_code("Karins oro")
        key = KeyFile.create(tmp_path / "k.cfkey", PASS, scrypt_n=2**14)
        project.register_name(key, "Karin Lindqvist", "respondent", "Respondent K", ["Karin"])
        filenode = "SELECT pg_relation_filenode('documents')"
        with project.store.engine.connect() as conn:
            before = conn.execute(text(filenode)).scalar()
        summary = project.apply_privacy_review(key, project.privacy_scan(key))
        assert summary.documents == 1 and summary.fields == 2  # document name, code name
        assert list(project.documents_frame()["name"]) == ["[Respondent K].txt"]
        assert "[Respondent K]s oro" in set(project.codes_frame()["name"])
        with project.store.engine.connect() as conn:  # VACUUM FULL wrote the table anew
            assert conn.execute(text(filenode)).scalar() != before
    finally:
        project.close()
