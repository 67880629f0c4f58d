"""In-memory form of a REFI-QDA 1.5 project (.qdpx) and codebook (.qdc). No I/O here.

The classes follow the exchange format, not caseframe's store: the lead's mapping turns them into
store rows and back. Conventions:

- A GUID is kept as the file wrote it (NVivo writes lowercase); references are resolved with
  `guid_key`, and a reference field holds the *referenced object's* GUID string, so plain `==`
  works inside one `RefiProject`. The writer emits every GUID uppercase without braces.
- Text offsets are 0-based Unicode code points into `RefiSource.text`; `end` is exclusive.
- `RefiSource.text` is the plain text exactly as stored in the archive (UTF-8, BOM removed, CRLF
  kept). `normalise_source` (in read.py) produces caseframe's NFC/`\\n` form with remapped offsets.
- Variable values are `(type, value)` with type one of VARIABLE_TYPES and value a str, bool, int,
  float, datetime.date or datetime.datetime (or None when the file gives no value).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Target of a note attached to the project as a whole (REFI: <NoteRef> inside <Project>).
PROJECT_TARGET = "project"

VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")

VariableValue = tuple[str, Any]


def guid_key(guid: str) -> str:
    """The form used to compare GUIDs: no braces, no whitespace, uppercase."""
    return guid.strip().strip("{}").upper()


def new_guid() -> str:
    return str(uuid.uuid4()).upper()


@dataclass
class RefiUser:
    guid: str
    name: str | None = None
    id: str | None = None


@dataclass
class RefiCode:
    guid: str
    name: str
    is_codable: bool = True
    description: str | None = None
    color: str | None = None  # "#RRGGBB" or "#RGB"
    children: list[RefiCode] = field(default_factory=list)

    def walk(self) -> Iterator[RefiCode]:
        """This code and every code below it, depth-first (iterative: deep trees are fine)."""
        return walk_codes([self])


@dataclass
class RefiCoding:
    guid: str
    code_guid: str
    creating_user: str | None = None
    created: str | None = None  # xsd:dateTime text as written


@dataclass
class RefiSelection:
    guid: str
    start: int
    end: int  # exclusive
    name: str | None = None
    description: str | None = None
    creating_user: str | None = None
    created: str | None = None
    codings: list[RefiCoding] = field(default_factory=list)


@dataclass
class RefiSyncPoint:
    """A place in a transcript (code point offset) tied to a moment of its recording (ms)."""

    guid: str
    position: int
    time_ms: int


@dataclass
class RefiMedia:
    """The recording a source transcribes: an <AudioSource> whose <Transcript> is the source's
    text, with sync points linking characters to milliseconds.

    `entry` is the file's name under sources/ ("<GUID>.wav"), or None when the recording is not
    in the archive (only the timings travel). `blocks()` yields its bytes; it is called once, while
    the archive is written or the import is stored, so a recording is never held in memory whole.
    """

    guid: str
    name: str | None = None
    entry: str | None = None
    blocks: Callable[[], Iterator[bytes]] | None = None
    size: int | None = None
    transcript_guid: str | None = None
    sync_points: list[RefiSyncPoint] = field(default_factory=list)
    creating_user: str | None = None
    created: str | None = None


@dataclass
class RefiSource:
    guid: str
    name: str
    text: str
    description: str | None = None
    rich_text_path: str | None = None  # informational: where the file had a .docx; not exported
    creating_user: str | None = None
    created: str | None = None
    selections: list[RefiSelection] = field(default_factory=list)
    codings: list[RefiCoding] = field(default_factory=list)  # codings of the whole source
    variables: dict[str, VariableValue] = field(default_factory=dict)
    media: RefiMedia | None = None  # the recording this text transcribes (an <AudioSource>)


@dataclass
class RefiVariable:
    guid: str
    name: str
    type: str  # one of VARIABLE_TYPES
    description: str | None = None


@dataclass
class RefiCase:
    guid: str
    name: str | None = None
    description: str | None = None
    variables: dict[str, VariableValue] = field(default_factory=dict)
    source_guids: list[str] = field(default_factory=list)
    selection_guids: list[str] = field(default_factory=list)
    code_guids: list[str] = field(default_factory=list)


@dataclass
class RefiNote:
    guid: str
    name: str | None = None
    text: str = ""
    description: str | None = None
    creating_user: str | None = None
    created: str | None = None
    #: GUIDs of what the note is about (code, source, selection, coding, case, set, note, ...) or
    #: PROJECT_TARGET. Order carries no meaning; the reader returns them sorted (`sort_targets`).
    targets: list[str] = field(default_factory=list)


@dataclass
class RefiLink:
    """A REFI <Link> between two objects that is not a note attachment."""

    guid: str
    origin_guid: str | None = None
    target_guid: str | None = None
    name: str | None = None
    direction: str | None = None  # Associative | OneWay | Bidirectional
    color: str | None = None


@dataclass
class RefiSet:
    guid: str
    name: str
    description: str | None = None
    code_guids: list[str] = field(default_factory=list)
    source_guids: list[str] = field(default_factory=list)
    note_guids: list[str] = field(default_factory=list)


@dataclass
class RefiCodebook:
    origin: str | None = None
    codes: list[RefiCode] = field(default_factory=list)
    sets: list[RefiSet] = field(default_factory=list)  # only code_guids are used

    def walk_codes(self) -> Iterator[RefiCode]:
        return walk_codes(self.codes)


@dataclass
class RefiProject:
    name: str
    origin: str | None = None
    description: str | None = None
    users: list[RefiUser] = field(default_factory=list)
    codes: list[RefiCode] = field(default_factory=list)
    variables: list[RefiVariable] = field(default_factory=list)
    cases: list[RefiCase] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: list[RefiNote] = field(default_factory=list)
    links: list[RefiLink] = field(default_factory=list)
    sets: list[RefiSet] = field(default_factory=list)
    #: caseframe's own data that REFI cannot express (valence, framework mappings, meaning units,
    #: assessments, case tree, ...), keyed by GUIDs; stored as caseframe/extensions.json.
    extensions: dict[str, Any] = field(default_factory=dict)

    def walk_codes(self) -> Iterator[RefiCode]:
        return walk_codes(self.codes)

    def selections(self) -> Iterator[tuple[RefiSource, RefiSelection]]:
        for source in self.sources:
            for selection in source.selections:
                yield source, selection

    def codings(self) -> Iterator[RefiCoding]:
        for source in self.sources:
            yield from source.codings
            for selection in source.selections:
                yield from selection.codings

    def counts(self) -> dict[str, int]:
        """How many of each kind of object the project holds (for reports and tests)."""
        return {
            "users": len(self.users),
            "codes": sum(1 for _ in self.walk_codes()),
            "sources": len(self.sources),
            "selections": sum(1 for _ in self.selections()),
            "codings": sum(1 for _ in self.codings()),
            "cases": len(self.cases),
            "variables": len(self.variables),
            "notes": len(self.notes),
            "links": len(self.links),
            "sets": len(self.sets),
            "recordings": sum(1 for s in self.sources if s.media is not None),
        }

    def codebook(self) -> RefiCodebook:
        """The project's code tree (and its code-only sets) as a codebook for a .qdc export."""
        code_sets = [
            RefiSet(s.guid, s.name, s.description, code_guids=list(s.code_guids))
            for s in self.sets
            if s.code_guids and not s.source_guids and not s.note_guids
        ]
        return RefiCodebook(origin=self.origin, codes=self.codes, sets=code_sets)


