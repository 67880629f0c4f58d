"""Dataclasses of the domain model (see DESIGN.md). No I/O here.

Offsets are Unicode code points, `[start, end)`, into a document's NFC text with `\\n` newlines
(the REFI-QDA convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Valence(StrEnum):
    FACILITATOR = "facilitator"
    BARRIER = "barrier"
    MIXED = "mixed"


class CodeKind(StrEnum):
    """Level of a code in the analysis hierarchy (Graneheim & Lundman)."""

    THEME = "theme"
    MAIN_CATEGORY = "main_category"
    CATEGORY = "category"
    CODE = "code"


class CodeOrigin(StrEnum):
    DEDUCTIVE = "deductive"  # created from a framework component
    INDUCTIVE = "inductive"  # grown from the data


class CoderKind(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"


class CodingStatus(StrEnum):
    """Human codings are always `final`; machine suggestions start as `suggested`."""

    FINAL = "final"
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class UnitScheme(StrEnum):
    TURN = "turn"
    PARAGRAPH = "paragraph"
    SENTENCES = "sentences"
    IMPORTED = "imported"  # units given by a coded-segment dataset or another tool


@dataclass(frozen=True)
class Case:
    id: int
    key: str  # the user's id, e.g. "A5"
    label: str
    kind: str  # region, site, respondent, ... (free text)
    parent_id: int | None = None
    parent_key: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # own attributes only
    guid: str | None = None


@dataclass(frozen=True)
class SpeakerTurn:
    index: int
    speaker: str
    start: int
    end: int


@dataclass(frozen=True)
class MeaningUnit:
    id: int
    document_id: int
    scheme: str
    index: int
    start: int
    end: int
    speaker: str | None = None
    external_id: str | None = None
    split: str | None = None


@dataclass(frozen=True)
class Document:
    id: int
    name: str
    text: str
    content_hash: str
    source_format: str
    word_count: int
    case_keys: tuple[str, ...] = ()
    turns: tuple[SpeakerTurn, ...] = ()
    imported_at: datetime | None = None
    guid: str | None = None
    pseudonymised: bool = False


@dataclass(frozen=True)
class Component:
    """One element of a framework: an SIS component, a CFIR domain/construct/subconstruct."""

    key: str  # e.g. "O10", "IS-J1"
    name: str
    level: str  # SIS level, CFIR domain, PSAT domain
    definition: str = ""
    questions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    parent_key: str | None = None  # CFIR subconstruct -> construct
    kind: str = "component"  # component | domain | construct | subconstruct
    position: int = 0


@dataclass(frozen=True)
class Scale:
    """How components are rated (SIS: 0..3, anchors configurable)."""

    minimum: int
    maximum: int
    anchors: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Framework:
    key: str  # "sis", "cfir2", "psat", or the user's
    name: str
    version: str
    description: str
    levels: tuple[str, ...]  # display order of levels / domains
    components: tuple[Component, ...]
    scale: Scale | None = None
    level_maxima: dict[str, int] = field(default_factory=dict)
    citation: str = ""
    builtin: bool = False

    def component(self, key: str) -> Component | None:
        wanted = key.casefold()
        for c in self.components:
            if c.key.casefold() == wanted:
                return c
        return None


@dataclass(frozen=True)
class Code:
    id: int
    name: str
    parent_id: int | None = None
    kind: str | None = None
    origin: str = CodeOrigin.INDUCTIVE
    description: str = ""
    color: str | None = None
    framework_component: str | None = None  # "sis:O10" when deductive
    mapped_components: tuple[str, ...] = ()  # "sis:O4", ... for inductive categories
    guid: str | None = None
    version: int = 1
    path: str = ""  # "Theme/Main category/Category"


@dataclass(frozen=True)
class Coder:
    id: int
    name: str
    kind: str = CoderKind.HUMAN
    guid: str | None = None


@dataclass(frozen=True)
class Coding:
    id: int
    document_id: int
    start: int
    end: int
    code_id: int
    coder_id: int
    valence: str | None = None
    strength: int | None = None
    memo: str | None = None
    score: float | None = None
    status: str = CodingStatus.FINAL
    guid: str | None = None


@dataclass(frozen=True)
class Memo:
    id: int
    target_type: str  # project | document | case | code | coding
    target_id: int | None
    text: str
    author: str | None = None
    title: str | None = None
    guid: str | None = None


@dataclass(frozen=True)
class Assessment:
    id: int
    case_id: int
    framework: str
    component: str
    rater: str
    assessed_on: date
    rating: int | None
    note: str = ""
    status: str = "rating"  # rating | suggested | consensus
    evidence: tuple[int, ...] = ()  # coding ids
