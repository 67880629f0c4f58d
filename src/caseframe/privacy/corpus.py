"""Scanning many texts at once: transcripts, free-text fields and identifiers, consistently.

A name cued once anywhere ("Dr Lind" in one interview) is looked for in every other text (the
bare "Lind" in another interview, a memo, a file name), under the rules of
`caseframe.privacy.propagate`; the key's registry is matched everywhere in any case; names the
key's book already holds (accepted in an earlier review) count as found names.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from caseframe.privacy.apply import pseudonymise
from caseframe.privacy.detect import Detection, detections, detector_hits, found_names
from caseframe.privacy.hit import NAME_CATEGORIES, Hit
from caseframe.privacy.propagate import FoundNames, Vocabulary, hits_in_identifier
from caseframe.privacy.registry import Registry, normalise_value
from caseframe.privacy.targets import AUTO_JSON, OPAQUE_SETTINGS

if TYPE_CHECKING:
    from caseframe.privacy.ner import NerFunction
    from caseframe.privacy.pseudonyms import PseudonymBook


def held_names(registry: Registry, book: PseudonymBook) -> list[tuple[str, str, str, None]]:
    """Names the book holds that the registry does not list, as found names."""
    listed = {(normalise_value(e.value), e.category) for e in registry}
    return [
        (a.value, a.category, "project", None)
        for a in book.assignments()
        if a.category in NAME_CATEGORIES and (normalise_value(a.value), a.category) not in listed
    ]


def scan_corpus(
    texts: Mapping[str, str],
    registry: Registry,
    book: PseudonymBook,
    *,
    identifiers: Collection[str] = (),
    patterns: bool | Iterable[str] = True,
    ner: NerFunction | None = None,
) -> dict[str, list[Detection]]:
    """Detections per text ({reference: text}); `identifiers` names the references that are
    names rather than prose (document, code, set, coder names, case ids): they are also
    matched on their spaced view ("Karin_Lindqvist.txt") and in any case.

    The vocabulary that decides what a dictionary word is comes from the prose texts only:
    an identifier writes names in lower case ("karin-lindqvist.docx").
    """
    vocabulary = Vocabulary(t for ref, t in texts.items() if ref not in identifiers)

    def find(text: str) -> list[Hit]:
        return detector_hits(text, registry, patterns, ner)

    first: dict[str, list[Hit]] = {}
    for ref, text in texts.items():
        first[ref] = hits_in_identifier(text, find) if ref in identifiers else find(text)
    cued = [n for ref, hits in first.items() for n in found_names(hits, ref)]
    found = FoundNames.build([*cued, *held_names(registry, book)], vocabulary)
    out: dict[str, list[Detection]] = {}
    for ref, text in texts.items():
        hits = first[ref]
        if found:
            if ref in identifiers:
                hits += hits_in_identifier(text, lambda s, r=ref: found.find(s, r, prose=False))
            else:
                hits += found.find(text, ref)
        if hits:
            out[ref] = detections(text, hits)
    return out


class Scrubber:
    """Replace every value the key knows (and every pattern identifier) in a short string.

    Used on what no one reviews line by line: speaker names, memo authors, the audit log,
    metadata. The registry is matched in any case; names the book holds follow the case rule
    of identifiers (a dictionary word only where capitalised), so the word "learning" in a
    log entry stays when "Learning" was once accepted as a name.
    """

    def __init__(self, registry: Registry, book: PseudonymBook, vocabulary: Vocabulary):
        self.registry = registry
        self.book = book
        self.found = FoundNames.build(held_names(registry, book), vocabulary)

    def _find(self, text: str) -> list[Hit]:
        return detector_hits(text, self.registry) + self.found.find(text, prose=False)

    def __call__(self, value: str, *, identifier: bool = False) -> str:
        hits = hits_in_identifier(value, self._find) if identifier else self._find(value)
        dets = detections(value, hits)
        return pseudonymise(value, dets, self.book)[0] if dets else value

    def json(self, value: object) -> object:
        if isinstance(value, str):
            # JSON values hold prose and file or case names alike ("KarinLindqvist.txt")
            return self(self(value), identifier=True)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self.json(v) for k, v in value.items()}
        return value

    def fields(
        self, columns: Iterable[Iterable[tuple[str, str, tuple, object]]]
    ) -> dict[tuple, object]:
        """{(table, column, pk as text): new value} for the (table, column, pk, value) rows
        that change; JSON columns are walked, opaque settings left alone."""
        out: dict[tuple, object] = {}
        for rows in columns:
            for table, column, pk, value in rows:
                if table == "settings" and pk[0] in OPAQUE_SETTINGS:
                    continue
                if (table, column) in AUTO_JSON:
                    new = self.json(value)
                else:
                    new = self(value, identifier=True) if isinstance(value, str) else value
                if new != value:
                    out[(table, column, tuple(str(v) for v in pk))] = new
        return out

    def file_name(self, name: str) -> str:
        """A file name with known names replaced and no path separator left in it."""
        return self(name, identifier=True).replace("/", "-").replace("\\", "-")
