"""Planning an apply: every new text and offset worked out and checked before anything is written.

Pure functions over what the store holds (texts, spans, names); the API reads those, calls these,
and writes the plans in one transaction. A plan that cannot go through raises `Conflict` or
`InvalidInput` naming the document or field, so a bad review list changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.privacy.apply import pseudonymise
from caseframe.privacy.detect import Detection
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.targets import IDENTIFIERS

Span = tuple[int, int, int]  # (row id, start, end)


@dataclass
class DocumentPlan:
    id: int
    name: str
    text: str
    hash: str
    words: int
    spans: dict[str, list[Span]] = field(default_factory=dict)  # table -> moved spans


def plan_document(
    doc_id: int,
    name: str,
    text: str,
    accepted: list[Detection],
    book: PseudonymBook,
    spans: Mapping[str, list[Span]],
    coding_keys: Iterable[tuple[int, int, int]],
) -> DocumentPlan:
    """The document's new text and every span (codings, turns, units) moved onto it.

    Two codings with the same code and coder that would cover the same text afterwards are a
    conflict: the store keeps codings unique on their offsets.
    """
    from caseframe.ingest import content_hash, word_count

    try:
        new_text, offsets, _replacements = pseudonymise(text, accepted, book)
    except (Conflict, InvalidInput) as exc:
        raise type(exc)(f"document '{name}': {exc.message}", hint=exc.hint) from None
    moved = {
        table: [(i, *offsets.map_span(s, e)) for i, s, e in rows] for table, rows in spans.items()
    }
    new_span = {i: (s, e) for i, s, e in moved.get("codings", [])}
    seen: dict[tuple, int] = {}
    for coding_id, code_id, coder_id in coding_keys:
        other = seen.setdefault((*new_span[coding_id], code_id, coder_id), coding_id)
        if other != coding_id:
            raise Conflict(
                f"document '{name}': codings {other} and {coding_id} would cover the same "
                f"text with the same code and coder after pseudonymising",
                hint="delete one of them, then apply again",
            )
    return DocumentPlan(doc_id, name, new_text, content_hash(new_text), word_count(new_text), moved)


def plan_field(ref: str, value: str | None, accepted: list[Detection], book: PseudonymBook) -> str:
    """The new value of a reviewed field (`ref` names it in errors; None: it is gone)."""
    if value is None:
        raise NotFound(f"no document or field '{ref}' in the project")
    try:
        return pseudonymise(value, accepted, book)[0]
    except (Conflict, InvalidInput) as exc:
        raise type(exc)(f"{ref}: {exc.message}", hint=exc.hint) from None


def check_distinct_texts(
    plans: Iterable[DocumentPlan], hashes: Mapping[int, tuple[str, str]]
) -> None:
    """No two documents may end up with the same text (the store keeps texts unique)."""
    plans = list(plans)
    changing = {p.id for p in plans}
    taken = {h: name for doc_id, (name, h) in hashes.items() if doc_id not in changing}
    for p in plans:
        if p.hash in taken:
            raise Conflict(
                f"after pseudonymising, a document would have the same text as '{taken[p.hash]}'",
                hint="the two transcripts differ only in names; delete one of them",
            )
        taken[p.hash] = p.name


def check_distinct_names(
    what: str,
    current: Iterable[tuple[str, object, str]],
    renamed: Mapping[str, str],
) -> None:
    """Names unique within their scope stay unique: `current` holds (row key, scope, name),
    `renamed` maps a row key to its new name."""
    seen: dict[tuple[object, str], str] = {}
    for key, scope, name in current:
        new = renamed.get(key, name)
        if (scope, new) in seen:
            raise Conflict(
                f"two {what} would both be named '{new}' after pseudonymising",
                hint="reject one of the name replacements or rename one of them first",
            )
        seen[(scope, new)] = key


def renamed_identifiers(
    fields: Mapping[tuple[str, str, tuple[str, ...]], str],
) -> dict[tuple[str, str, str | None], dict[str, str]]:
    """The planned new values of unique names, per (table, column, scope column), keyed by
    the row's primary key as text (as `check_distinct_names` expects)."""
    out: dict[tuple[str, str, str | None], dict[str, str]] = {}
    for (table, column, pk), new in fields.items():
        if (table, column) in IDENTIFIERS:
            scope = IDENTIFIERS[(table, column)]
            out.setdefault((table, column, scope), {})[":".join(pk)] = new
    return out
