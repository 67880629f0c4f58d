"""The raw result every detector returns, and the category vocabulary they share."""

from __future__ import annotations

from typing import NamedTuple

# Name-like categories: pseudonyms are numbered per category ("[Town 2]").
NAME_CATEGORIES = ("person", "respondent", "site", "place", "organisation")
# Pattern categories: one fixed label each ("[Phone]"); a number would add nothing analytic.
PATTERN_CATEGORIES = (
    "email",
    "phone",
    "personnummer",
    "nhs_number",
    "postcode",
    "date_of_birth",
    "url",
    "reference_number",
)
CATEGORIES = NAME_CATEGORIES + PATTERN_CATEGORIES


class Hit(NamedTuple):
    """A span one detector proposes to replace.

    `value` is what the pseudonym book keys on: the registry entry's canonical value for a
    registry hit (so "Annas" and "Anna" share a pseudonym), else the matched text.
    """

    start: int
    end: int
    category: str
    source: str  # "registry", "pattern:<name>", "ner:<label>"
    pseudonym_hint: str | None
    value: str
