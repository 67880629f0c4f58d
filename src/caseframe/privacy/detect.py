"""Run the detectors over a text and keep one proposal per stretch of text."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from caseframe.privacy.hit import NAME_CATEGORIES, Hit
from caseframe.privacy.ner import NerFunction
from caseframe.privacy.patterns import PATTERN_PRIORITY, find_patterns
from caseframe.privacy.propagate import FoundNames, Vocabulary
from caseframe.privacy.registry import Registry

CONTEXT_CHARS = 40
_SOURCE_RANK = {"registry": 0, "pattern": 1, "ner": 2, "propagated": 3}


@dataclass(frozen=True)
class Detection:
    start: int
    end: int
    text: str
    category: str
    source: str  # "registry", "pattern:<name>", "ner:<label>"
    pseudonym_hint: str | None
    context: str  # the surrounding text with the detection marked <<like this>>
    value: str = ""  # what the pseudonym is keyed on (the registry's spelling for a registry hit)


def scan(
    text: str,
    registry: Registry | None = None,
    patterns: bool | Iterable[str] = True,
    ner: NerFunction | None = None,
    *,
    propagate: bool = True,
    context_chars: int = CONTEXT_CHARS,
) -> list[Detection]:
    """Proposed replacements in `text`, in text order, none overlapping.

    `patterns` is True (all), False (none) or the names of the patterns to run. Where
    proposals overlap the longest wins, since it hides the most (a URL that contains a
    registered name, "Anna Berg" found by NER over a registry entry "Anna"); on equal length
    the registry wins over patterns and patterns over NER, because the registry is what the
    team said.

    With `propagate`, a name that a pattern or NER found once ("Hi, Donna") is also looked for
    everywhere else in the text, like a registry entry, but only where it is capitalised
    ("Donna's", not the word "mark" after "Hi, Mark"), and a name the text also writes as a
    lower-case word only mid-sentence (`caseframe.privacy.propagate`).
    """
    hits = detector_hits(text, registry, patterns, ner)
    if propagate:
        hits += _propagate(text, hits)
    return detections(text, hits, context_chars)


def detector_hits(
    text: str,
    registry: Registry | None = None,
    patterns: bool | Iterable[str] = True,
    ner: NerFunction | None = None,
) -> list[Hit]:
    """Every hit of the registry, the patterns and NER; overlaps not yet resolved."""
    hits: list[Hit] = []
    if registry is not None:
        hits += registry.find(text)
    if patterns:
        hits += find_patterns(text, None if patterns is True else patterns)
    if ner is not None:
        hits += ner(text)
    return hits


def detections(
    text: str, hits: Iterable[Hit], context_chars: int = CONTEXT_CHARS
) -> list[Detection]:
    """One detection per stretch of text (overlaps resolved), in text order."""
    return [_detection(text, h, context_chars) for h in resolve_overlaps(hits)]


def _propagate(text: str, hits: list[Hit]) -> list[Hit]:
    found = FoundNames.build(found_names(hits, home=""), Vocabulary([text]))
    return found.find(text, home="") if found else []


def found_names(
    hits: Iterable[Hit], home: str | None
) -> Iterator[tuple[str, str, str, str | None]]:
    """(value, category, detector, home) of the names a pattern or NER found."""
    for h in hits:
        if h.category in NAME_CATEGORIES and h.source != "registry":
            yield h.value, h.category, h.source, home


def resolve_overlaps(hits: Iterable[Hit]) -> list[Hit]:
    """Greedy choice of non-overlapping hits by preference; the result is in text order."""

    def preference(h: Hit) -> tuple:
        kind = h.source.split(":", 1)[0]
        pattern_rank = PATTERN_PRIORITY.get(h.source.removeprefix("pattern:"), 0)
        return (-(h.end - h.start), _SOURCE_RANK.get(kind, 3), pattern_rank, h.start)

    taken: list[Hit] = []  # kept in text order; non-overlapping, so ends are ordered too
    starts: list[int] = []
    for hit in sorted(set(hits), key=preference):
        if hit.end <= hit.start:
            continue
        i = bisect.bisect_right(starts, hit.start)
        if i > 0 and taken[i - 1].end > hit.start:
            continue
        if i < len(taken) and taken[i].start < hit.end:
            continue
        taken.insert(i, hit)
        starts.insert(i, hit.start)
    return taken


def context_of(text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> str:
    left = text[max(0, start - chars) : start]
    right = text[end : end + chars]
    snippet = f"{'…' if start > chars else ''}{left}<<{text[start:end]}>>{right}"
    snippet += "…" if end + chars < len(text) else ""
    return " ".join(snippet.split())


def _detection(text: str, hit: Hit, chars: int) -> Detection:
    return Detection(
        start=hit.start,
        end=hit.end,
        text=text[hit.start : hit.end],
        category=hit.category,
        source=hit.source,
        pseudonym_hint=hit.pseudonym_hint,
        context=context_of(text, hit.start, hit.end, chars),
        value=hit.value,
    )