def walk_codes(codes: list[RefiCode]) -> Iterator[RefiCode]:
    """Codes and their descendants, depth-first, parents before children."""
    return (code for code, _parent, _depth in code_depths(codes))


def code_depths(
    codes: list[RefiCode], max_depth: int | None = None
) -> Iterator[tuple[RefiCode, RefiCode | None, int]]:
    """(code, parent, depth) depth-first, parents first; depth 1 for the top level.

    Iterative (caseframe.util.tree.walk), so a deep tree cannot exhaust the recursion limit;
    deeper than `max_depth` levels raises ValueError.
    """
    from caseframe.util.tree import walk

    node: dict[int, RefiCode] = {}
    parent: dict[int, RefiCode | None] = {}

    def children(key: int | None) -> list[int]:
        above = node[key] if key is not None else None
        kids = above.children if above is not None else codes
        for kid in kids:
            node[id(kid)] = kid
            parent[id(kid)] = above
        return [id(kid) for kid in kids]

    limit = None if max_depth is None else max_depth - 1
    for key, depth in walk(children(None), children, max_depth=limit):
        yield node[key], parent[key], depth + 1


def sort_targets(targets: list[str]) -> list[str]:
    """Canonical order of note targets: the project first, then by GUID; duplicates dropped."""
    unique = {guid_key(t) if t != PROJECT_TARGET else t: t for t in targets}
    return sorted(unique.values(), key=lambda t: (t != PROJECT_TARGET, guid_key(t)))
