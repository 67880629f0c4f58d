"""Privacy on a project: scan the store, apply a review, keep codings in place, import safely."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.privacy import KeyFile, write_review

PASS = "correct horse battery staple"

DOC_1 = (
    "Interviewer: Hej Anna, hur går det på Solgläntans mottagning?\n"
    "Anna: Bra. Annas chef Dr Lind ringer ofta från Karlstad, 070-123 45 67.\n"
    "Interviewer: Och Solgläntan?\n"
    "Anna: Solgläntan är bra. Lind är snäll.\n"
)
DOC_2 = (
    "Interviewer: Vad säger Lind om Karlstads boende?\n"
    "Bo: Anna Berg och Lind pratar om det. Mejla bo@example.se.\n"
)


@pytest.fixture
def key(tmp_path) -> KeyFile:
    folder = tmp_path / "private"
    folder.mkdir()
    k = KeyFile.create(folder / "study.cfkey", PASS, scrypt_n=2**14)  # fast for tests
    return k


def _register(project, key):
    project.register_name(key, "Anna Berg", "respondent", "Manager A3", ["Anna"])
    project.register_name(key, "Solgläntan", "site")
    project.register_name(key, "Karlstad", "place")


def _docs(project, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "one.txt").write_text(DOC_1, encoding="utf-8")
    (src / "two.txt").write_text(DOC_2, encoding="utf-8")
    results = project.import_documents([src / "one.txt", src / "two.txt"])
    assert all(r.ok for r in results), results


def _code_all_sentences(project, name: str) -> list[tuple[int, int, int]]:
    """Code every sentence, and a span from inside one name to inside another;
    returns (coding id, old start, old end)."""
    if "Ledning" not in set(project.codes_frame()["name"]):
        project.add_code("Ledning")
    doc = project.document(name)
    out = []
    start = 0
    for i, ch in enumerate(doc.text):
        if ch in ".?\n" and i > start:
            out.append((project.add_coding(name, start, i + 1, "Ledning", "kim").id, start, i + 1))
            start = i + 1
    a = doc.text.index("nna")
    b = doc.text.index("Lind", a) + 2
    c = project.add_coding(name, a, b, "Ledning", "kim", memo="Anna Berg says this")
    out.append((c.id, a, b))
    return out


def _expected(old_text: str, start: int, end: int, replacements) -> str:
    """Widen [start, end) to whole replaced values and substitute them."""
    for s, e, _new in replacements:
        if s < start < e:
            start = s
        if s < end < e:
            end = e
    out, pos = [], start
    for s, e, new in sorted(replacements):
        if s >= start and e <= end:
            out.append(old_text[pos:s] + new)
            pos = e
    return "".join(out) + old_text[pos:end]


def test_key_and_review_must_be_outside_the_project(project, tmp_path):
    with pytest.raises(InvalidInput, match="inside the project folder"):
        project.create_key(project.root / "k.cfkey", PASS)
    with pytest.raises(InvalidInput, match="inside the project folder"):
        project.create_key(project.root / "sub" / ".." / "k.cfkey", PASS)
    assert not (project.root / "k.cfkey").exists()
    key = project.create_key(tmp_path / "k.cfkey", PASS)
    with pytest.raises(InvalidInput, match="review list .* inside the project folder"):
        project.write_privacy_review(project.root / "review.csv", [])
    assert KeyFile.open(tmp_path / "k.cfkey", PASS).registry.entries == key.registry.entries


def test_scan_lists_documents_and_fields_with_consistent_pseudonyms(project, key, tmp_path):
    _register(project, key)
    _docs(project, tmp_path)
    project.add_case("R1", label="Anna Berg", kind="respondent")
    project.add_memo("project", None, "Ring Lind på 08-123 456 78", author="kim")
    items = project.privacy_scan(key)
    by_target: dict[str, list] = {}
    for item in items:
        by_target.setdefault(item.document, []).append(item)
    assert {"one.txt", "two.txt"} <= set(by_target)
    assert any(t.startswith("cases.label#") for t in by_target)
    assert any(t.startswith("memos.text#") for t in by_target)
    pseudonyms = {(i.detection.text, i.pseudonym) for i in items}
    assert ("Anna", "[Manager A3]") in pseudonyms
    assert ("Anna Berg", "[Manager A3]") in pseudonyms
    assert ("Solgläntans mottagning", "[Service 1]") not in pseudonyms  # only the name
    assert ("Solgläntan", "[Service 1]") in pseudonyms
    assert ("Karlstad", "[Town 1]") in pseudonyms  # "Karlstads" -> genitive kept outside
    # "Dr Lind" is cued once in one.txt; the bare "Lind" in two.txt and in a memo is found too
    lind = [i for i in items if i.detection.text == "Lind"]
    assert {i.document for i in lind} >= {"one.txt", "two.txt"}
    assert len({i.pseudonym for i in lind}) == 1
    assert any(i.detection.source == "propagated:project" for i in lind)
    phones = [i for i in items if i.detection.category == "phone"]
    assert {i.pseudonym for i in phones} == {"[Phone]"} and len(phones) == 2


def test_apply_replaces_everywhere_and_remaps_codings(project, key, tmp_path):
    _register(project, key)
    _docs(project, tmp_path)
    project.add_case("R1", label="Anna Berg", kind="respondent", description="Annas tjänst")
    project.link_document("one.txt", "R1")
    project.add_memo("document", "one.txt", "Anna verkar trött; Lind håller med.", author="kim")
    project.audit("kim", "note", "coding", 1, None, {"text": "Anna Berg, 070-123 45 67"})
    old = {n: project.document(n) for n in ("one.txt", "two.txt")}
    coded = {n: _code_all_sentences(project, n) for n in old}
    items = project.privacy_scan(key)
    review = tmp_path / "private" / "review.csv"
    project.write_privacy_review(review, items)
    assert review.stat().st_mode & 0o777 == 0o600

    summary = project.apply_privacy_review(key, review)
    assert summary.documents == 2 and summary.fields >= 3 and summary.scrubbed >= 2

    for name, doc in old.items():
        reps = [
            (i.detection.start, i.detection.end, i.pseudonym) for i in items if i.document == name
        ]
        new = project.document(name)
        assert new.pseudonymised and new.content_hash != doc.content_hash
        for cid, start, end in coded[name]:
            c = project.coding(cid)
            assert new.text[c.start : c.end] == _expected(doc.text, start, end, reps)
        for t_old, t_new in zip(doc.turns, new.turns, strict=True):
            assert new.text[t_new.start : t_new.end] == _expected(
                doc.text, t_old.start, t_old.end, reps
            )
            assert "Anna" not in t_new.speaker
        for unit in project.meaning_units(name):
            assert unit.end <= len(new.text)
    one = project.document("one.txt").text
    assert "[Manager A3]s chef" in one and "[Service 1]s mottagning" in one
    assert "Anna" not in one and "Lind" not in one and "070" not in one
    # the coding that started inside "Anna" now starts at the pseudonym's first character
    memo_coding = project.coding(coded["one.txt"][-1][0])
    assert one[memo_coding.start :].startswith("[Manager A3]")
    assert memo_coding.memo == "[Manager A3] says this"
    assert project.case("R1").label == "[Manager A3]"
    memos = " ".join(project.memos_frame()["text"])
    assert "Anna" not in memos and "Lind" not in memos
    audit = project.audit_frame()
    # the phone number as written, not "070" alone: ids and timestamps may hold those digits
    logged = audit.to_string()
    assert "Anna" not in logged and "070-123" not in logged and "123 45 67" not in logged
    frame = project.documents_frame()
    assert frame["pseudonymised"].all()
    # the key learnt every pseudonym and can re-identify
    reopened = KeyFile.open(key.path, PASS)
    assert [a.value for a in reopened.book.reidentify("Manager A3")] == ["Anna Berg"]
    assert reopened.book.lookup("Lind", "person") is not None


def test_apply_refuses_bad_lists_and_changes_nothing(project, key, tmp_path):
    _register(project, key)
    _docs(project, tmp_path)
    before = project.document("one.txt")
    items = project.privacy_scan(key, ["one.txt"], fields=False)
    private = tmp_path / "private"

    # a stale list: the text at the offsets is not what the list says
    shifted = [
        type(i)(i.document, _shift(i.detection, 1), i.accept, i.pseudonym) for i in items[:1]
    ]
    with pytest.raises(Conflict, match="scan the document again"):
        project.apply_privacy_review(key, shifted)

    # overlapping accepted rows (two proposals for the same name)
    first = items[0]
    part = _shift(first.detection, 0, -1)
    piece = before.text[part.start : part.end]
    part = type(part)(**{**part.__dict__, "text": piece, "value": piece, "category": "person"})
    overlap = [first, type(first)("one.txt", part, True, "[Person 9]")]
    with pytest.raises(Conflict, match="overlap"):
        project.apply_privacy_review(key, overlap)

    # a malformed line names file:line
    path = private / "bad.csv"
    write_review(path, items)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = "maybe," + lines[2].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.csv:3.*accept must be yes or no"):
        project.apply_privacy_review(key, path)

    # a row for a document that is not in the project
    ghost = [type(first)("ghost.txt", first.detection, True, first.pseudonym)]
    with pytest.raises(NotFound, match="ghost.txt"):
        project.apply_privacy_review(key, ghost)

    after = project.document("one.txt")
    assert after.text == before.text and not after.pseudonymised
    assert len(KeyFile.open(key.path, PASS).book) == len(key.book) == 3  # registry only


def _shift(d, by: int, shorten: int = 0):
    import dataclasses

    return dataclasses.replace(d, start=d.start + by, end=d.end + by + shorten)


def test_rejected_rows_stay_and_edited_pseudonyms_are_used(project, key, tmp_path):
    _register(project, key)
    _docs(project, tmp_path)
    items = project.privacy_scan(key, fields=False)  # "Dr Lind" is cued in one.txt only
    review = tmp_path / "private" / "review.csv"
    write_review(review, items)
    rows = list(csv.DictReader(review.open(encoding="utf-8")))
    for row in rows:
        if row["category"] == "email":
            row["accept"] = "no"
        if row["text"] == "Lind":
            row["pseudonym"] = "[Chef 1]"
    with review.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    project.apply_privacy_review(key, review)
    text = project.document("two.txt").text
    assert "bo@example.se" in text and "[Chef 1]" in text and "Lind" not in text


def test_example_study_codings_follow_the_text(example_copy, key, tmp_path):
    """The reference study: hide frequent words inside coded quotes; every coding, turn and
    unit still covers exactly the pseudonymised version of its old text."""
    project = example_copy
    for word, cat in (
        ("NSPH", "organisation"),
        ("peer support", "organisation"),
        ("PSW", "site"),
        ("staff", "organisation"),
        ("service", "site"),
        ("users", "place"),
        ("the", "place"),  # not a name: a stress test with replacements in most codings
    ):
        project.register_name(key, word, cat)
    codings = project.codings_frame(include_machine=True)
    docs = {d: project.document(d) for d in codings["document"].unique()}
    items = project.privacy_scan(key, sorted(docs), fields=False)
    assert len(items) > 60
    project.apply_privacy_review(key, items)
    after = project.codings_frame(include_machine=True).set_index("id")
    touched = 0
    for row in codings.itertuples():
        reps = [
            (i.detection.start, i.detection.end, i.pseudonym)
            for i in items
            if i.document == row.document
        ]
        expected = _expected(docs[row.document].text, row.start, row.end, reps)
        assert after.loc[row.id, "text"] == expected
        touched += expected != row.text
    assert touched > 10
    for name, doc in docs.items():
        new = project.document(name)
        reps = [
            (i.detection.start, i.detection.end, i.pseudonym) for i in items if i.document == name
        ]
        for t_old, t_new in zip(doc.turns, new.turns, strict=True):
            assert new.text[t_new.start : t_new.end] == _expected(
                doc.text, t_old.start, t_old.end, reps
            )


def test_names_from_cases_leave_the_store(project, key, tmp_path):
    project.add_case("S1", label="Service S1", kind="site", attributes={"real_name": "Solbacken"})
    project.add_case(
        "R1", label="R1", kind="respondent", parent="S1", attributes={"real_name": "Greta Ek"}
    )
    project.close()
    entries = project.names_from_cases(key, "real_name")
    assert {(e.value, e.category, e.pseudonym) for e in entries} == {
        ("Solbacken", "site", "Service S1"),
        ("Greta Ek", "respondent", "Respondent R1"),
    }
    assert "real_name" not in project.attribute_types()
    raw = _store_bytes(project.root)
    assert b"Solbacken" not in raw and b"Greta" not in raw
    reopened = KeyFile.open(key.path, PASS)
    assert reopened.book.lookup("Greta Ek", "respondent") == "[Respondent R1]"
    with pytest.raises(NotFound):
        project.names_from_cases(key, "no_such_attribute")


def _store_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.glob("project.sqlite*")))


def test_import_pseudonymised_never_stores_the_original(project, key, tmp_path):
    _register(project, key)
    src = tmp_path / "src"
    src.mkdir()
    (src / "intervju_Anna_Berg.txt").write_text(DOC_1, encoding="utf-8")
    (src / "Solgläntan-2.txt").write_text(DOC_2, encoding="utf-8")
    project.add_case("R1", kind="respondent")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,case\nintervju_Anna_Berg.txt,R1\n", encoding="utf-8")
    seen = []

    def refuse_second(name, items):
        seen.append((name, len(items)))
        return name.startswith("intervju")

    results = project.import_pseudonymised(
        [src / "intervju_Anna_Berg.txt", src / "Solgläntan-2.txt"],
        key,
        confirm=refuse_second,
        mapping=mapping,
    )
    assert results[0].ok and results[0].path == str(src / "intervju_Anna_Berg.txt")
    assert not results[1].ok and "refused" in results[1].error
    assert [n for n, _ in seen] == ["intervju_Anna_Berg.txt", "Solgläntan-2.txt"]
    doc = project.document(results[0].document)
    assert doc.name == "intervju_[Manager A3].txt"
    assert doc.case_keys == ("R1",) and doc.pseudonymised
    assert "Anna" not in doc.text and "[Person 1]" in doc.text
    assert {t.speaker for t in doc.turns} == {"Interviewer", "[Manager A3]"}
    with project.store.read() as conn:
        from sqlalchemy import text

        assert conn.execute(text("select source_path from documents")).scalar() is None
    project.close()
    raw = _store_bytes(project.root)
    for original in (b"Anna", b"Lind", b"Solgl", b"123 45 67", b"bo@example"):
        assert original not in raw
    # the second run (accept all) reuses the book: "Lind" keeps its number
    project2 = type(project).open(project.root)
    results = project2.import_pseudonymised([src / "Solgläntan-2.txt"], key)
    doc2 = project2.document(results[0].document)
    assert doc2.name == "[Service 1]-2.txt"
    assert "[Person 1]" in doc2.text and "[Email]" in doc2.text
    project2.close()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # about the SQLite file itself
def test_vacuum_removes_old_text_from_the_sqlite_file(project, key, tmp_path):
    _register(project, key)
    _docs(project, tmp_path)
    project.close()
    assert b"Solgl" in _store_bytes(project.root)
    project.apply_privacy_review(key, project.privacy_scan(key))
    project.close()
    raw = _store_bytes(project.root)
    assert b"Solgl" not in raw and b"Anna" not in raw and b"Karlstad" not in raw
    assert sqlite3.connect(project.root / "project.sqlite").execute(
        "pragma integrity_check"
    ).fetchone() == ("ok",)
