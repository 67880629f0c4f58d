"""Pseudonym book: the same real value always gets the same label, across documents and sessions."""

from __future__ import annotations

import pytest

from caseframe.errors import Conflict
from caseframe.privacy.apply import pseudonymise
from caseframe.privacy.detect import scan
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.registry import Registry


def test_numbered_per_category_and_stable():
    book = PseudonymBook()
    assert book.assign("Karlstad", "place") == "[Town 1]"
    assert book.assign("Arvika", "place") == "[Town 2]"
    assert book.assign("Solgården", "site") == "[Service 1]"
    assert book.assign("KARLSTAD", "place") == "[Town 1]"
    assert book.assign("Karlstad's", "place") == "[Town 1]"
    assert book.assign("Maria", "person") == "[Person 1]"
    assert book.assign("Region Värmland", "organisation") == "[Organisation 1]"


def test_pattern_categories_get_fixed_labels():
    book = PseudonymBook()
    assert book.assign("070-123 45 67", "phone") == "[Phone]"
    assert book.assign("0701234567", "phone") == "[Phone]"
    assert book.assign("a@b.se", "email") == "[Email]"
    assert book.assign("943 476 5919", "nhs_number") == "[NHS number]"
    assert book.assign("121212-1212", "personnummer") == "[Personnummer]"
    assert len(book) == 4  # the two spellings of one phone number are one value
    assert [a.value for a in book.reidentify("Phone")] == ["070-123 45 67"]


def test_a_pattern_value_may_get_an_edited_label_once():
    book = PseudonymBook()
    assert book.assign("a@b.se", "email", "Contact") == "[Contact]"
    assert book.assign("A@B.se", "email") == "[Contact]"
    assert book.assign("c@d.se", "email", "[Contact]") == "[Contact]"  # shared labels are fine
    with pytest.raises(Conflict, match="already has the pseudonym"):
        book.assign("a@b.se", "email", "[Email]")


def test_explicit_labels_are_kept_and_never_reused():
    registry = Registry()
    registry.add("Sjukhuset i Arvika", "site")
    registry.add("Solgården", "site", "Service 1")
    registry.add("Anna Berg", "respondent", "Manager A3")
    book = PseudonymBook()
    book.register(registry)
    assert book.lookup("Solgården", "site") == "[Service 1]"
    assert book.lookup("Sjukhuset i Arvika", "site") == "[Service 2]"  # 1 was taken
    assert book.lookup("anna berg", "respondent") == "[Manager A3]"
    with pytest.raises(Conflict, match="already has the pseudonym"):
        book.assign("Anna Berg", "respondent", "Manager B1")
    with pytest.raises(Conflict, match="already used for another value"):
        book.assign("Bo Ek", "respondent", "Manager A3")


def test_same_pseudonym_across_documents_and_sessions():
    registry = Registry()
    registry.add("Anna Berg", "respondent", "Manager A3", ["Anna"])
    book = PseudonymBook()
    docs = [
        "Anna Berg leder Solgården i Karlstad.",
        "Annas team i Arvika; Solgårdens chef är ANNA.",
    ]
    for_persons = {"Solgården": "site", "Karlstad": "place", "Arvika": "place"}
    for value, category in for_persons.items():
        registry.add(value, category)
    out = []
    for text in docs:
        new_text, _, _ = pseudonymise(text, scan(text, registry), book)
        out.append(new_text)
    assert out == [
        "[Manager A3] leder [Service 1] i [Town 1].",
        "[Manager A3]s team i [Town 2]; [Service 1]s chef är [Manager A3].",
    ]
    # A later session starts from the saved book and keeps every label.
    later = PseudonymBook.from_records(book.to_records())
    text = "Arvika, Karlstad, Solgården, Anna, Umeå"
    registry.add("Umeå", "place")
    new_text, _, _ = pseudonymise(text, scan(text, registry), later)
    assert new_text == "[Town 2], [Town 1], [Service 1], [Manager A3], [Town 3]"


def test_copy_is_independent():
    book = PseudonymBook()
    book.assign("Karlstad", "place")
    trial = book.copy()
    trial.assign("Arvika", "place")
    assert book.lookup("Arvika", "place") is None and len(book) == 1
