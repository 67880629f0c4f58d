"""Text search: the query language, and where a query's hits are in a text, with context.

A query is words (all must occur), "quoted phrases" and prefixes (`financ*`), case-insensitive,
diacritics kept. The store's full-text index (SQLite FTS5, PostgreSQL tsvector) finds the
documents that may match; the hits and their offsets are found here, in the text itself, so both
stores answer with the same offsets (Unicode code points, `[start, end)`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from caseframe.errors import InvalidInput

MAX_TERMS = 16
CONTEXT = 70  # characters of context on each side of a hit
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query; with `prefix`, its last word may continue (the hit is
    the whole word)."""

    words: tuple[str, ...]
    prefix: bool = False

    def pattern(self) -> str:
        body = r"\W+".join(re.escape(w) for w in self.words)
        return r"(?<!\w)" + body + (r"\w*" if self.prefix else r"(?!\w)")


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]

    def regex(self) -> re.Pattern[str]:
        """Any term; longer terms first, so a phrase wins over its first word."""
        ordered = sorted(self.terms, key=lambda t: (-len(t.words), t.prefix))
        return re.compile("|".join(t.pattern() for t in ordered), re.IGNORECASE)


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    document: str
    start: int
    end: int
    match: str
    before: str
    after: str
    speaker: str | None = None


@dataclass
class SearchResult:
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0  # hits in the documents read (all of them unless truncated)
    documents: int = 0  # documents with at least one hit
    truncated: bool = False  # more hits than the limit: the rest were not read


@dataclass
class SearchCoding:
    """What 'code all hits' did."""

    query: str
    code: str
    coder: str
    unit: str
    created: list[int] = field(default_factory=list)
    skipped: int = 0  # already coded so by this coder


def parse_query(text: str) -> Query:
    """Words, "phrases" and prefix* terms; refuses a query without a word."""
    terms: list[Term] = []
    for quoted, bare in _TOKEN.findall(text or ""):
        raw = quoted if quoted else bare
        words = tuple(w.casefold() for w in _WORD.findall(raw))
        if words:
            terms.append(Term(words, prefix=bool(bare) and bare.endswith("*")))
    if not terms:
        raise InvalidInput(
            "nothing to search for", hint='type one or more words; "quote" a phrase; end a prefix*'
        )
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"a query has at most {MAX_TERMS} words or phrases")
    unique = tuple(dict.fromkeys(terms))
    return Query(text.strip(), unique)


def find_hits(text: str, query: Query) -> list[tuple[int, int]]:
    """Every hit of any term, in text order, not overlapping; none unless every term occurs."""
    spans = [(m.start(), m.end()) for m in query.regex().finditer(text)]
    if len(query.terms) > 1:
        for term in query.terms:
            if not re.search(term.pattern(), text, re.IGNORECASE):
                return []
    return spans


def context(
    text: str, start: int, end: int, width: int = CONTEXT, within: tuple[int, int] | None = None
) -> tuple[str, str]:
    """Up to `width` characters before and after a hit (inside `within`, e.g. its speaker turn),
    cut at a word boundary, on one line."""
    first, last = within or (0, len(text))
    lo = max(first, start - width)
    hi = min(last, end + width)
    before, after = text[lo:start], text[end:hi]
    if lo > first and " " in before:
        before = "…" + before[before.index(" ") + 1 :]
    if hi < last and " " in after:
        after = after[: after.rindex(" ")] + "…"
    return " ".join(before.split()) + (" " if before[-1:].isspace() else ""), (
        " " if after[:1].isspace() else ""
    ) + " ".join(after.split())


def turn_at(turns: list[tuple[int, int, str]], offset: int) -> tuple[int, int, str] | None:
    """The turn holding `offset` (turns as (start, end, speaker), sorted by start)."""
    at = bisect_right(turns, offset, key=lambda t: t[0]) - 1
    return turns[at] if at >= 0 and turns[at][0] <= offset < turns[at][1] else None


def expand_to_turns(
    hits: list[tuple[int, int]], turns: list[tuple[int, int, str]]
) -> list[tuple[int, int]]:
    """The speaker turns that hold the hits (each once); a hit outside every turn stays itself."""
    out: dict[tuple[int, int], None] = {}
    for start, end in hits:
        turn = turn_at(turns, start)
        out[(turn[0], turn[1]) if turn else (start, end)] = None
    return list(out)
