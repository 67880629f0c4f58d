"""The review list: written by scan, edited by the team, read back by apply."""

from __future__ import annotations

import stat

import pytest

from caseframe.errors import Conflict, InvalidInput
from caseframe.privacy.apply import pseudonymise
from caseframe.privacy.detect import scan
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.registry import Registry
from caseframe.privacy.review import (
    COLUMNS,
    accepted_by_document,
    propose,
    read_review,
    write_review,
)

TEXT = "Anna, ring 070-123 45 67. Annas kontor i Karlstad, ring Anna på 070-123 45 67."


@pytest.fixture
def registry() -> Registry:
    r = Registry()
    r.add("Anna Berg", "respondent", "Manager A3", ["Anna"])
    r.add("Karlstad", "place")
    return r


def test_round_trip_with_edits(tmp_path, registry):
    book = PseudonymBook()
    items = propose({"interview-a3.txt": scan(TEXT, registry)}, book)
    assert len(book) == 0  # proposing learns nothing
    assert [(i.detection.text, i.pseudonym) for i in items] == [
        ("Anna", "[Manager A3]"),
        ("070-123 45 67", "[Phone]"),
        ("Anna", "[Manager A3]"),
        ("Karlstad", "[Town 1]"),
        ("Anna", "[Manager A3]"),
        ("070-123 45 67", "[Phone]"),
    ]
    path = tmp_path / "review.csv"
    write_review(path, items)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    # The team rejects the town and renames nothing else.
    lines[4] = lines[4].replace("yes,", "no,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    back = read_review(path)
    assert [i.accept for i in back] == [True, True, True, False, True, True]
    accepted = accepted_by_document(back)["interview-a3.txt"]
    new_text, _, _ = pseudonymise(TEXT, accepted, book)
    assert new_text == (
        "[Manager A3], ring [Phone]. [Manager A3]s kontor i Karlstad, ring [Manager A3] på [Phone]."
    )


def test_edited_pseudonym_is_used(tmp_path, registry):
    text = "Hon bor i Karlstad."
    path = tmp_path / "review.csv"
    write_review(path, propose({"d": scan(text, registry)}, PseudonymBook()))
    path.write_text(
        path.read_text(encoding="utf-8").replace("[Town 1]", "Town K"), encoding="utf-8"
    )
    book = PseudonymBook()
    new_text, _, _ = pseudonymise(text, accepted_by_document(read_review(path))["d"], book)
    assert new_text == "Hon bor i [Town K]."
    assert book.lookup("karlstad", "place") == "[Town K]"


def test_documents_proposed_together_never_share_a_number():
    registry = Registry()
    registry.add("Arvika", "place")
    registry.add("Umeå", "place")
    texts = {"a": "Bor i Arvika.", "b": "Bor i Umeå."}
    scans = {doc: scan(text, registry) for doc, text in texts.items()}
    items = propose(scans, PseudonymBook())
    assert [(i.document, i.pseudonym) for i in items] == [("a", "[Town 1]"), ("b", "[Town 2]")]
    book = PseudonymBook()
    for doc, accepted in accepted_by_document(items).items():
        pseudonymise(texts[doc], accepted, book)
    assert book.lookup("Arvika", "place") == "[Town 1]"
    assert book.lookup("Umeå", "place") == "[Town 2]"


def _review_file(tmp_path, rows: list[str]):
    path = tmp_path / "review.csv"
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


GOOD = "yes,d,10,18,place,registry,Karlstad,Karlstad,[Town 1],ctx"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("yes,d,10,18,place,registry,Karlstad", "expected 10 fields, found 7"),
        ("maybe,d,10,18,place,registry,Karlstad,Karlstad,[Town 1],ctx", "accept must be yes"),
        ("yes,d,ten,18,place,registry,Karlstad,Karlstad,[Town 1],ctx", "whole numbers"),
        ("yes,d,18,10,place,registry,Karlstad,Karlstad,[Town 1],ctx", "not a non-empty range"),
        ("yes,d,10,19,place,registry,Karlstad,Karlstad,[Town 1],ctx", "does not fit"),
        ("yes,d,10,18,town,registry,Karlstad,Karlstad,[Town 1],ctx", "unknown category"),
        ("yes,d,10,18,place,registry,Karlstad,Karlstad,,ctx", "needs a pseudonym"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad, message):
    path = _review_file(tmp_path, [GOOD, 'no,d,1,2,place,r,x,x,[T],"multi\nline"', bad])
    with pytest.raises(InvalidInput, match=message) as err:
        read_review(path)
    assert err.value.where == f"{path}:5"  # the quoted field above spans lines 3-4


def test_wrong_header_and_missing_file(tmp_path):
    path = tmp_path / "review.csv"
    path.write_text("start,end\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not the review list header") as err:
        read_review(path)
    assert err.value.where == f"{path}:1"
    with pytest.raises(InvalidInput, match="does not exist"):
        read_review(tmp_path / "none.csv")


def test_overlapping_accepted_rows_are_refused(tmp_path):
    text = "Anna Berg i Karlstad"
    path = _review_file(
        tmp_path,
        [
            "yes,d,0,9,respondent,registry,Anna Berg,Anna Berg,[Manager A3],c",
            "yes,d,5,9,place,registry,Berg,Berg,[Town 1],c",
        ],
    )
    book = PseudonymBook()
    with pytest.raises(Conflict, match="overlap"):
        pseudonymise(text, accepted_by_document(read_review(path))["d"], book)
    assert len(book) == 0
