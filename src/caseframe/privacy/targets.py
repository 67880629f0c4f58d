"""Where a project keeps text that can name someone, and how a review row refers to it.

A transcript is referred to by its document name; any other field by
"<table>.<column>#<primary key>" (a composite key joined with ":"), e.g. "memos.title#12".
"""

from __future__ import annotations

import re

from caseframe.errors import NotFound

# Fields the team reviews row by row (each is a review target).
FIELDS: tuple[tuple[str, str], ...] = (
    ("documents", "name"),
    ("documents", "description"),
    ("cases", "key"),
    ("cases", "label"),
    ("cases", "description"),
    ("case_attributes", "value"),
    ("memos", "title"),
    ("memos", "text"),
    ("codings", "memo"),
    ("codes", "name"),
    ("codes", "description"),
    ("sets", "name"),
    ("sets", "description"),
    ("coders", "name"),
    ("matrix_summaries", "text"),
    ("assessments", "note"),
    ("project", "description"),
)
# Fields that are names rather than prose: matched on their spaced view too
# ("Karin_Lindqvist_2.txt"), and unique where the schema says so (scope column or None).
IDENTIFIERS: dict[tuple[str, str], str | None] = {
    ("documents", "name"): None,
    ("cases", "key"): None,
    ("codes", "name"): "parent_id",
    ("sets", "name"): None,
    ("coders", "name"): None,
}
TITLES = {("memos", "title"), ("cases", "label")}  # short, name-like, but not unique
# Text no one reviews line by line: scrubbed of every value the key knows after an apply.
AUTO_TEXT: tuple[tuple[str, str], ...] = (
    ("speaker_turns", "speaker"),
    ("meaning_units", "speaker"),
    ("memos", "author"),
    ("audit_log", "actor"),
    ("audit_log", "entity_id"),  # case keys and document names
    ("media", "name"),  # the recording's original file name
)
AUTO_JSON: tuple[tuple[str, str], ...] = (
    ("audit_log", "before"),
    ("audit_log", "after"),
    ("codes", "meta"),
    ("documents", "meta"),
    ("settings", "value"),
    ("project", "settings"),
)
AUTO_FIELDS = AUTO_TEXT + AUTO_JSON
OPAQUE_SETTINGS = {"web.session_secret"}  # random tokens, not text: never rewritten

_REF = re.compile(r"^(?P<table>[a-z_]+)\.(?P<column>[a-z_]+)#(?P<pk>[0-9A-Za-z_:.\-]+)$")


def field_ref(table: str, column: str, pk: tuple) -> str:
    return f"{table}.{column}#{':'.join(str(v) for v in pk)}"


def parse_ref(ref: str) -> tuple[str, str, tuple[str, ...]]:
    """(table, column, primary key parts) of a field reference; NotFound if it is none."""
    m = _REF.match(ref)
    if not m or (m["table"], m["column"]) not in FIELDS:
        raise NotFound(
            f"no document or field '{ref}' in the project",
            hint="the review list must come from 'caseframe privacy scan' on this project",
        )
    return m["table"], m["column"], tuple(m["pk"].split(":"))


def is_identifier(ref: str) -> bool:
    """Whether the reference is a name-like field (matched on its spaced view)."""
    m = _REF.match(ref)
    return bool(m) and (
        (m["table"], m["column"]) in IDENTIFIERS or (m["table"], m["column"]) in TITLES
    )
