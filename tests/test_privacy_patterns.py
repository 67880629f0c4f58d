"""Pattern detectors: each with valid and invalid examples, check digits against references."""

from __future__ import annotations

import random

import pytest

from caseframe.errors import InvalidInput
from caseframe.privacy.patterns import (
    find_patterns,
    luhn_valid,
    nhs_number_valid,
    personnummer_kind,
    phone_valid,
)


def found(text: str, category: str) -> list[str]:
    return [text[h.start : h.end] for h in find_patterns(text) if h.category == category]


# -- reference check-digit computations, written independently of the module ---------------


def luhn_check_digit(nine: str) -> int:
    """Luhn as usually described: from the right, double every second digit of the payload."""
    total = 0
    for i, ch in enumerate(reversed(nine)):
        n = int(ch) * 2 if i % 2 == 0 else int(ch)
        total += sum(int(c) for c in str(n))
    return (10 - total % 10) % 10


def nhs_check_digit(nine: str) -> int | None:
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


# -- personnummer / samordningsnummer -------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "121212-1212",  # Skatteverket's well-known test person "Tolvan Tolvansson"
        "19121212-1212",
        "191212121212",
        "1212121212",
        "121212+1212",  # "+": a person aged 100 or more
        "811218-9876",
    ],
)
def test_valid_personnummer(number):
    assert personnummer_kind(number) == "personnummer"
    assert found(f"Pnr: {number}.", "personnummer") == [number]


@pytest.mark.parametrize(
    "number",
    [
        "121212-1213",  # Luhn fails
        "811218-9875",  # Luhn fails
        "811318-9876",  # month 13
        "810230-1234",  # 30 February
        "121212-12",  # too short
    ],
)
def test_invalid_personnummer(number):
    assert personnummer_kind(number) is None
    assert found(f"Nummer {number} här", "personnummer") == []


def test_samordningsnummer_adds_sixty_to_the_day():
    body = "811278987"  # 18 December 1981 as a coordination number (day 18 + 60)
    number = f"{body[:6]}-{body[6:]}{luhn_check_digit(body)}"
    assert personnummer_kind(number) == "samordningsnummer"
    hits = find_patterns(f"Samordningsnummer {number}")
    assert [(h.category, h.source) for h in hits] == [("personnummer", "pattern:samordningsnummer")]
    assert personnummer_kind("811292-0000") is None  # day 32 after removing 60


def test_luhn_matches_reference_on_random_numbers():
    rng = random.Random(7)
    for _ in range(500):
        nine = "".join(rng.choice("0123456789") for _ in range(9))
        right = luhn_check_digit(nine)
        assert luhn_valid(nine + str(right))
        assert not luhn_valid(nine + str((right + rng.randint(1, 9)) % 10))


# -- NHS numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["943 476 5919", "9434765919", "943-476-5919"])
def test_valid_nhs_number(number):
    # 943 476 5919 is the example the NHS Data Dictionary uses.
    assert nhs_number_valid(number)
    assert found(f"NHS no {number}", "nhs_number") == [number]


@pytest.mark.parametrize("number", ["943 476 5918", "943 476 591", "943 4765 919", "943 476-5919"])
def test_invalid_nhs_number(number):
    assert found(f"number {number} here", "nhs_number") == []


def test_nhs_mod11_matches_reference_and_rejects_check_ten():
    rng = random.Random(11)
    seen_ten = 0
    for _ in range(500):
        nine = "".join(rng.choice("0123456789") for _ in range(9))
        check = nhs_check_digit(nine)
        valid = [d for d in range(10) if nhs_number_valid(nine + str(d))]
        assert valid == ([] if check is None else [check])
        seen_ten += check is None
    assert seen_ten > 0  # the remainder-1 case (check digit 10: never issued) was exercised


# -- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "070-123 45 67",
        "0701234567",
        "08-123 456 78",
        "+46 70 123 45 67",
        "+46 (0)70-123 45 67",
        "0046 70 123 45 67",
        "07700 900123",
        "+44 7700 900123",
        "020 7946 0958",
        "0191 498 0000",
        "+1 212 555 0123",
        "+33 1 23 45 67 89",
    ],
)
def test_phone_numbers_found(number):
    assert found(f"Ring {number} i morgon", "phone") == [number]


@pytest.mark.parametrize(
    "text",
    [
        "I called 999 and 111",
        "Incident no 25153582",
        "a score of 0 10 20 30 40",
        "on 21/09/2021 at 10am",
        "between 2019 and 2021",
        "+46 70 12",  # too short
        "070-123 45 67 89 12 34",  # too long
    ],
)
def test_not_phone_numbers(text):
    assert found(text, "phone") == []


def test_phone_validator_lengths():
    assert phone_valid("+44 20 7946 0958")
    assert not phone_valid("+44 20 7946 09581")
    assert not phone_valid("12345678")


# -- e-mail, URL ----------------------------------------------------------------------------


def test_email_and_url():
    text = (
        "Mejla anna.berg+x@region-varmland.se eller se https://example.org/a?b=1, www.karlstad.se."
    )
    assert found(text, "email") == ["anna.berg+x@region-varmland.se"]
    assert found(text, "url") == ["https://example.org/a?b=1", "www.karlstad.se"]
    assert found("not an address: anna@ or @home or a@b", "email") == []


# -- postcodes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SE-652 25 Karlstad", ["SE-652 25"]),
        ("S-65225", ["S-65225"]),
        ("Box 123, 652 25 Karlstad", ["652 25"]),
        ("They live at NE1 4LP now", ["NE1 4LP"]),
        ("post code sw1a 1aa", ["sw1a 1aa"]),
        ("EC1A 1BB and W1A 0AX", ["EC1A 1BB", "W1A 0AX"]),
        ("det kostade 652 25 kronor", []),  # bare number: no prefix, no town
        ("Room Q1 1AA", []),  # Q cannot start a UK postcode
        ("Ne1 4lp", []),  # mixed case
        ("NE1 4CP", []),  # C never appears in the inward code
    ],
)
def test_postcodes(text, expected):
    assert found(text, "postcode") == expected


# -- dates of birth, references, titled names ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient born 12/03/1980, seen today", ["12/03/1980"]),
        ("DOB: 1980-03-12", ["1980-03-12"]),
        ("date of birth 12 March 1980", ["12 March 1980"]),
        ("born on March 12, 1980", ["March 12, 1980"]),
        ("Hon är född 12 mars 1980 i Karlstad", ["12 mars 1980"]),
        ("född 1975", ["1975"]),
        ("my husband died on 1-1-2022", []),  # a plain date identifies no one by itself
        ("seen on 12/03/2021", []),
    ],
)
def test_date_of_birth(text, expected):
    assert found(text, "date_of_birth") == expected


def test_reference_numbers_and_titled_names():
    text = "Crew no2570 . Incident no 25153582, ref: AB12345. Dr Patel and Mrs Jane Smith-Jones."
    assert found(text, "reference_number") == ["2570", "25153582", "AB12345"]
    assert found(text, "person") == ["Patel", "Jane Smith-Jones"]
    assert found("question no 6 and case no 12", "reference_number") == []


def test_unknown_pattern_name_is_refused():
    with pytest.raises(InvalidInput, match="unknown pattern"):
        find_patterns("x", ["phone", "fax"])
    assert find_patterns("Ring 070-123 45 67, a@b.se", ["email"])[0].category == "email"
