"""The project's own name list: CSV loading, inflection, case, whole words, longest match."""

from __future__ import annotations

import pytest

from caseframe.errors import InvalidInput
from caseframe.privacy.apply import pseudonymise
from caseframe.privacy.detect import scan
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.registry import Registry


def matched(registry: Registry, text: str) -> list[tuple[str, str]]:
    return [(d.text, d.value) for d in scan(text, registry, patterns=False)]


@pytest.fixture
def registry() -> Registry:
    r = Registry()
    r.add("Anna", "person")
    r.add("Karlstad", "place")
    r.add("James", "person")
    r.add("Psykiatriska mottagningen", "site", "Service 4")
    r.add("Öppenvårdsmottagning", "site")
    r.add("Boende", "site")
    r.add("NSPH", "organisation")
    return r


@pytest.mark.parametrize(
    ("text", "replaced"),
    [
        # A genitive ending is matched but left in the text; a definite ending is replaced.
        ("Annas chef", "Anna"),
        ("ANNA sa", "ANNA"),
        ("anna's friend", "anna"),
        ("Anna\u2019s friend", "Anna"),
        ("Karlstads kommun", "Karlstad"),
        ("Karlstad's hospital", "Karlstad"),
        ("James' car", "James"),
        ("NSPH:s utbildning", "NSPH"),
        ("öppenvårdsmottagningen", "öppenvårdsmottagningen"),
        ("Öppenvårdsmottagningens personal", "Öppenvårdsmottagningen"),
        ("på boendet", "boendet"),
        ("Psykiatriska\nmottagningen", "Psykiatriska\nmottagningen"),
    ],
)
def test_inflected_forms_match(registry, text, replaced):
    assert [s for s, _ in matched(registry, text)] == [replaced]


def test_genitive_stays_after_the_pseudonym(registry):
    text = "Annas chef, anna's friend, Karlstads kommun, NSPH:s kurs, Öppenvårdsmottagningens rum"
    new_text, _, _ = pseudonymise(text, scan(text, registry, patterns=False), PseudonymBook())
    assert new_text == (
        "[Person 1]s chef, [Person 1]'s friend, [Town 1]s kommun, [Organisation 1]:s kurs, "
        "[Service 1]s rum"
    )


@pytest.mark.parametrize(
    "text",
    [
        "en annan person",  # "annan" is not a form of the name Anna
        "Annabelle kom",
        "Hanna kom",
        "Karlstadbor",
        "Jamesons",
    ],
)
def test_other_words_do_not_match(registry, text):
    assert matched(registry, text) == []


def test_match_carries_the_canonical_value_and_label(registry):
    hits = scan("Psykiatriska mottagningens chef", registry, patterns=False)
    assert [(h.value, h.category, h.pseudonym_hint, h.source) for h in hits] == [
        ("Psykiatriska mottagningen", "site", "Service 4", "registry")
    ]


def test_longest_match_wins():
    r = Registry()
    r.add("Anna", "person")
    r.add("Anna Berg", "respondent", "Manager A3")
    r.add("Berg", "place")
    hits = scan("Jag och Anna Bergs kollega, sen Berg.", r, patterns=False)
    assert [(h.text, h.category) for h in hits] == [("Anna Berg", "respondent"), ("Berg", "place")]


def test_variants_share_the_entry(registry):
    r = Registry()
    r.add("Anna Berg", "respondent", "Manager A3", ["Anna", "A. Berg"])
    hits = scan("Anna, A. Berg och Anna Berg", r, patterns=False)
    assert {h.value for h in hits} == {"Anna Berg"} and len(hits) == 3


def test_load_csv(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        "value,category,pseudonym,variants\n"
        "# staff\n"
        "Anna Berg,respondent,Manager A3,Anna|A. Berg\n"
        "\n"
        '"Karlstad",place\n'
        "Region Värmland,organisation,\n",
        encoding="utf-8",
    )
    r = Registry.from_csv(path)
    assert [(e.value, e.category, e.pseudonym, e.variants) for e in r] == [
        ("Anna Berg", "respondent", "Manager A3", ("Anna", "A. Berg")),
        ("Karlstad", "place", None, ()),
        ("Region Värmland", "organisation", None, ()),
    ]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("Anna,person\nKarlstad\n", 2, "expected 2 to 4"),
        ("Anna,person\n\nBo,person,B,x,extra\n", 3, "found 5"),
        ("Anna,persn\n", 1, "unknown category 'persn'"),
        ("Anna,person\n,place\n", 2, "empty value"),
    ],
)
def test_malformed_csv_line_names_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "names.csv"
    path.write_text(content, encoding="utf-8")
    r = Registry()
    r.add("Existing", "person")
    with pytest.raises(InvalidInput, match=message) as err:
        r.load_csv(path)
    assert err.value.where == f"{path}:{line}"
    assert [e.value for e in r] == ["Existing"]  # nothing half-loaded


def test_missing_csv(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        Registry.from_csv(tmp_path / "nope.csv")


def test_records_round_trip(registry):
    again = Registry.from_records(registry.to_records())
    assert again.entries == registry.entries
