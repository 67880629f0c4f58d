"""Consistent pseudonyms: the same real value always gets the same label.

The book lives in the key file, so consistency holds across documents and sessions. Names are
numbered per category ("[Service 4]", "[Town 2]"); a registry entry may fix its own label
("[Manager A3]"); identifiers with a shape get one fixed label each ("[Phone]").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from caseframe.errors import Conflict, InvalidInput
from caseframe.privacy.hit import CATEGORIES, PATTERN_CATEGORIES
from caseframe.privacy.registry import Registry, normalise_value

NUMBERED_PREFIX = {
    "person": "Person",
    "respondent": "Respondent",
    "site": "Service",
    "place": "Town",
    "organisation": "Organisation",
}
FIXED_LABEL = {
    "email": "Email",
    "phone": "Phone",
    "personnummer": "Personnummer",
    "nhs_number": "NHS number",
    "postcode": "Postcode",
    "date_of_birth": "Date of birth",
    "url": "URL",
    "reference_number": "Reference number",
}
_POSSESSIVE = re.compile(r"(?:['\u2019:]s|['\u2019])$")


def value_key(value: str, category: str) -> str:
    """What two mentions must share to be the same real value.

    Names: case-folded, spacing and an apostrophe possessive removed ("Anna's" = "ANNA").
    A bare genitive -s is not removed here ("Lars" is a name); registry matches already
    carry the entry's own spelling. Numbers: their digits only ("070-123 45 67" =
    "0701234567").
    """
    if category in ("phone", "personnummer", "nhs_number"):
        return f"{category}:{re.sub(r'[^0-9]', '', value)}"
    if category in PATTERN_CATEGORIES:
        return f"{category}:{normalise_value(value).replace(' ', '')}"
    return _POSSESSIVE.sub("", normalise_value(value))


def bracket(label: str) -> str:
    label = unicodedata.normalize("NFC", label.strip())
    return label if label.startswith("[") and label.endswith("]") else f"[{label}]"


@dataclass(frozen=True)
class Assignment:
    value: str  # the real value as first seen (kept in the key file only)
    category: str
    pseudonym: str


class PseudonymBook:
    def __init__(self) -> None:
        self._by_key: dict[str, Assignment] = {}
        self._labels: dict[str, str] = {}  # pseudonym -> key, to keep labels unique

    def lookup(self, value: str, category: str) -> str | None:
        found = self._by_key.get(value_key(value, category))
        return found.pseudonym if found else None

    def assign(self, value: str, category: str, label: str | None = None) -> str:
        """The pseudonym of `value`, creating one the first time it is seen.

        An explicit `label` (from the registry or an edited review list) must agree with an
        earlier assignment; changing it afterwards would break documents already written.
        """
        if category not in CATEGORIES:
            raise InvalidInput(f"unknown category {category!r}")
        key = value_key(value, category)
        wanted = bracket(label) if label else None
        existing = self._by_key.get(key)
        if existing is not None:
            if wanted and wanted != existing.pseudonym:
                raise Conflict(
                    f"{value!r} already has the pseudonym {existing.pseudonym}, not {wanted}",
                    hint="keep the existing pseudonym so that all documents agree",
                )
            return existing.pseudonym
        if wanted:
            owner = self._labels.get(wanted)
            if category not in PATTERN_CATEGORIES and owner is not None and owner != key:
                raise Conflict(
                    f"the pseudonym {wanted} is already used for another value",
                    hint="give each real value its own pseudonym",
                )
            pseudonym = wanted
        elif category in PATTERN_CATEGORIES:
            pseudonym = bracket(FIXED_LABEL[category])
        else:
            pseudonym = self._next_numbered(NUMBERED_PREFIX[category])
        self._by_key[key] = Assignment(value, category, pseudonym)
        if category not in PATTERN_CATEGORIES:
            self._labels[pseudonym] = key
        return pseudonym

    def _next_numbered(self, prefix: str) -> str:
        n = 1
        while f"[{prefix} {n}]" in self._labels:
            n += 1
        return f"[{prefix} {n}]"

    def register(self, registry: Registry) -> None:
        """Assign the registry's entries first, so their fixed labels are never taken."""
        for entry in registry:
            if entry.pseudonym:
                self.assign(entry.value, entry.category, entry.pseudonym)
        for entry in registry:
            if not entry.pseudonym:
                self.assign(entry.value, entry.category)

    def reidentify(self, pseudonym: str) -> list[Assignment]:
        """The real values behind a pseudonym (several for a fixed label like "[Phone]")."""
        wanted = bracket(pseudonym)
        return [a for a in self._by_key.values() if a.pseudonym == wanted]

    def assignments(self) -> list[Assignment]:
        return list(self._by_key.values())

    def copy(self) -> PseudonymBook:
        other = PseudonymBook()
        other._by_key = dict(self._by_key)
        other._labels = dict(self._labels)
        return other

    def __len__(self) -> int:
        return len(self._by_key)

    # -- persistence in the key file -------------------------------------------------------

    def to_records(self) -> list[dict]:
        return [
            {"value": a.value, "category": a.category, "pseudonym": a.pseudonym}
            for a in self._by_key.values()
        ]

    @classmethod
    def from_records(cls, records: list[dict]) -> PseudonymBook:
        book = cls()
        for r in records:
            key = value_key(r["value"], r["category"])
            book._by_key[key] = Assignment(r["value"], r["category"], r["pseudonym"])
            if r["category"] not in PATTERN_CATEGORIES:
                book._labels[r["pseudonym"]] = key
        return book
