"""The project's own list of names to hide, and matching it in text.

Entries come from the key file (respondents' and sites' real names) or from CSV lists the team
keeps (staff, places, organisations). Matching is whole-word and case-insensitive and accepts
the inflected forms a Swedish or English transcript uses: genitive endings, and the Swedish
definite form of sites and organisations.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from caseframe.errors import InvalidInput
from caseframe.privacy.hit import NAME_CATEGORIES, Hit

_APOSTROPHES = "'\u2019"
# Genitive endings accepted after any entry: Swedish "Annas", English "Anna's"/"James'",
# Swedish colon genitive after abbreviations ("NSPH:s"). The ending stays in the text after
# the pseudonym ("[Manager A3]s chef"), so the sentence still reads as a possessive.
_GENITIVE = r"(?P<genitive>s|[':\u2019]s|['\u2019])?"
_WORD_SEP = r"[\s\u00a0]+"


def normalise_value(value: str) -> str:
    """Canonical form for comparing names: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def _definite_ending(category: str, last_word: str) -> str:
    """The Swedish definite ending accepted after a site or organisation.

    Those are often common nouns that Swedish also uses in the definite form ("mottagning"
    -> "mottagningen", "boende" -> "boendet"); the ending is replaced with the name. Persons
    and places are proper nouns and do not take it -- adding -n to "Anna" would match the
    ordinary word "annan".
    """
    if category not in ("site", "organisation"):
        return ""
    return "(?:n|t)?" if last_word[-1:].casefold() in "aeiouyåäö" else "(?:en|et)?"


@dataclass(frozen=True)
class RegistryEntry:
    value: str
    category: str
    pseudonym: str | None = None  # e.g. "Manager A3"; None: the book numbers it
    variants: tuple[str, ...] = ()  # other spellings or short forms ("Anna" for "Anna Berg")

    def forms(self) -> tuple[str, ...]:
        return (self.value, *self.variants)


@dataclass
class Registry:
    entries: list[RegistryEntry] = field(default_factory=list)
    _compiled: list[tuple[RegistryEntry, re.Pattern[str], tuple[str, ...]]] | None = None

    def add(
        self,
        value: str,
        category: str,
        pseudonym: str | None = None,
        variants: Iterable[str] = (),
        *,
        where: str | None = None,
    ) -> RegistryEntry:
        value = " ".join(unicodedata.normalize("NFC", value).split())
        variants = tuple(v for v in (" ".join(x.split()) for x in variants) if v)
        category = category.strip().casefold()
        if not value:
            raise InvalidInput("empty value in the name list", where=where)
        if category not in NAME_CATEGORIES:
            raise InvalidInput(
                f"unknown category {category!r} for {value!r}",
                where=where,
                hint=f"use one of {', '.join(NAME_CATEGORIES)}",
            )
        entry = RegistryEntry(value, category, (pseudonym or "").strip() or None, variants)
        self.entries.append(entry)
        self._compiled = None
        return entry

    def extend(self, entries: Iterable[RegistryEntry]) -> None:
        self.entries.extend(entries)
        self._compiled = None

    # -- CSV lists --------------------------------------------------------------------------

    def load_csv(self, path: str | Path) -> int:
        """Add the rows of a `value,category[,pseudonym[,variants]]` file; return how many.

        Variants are separated by "|". A header row, blank lines and lines starting with "#"
        are skipped. The whole file is checked before anything is added.
        """
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InvalidInput(f"name list {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read name list {path}: {exc}") from None
        staged = Registry()
        for lineno, row in _csv_rows(raw):
            where = f"{path}:{lineno}"
            if lineno == 1 and row and row[0].strip().casefold() == "value":
                continue
            if not 2 <= len(row) <= 4:
                raise InvalidInput(
                    f"expected 2 to 4 comma-separated fields, found {len(row)}",
                    where=where,
                    hint="write value,category[,pseudonym[,variant|variant]]",
                )
            variants = row[3].split("|") if len(row) == 4 else ()
            staged.add(row[0], row[1], row[2] if len(row) >= 3 else None, variants, where=where)
        self.entries.extend(staged.entries)
        self._compiled = None
        return len(staged.entries)

    @classmethod
    def from_csv(cls, path: str | Path) -> Registry:
        registry = cls()
        registry.load_csv(path)
        return registry

    # -- persistence in the key file -------------------------------------------------------

    def to_records(self) -> list[dict]:
        return [
            {
                "value": e.value,
                "category": e.category,
                "pseudonym": e.pseudonym,
                "variants": list(e.variants),
            }
            for e in self.entries
        ]

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> Registry:
        registry = cls()
        for r in records:
            registry.add(r["value"], r["category"], r.get("pseudonym"), r.get("variants", ()))
        return registry

    # -- matching ---------------------------------------------------------------------------

    def _patterns(self) -> list[tuple[RegistryEntry, re.Pattern[str], tuple[str, ...]]]:
        if self._compiled is None:
            compiled = []
            for entry in self.entries:
                alternatives = []
                for form in sorted(set(entry.forms()), key=len, reverse=True):
                    words = form.split()
                    body = _WORD_SEP.join(re.escape(w) for w in words)
                    alternatives.append(body + _definite_ending(entry.category, words[-1]))
                pattern = re.compile(
                    r"(?<!\w)(?:" + "|".join(alternatives) + ")" + _GENITIVE + r"(?!\w)",
                    re.IGNORECASE,
                )
                # A cheap substring test on each form's first word skips most entries.
                firsts = tuple({f.split()[0].casefold() for f in entry.forms()})
                compiled.append((entry, pattern, firsts))
            self._compiled = compiled
        return self._compiled

    def find(self, text: str) -> list[Hit]:
        """Every match of every entry; overlaps are left for the caller to resolve."""
        folded = text.casefold()
        # casefold() can change lengths (e.g. "ß" -> "ss"); then the prefilter is unsafe.
        prefilter = len(folded) == len(text)
        hits = []
        for entry, pattern, firsts in self._patterns():
            if prefilter and not any(f in folded for f in firsts):
                continue
            for m in pattern.finditer(text):
                end = m.start("genitive") if m.group("genitive") else m.end()
                hits.append(
                    Hit(m.start(), end, entry.category, "registry", entry.pseudonym, entry.value)
                )
        return hits

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[RegistryEntry]:
        return iter(self.entries)


def _csv_rows(raw: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for the CSV rows that carry data."""
    reader = csv.reader(raw.splitlines())
    for row in reader:
        lineno = reader.line_num
        if not row or not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        yield lineno, [c.strip() for c in row]
