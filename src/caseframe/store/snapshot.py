"""The whole store as one snapshot: reading it out and the code-tree queries of REFI exchange.

REFI-QDA export reads every table into a `StoreData` (rows that refer to each other by GUID, not
by database id); import writes one back (store/snapshot_load.py). caseframe.interop.refi_store
maps a StoreData to and from the REFI representation without touching the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Row, select

from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.queries import media as mq
from caseframe.util.tree import walk


@dataclass
class StoreData:
    """The store's content as the REFI mapping sees it; rows refer to each other by GUID.

    Row keys (all lists are in a stable order; codes parents first, siblings by position):
      project: name, description, guid, settings
      coders: guid, name, kind, created_at
      codes: guid, name, parent, kind, origin, component ("sis:O10"), maps_to [..],
             description, color, meta
      attributes: guid, name, type
      cases: guid, key, label, kind, parent, description, attributes {name: text}
      documents: guid, name, text, description, source_format, source_path, pseudonymised,
                 meta, created_at, turns [[speaker, start, end]],
                 units [[scheme, idx, start, end, speaker, external_id, split]],
                 timed [[start, end, start_ms, end_ms]] (transcribed documents)
      media (recordings): document (GUID), guid, name, mime_type, size, sha256, duration_ms,
             created_at; read: document_id (to read the bytes); load: suffix, blocks (a
             function yielding the bytes)
      document_cases: [document guid, case guid]
      codings: guid, document, start, end, code, coder, valence, strength, memo, score,
               status, selection_guid, unit ([scheme, idx] or None), created_at
      memos: guid, target_type, target (GUID or None), title, text, author, created_at
      sets: guid, name, description, documents [guid], codes [guid]
      coder_documents: coder, document, status
      frameworks (user-defined ones): key, name, version, spec, components [row dicts]
      assessments: case, component, rater, assessed_on, rating, note, status, evidence [guid]
      matrix_summaries: case, code, text, author, evidence_fingerprint, codings [guid]
      settings: {key: value}
    """

    project: dict[str, Any] = field(default_factory=dict)
    coders: list[dict] = field(default_factory=list)
    codes: list[dict] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    document_cases: list[tuple[str, str]] = field(default_factory=list)
    codings: list[dict] = field(default_factory=list)
    memos: list[dict] = field(default_factory=list)
    sets: list[dict] = field(default_factory=list)
    coder_documents: list[dict] = field(default_factory=list)
    frameworks: list[dict] = field(default_factory=list)
    assessments: list[dict] = field(default_factory=list)
    matrix_summaries: list[dict] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- loading


class Notes(Protocol):
    """Where the loader notes what it could not store (a REFI LossReport fits)."""

    def lost(self, what: str, why: str, count: int = 1) -> None: ...
    def skipped(self, what: str, why: str, count: int = 1) -> None: ...
    def warn(self, what: str, why: str, count: int = 1) -> None: ...


class Tally(Protocol):
    """Counts of what was added and what was already there, per kind, and the notes."""

    report: Notes

    def count(self, kind: str, existed: bool = False) -> None: ...


class Loader(Protocol):
    """What the loading steps share (store/snapshot_load.py's loader)."""

    conn: Connection
    data: StoreData
    report: Notes
    result: Tally
    stamp: Any
    inserted_documents: set[int]  # ids of the documents this load added

    def ids_of(self, kind: str) -> dict[str, int]: ...
    def component(self, ref: str | None, what: str) -> int | None: ...


# --------------------------------------------------------------------------- reading


def read_snapshot(conn: Connection) -> StoreData:
    """Everything the store holds, rows referring to each other by GUID (see StoreData)."""
    data = StoreData()
    p = conn.execute(select(t.project)).first()
    data.project = {
        "name": p.name,
        "description": p.description,
        "guid": p.guid,
        "settings": p.settings or {},
    }
    data.settings = {r.key: r.value for r in conn.execute(select(t.settings).order_by("key"))}

    coders = conn.execute(select(t.coders).order_by(t.coders.c.id)).all()
    coder_guid = {r.id: r.guid for r in coders}
    data.coders = [{"guid": r.guid, "name": r.name, "kind": r.kind} for r in coders]

    comp: dict[int, str] = {}
    for r in conn.execute(
        select(t.framework_components.c.id, t.framework_components.c.key, t.frameworks.c.key).join(
            t.frameworks, t.frameworks.c.id == t.framework_components.c.framework_id
        )
    ):
        comp[r[0]] = f"{r[2]}:{r[1]}"
    maps: dict[int, list[str]] = {}
    for code_id, comp_id in conn.execute(select(t.code_mappings)):
        maps.setdefault(code_id, []).append(comp[comp_id])
    code_rows = code_tree(conn)
    code_guid = {r.id: r.guid for r in code_rows}
    data.codes = [
        {
            "guid": r.guid,
            "name": r.name,
            "parent": r.parent_guid,
            "kind": r.kind,
            "origin": r.origin,
            "component": comp.get(r.component_id) if r.component_id else None,
            "maps_to": sorted(maps.get(r.id, [])),
            "description": r.description,
            "color": r.color,
            "meta": r.meta or {},
        }
        for r in code_rows
    ]

    attrs = conn.execute(select(t.attributes).order_by(t.attributes.c.id)).all()
    attr_name = {r.id: r.name for r in attrs}
    data.attributes = [{"guid": r.guid, "name": r.name, "type": r.type} for r in attrs]
    values: dict[int, dict[str, str]] = {}
    for r in conn.execute(select(t.case_attributes)):
        values.setdefault(r.case_id, {})[attr_name[r.attribute_id]] = r.value
    cases = _tree_order(conn.execute(select(t.cases).order_by(t.cases.c.id)).all())
    case_guid = {r.id: r.guid for r in cases}
    data.cases = [
        {
            "guid": r.guid,
            "key": r.key,
            "label": r.label,
            "kind": r.kind,
            "parent": case_guid.get(r.parent_id),
            "description": r.description,
            "attributes": values.get(r.id, {}),
        }
        for r in cases
    ]

    docs = conn.execute(select(t.documents).order_by(t.documents.c.id)).all()
    doc_guid = {r.id: r.guid for r in docs}
    turns: dict[int, list] = {}
    for r in conn.execute(
        select(t.speaker_turns).order_by(t.speaker_turns.c.document_id, t.speaker_turns.c.idx)
    ):
        turns.setdefault(r.document_id, []).append([r.speaker, r.start, r.end])
    units: dict[int, list] = {}
    unit_ref: dict[int, list] = {}
    for r in conn.execute(
        select(t.meaning_units).order_by(
            t.meaning_units.c.document_id, t.meaning_units.c.scheme, t.meaning_units.c.idx
        )
    ):
        units.setdefault(r.document_id, []).append(
            [r.scheme, r.idx, r.start, r.end, r.speaker, r.external_id, r.split]
        )
        unit_ref[r.id] = [r.scheme, r.idx]
    timed = mq.timed_by_document(conn)
    data.documents = [
        {
            "guid": r.guid,
            "name": r.name,
            "text": r.text,
            "description": r.description,
            "source_format": r.source_format,
            "source_path": r.source_path,
            "pseudonymised": r.pseudonymised,
            "meta": r.meta or {},
            "created_at": r.created_at,
            "turns": turns.get(r.id, []),
            "units": units.get(r.id, []),
            "timed": timed.get(r.id, []),
        }
        for r in docs
    ]
    data.media = [
        {
            "document": doc_guid[r.document_id],
            "document_id": r.document_id,
            "guid": r.guid,
            "name": r.name,
            "mime_type": r.mime_type,
            "size": r.size,
            "sha256": r.sha256,
            "duration_ms": r.duration_ms,
            "created_at": r.created_at,
        }
        for r in mq.all_media(conn)
    ]
    data.document_cases = [
        (doc_guid[r.document_id], case_guid[r.case_id])
        for r in conn.execute(
            select(t.document_cases).order_by(
                t.document_cases.c.case_id, t.document_cases.c.document_id
            )
        )
    ]

    codings = conn.execute(
        select(t.codings).order_by(t.codings.c.document_id, t.codings.c.start, t.codings.c.id)
    ).all()
    coding_guid = {r.id: r.guid for r in codings}
    data.codings = [
        {
            "guid": r.guid,
            "document": doc_guid[r.document_id],
            "start": r.start,
            "end": r.end,
            "code": code_guid[r.code_id],
            "coder": coder_guid[r.coder_id],
            "valence": r.valence,
            "strength": r.strength,
            "memo": r.memo,
            "score": r.score,
            "status": r.status,
            "selection_guid": r.selection_guid,
            "unit": unit_ref.get(r.meaning_unit_id) if r.meaning_unit_id else None,
            "created_at": r.created_at,
        }
        for r in codings
    ]
    targets = {"document": doc_guid, "case": case_guid, "code": code_guid, "coding": coding_guid}
    data.memos = [
        {
            "guid": r.guid,
            "target_type": r.target_type,
            "target": targets[r.target_type].get(r.target_id)
            if r.target_type != "project"
            else None,
            "title": r.title,
            "text": r.text,
            "author": r.author,
            "created_at": r.created_at,
        }
        for r in conn.execute(select(t.memos).order_by(t.memos.c.id))
    ]
    members: dict[int, dict[str, list[str]]] = {}
    for r in conn.execute(
        select(t.set_members).order_by(t.set_members.c.member_type, t.set_members.c.member_id)
    ):
        guid = (doc_guid if r.member_type == "document" else code_guid).get(r.member_id)
        if guid:
            members.setdefault(r.set_id, {}).setdefault(r.member_type, []).append(guid)
    data.sets = [
        {
            "guid": r.guid,
            "name": r.name,
            "description": r.description,
            "documents": members.get(r.id, {}).get("document", []),
            "codes": members.get(r.id, {}).get("code", []),
        }
        for r in conn.execute(select(t.sets).order_by(t.sets.c.id))
    ]
    data.coder_documents = [
        {"coder": coder_guid[r.coder_id], "document": doc_guid[r.document_id], "status": r.status}
        for r in conn.execute(
            select(t.coder_documents).order_by(
                t.coder_documents.c.coder_id, t.coder_documents.c.document_id
            )
        )
    ]
    for fw in conn.execute(
        select(t.frameworks).where(t.frameworks.c.builtin.is_(False)).order_by(t.frameworks.c.id)
    ):
        components = conn.execute(
            select(t.framework_components)
            .where(t.framework_components.c.framework_id == fw.id)
            .order_by(t.framework_components.c.position, t.framework_components.c.id)
        ).all()
        data.frameworks.append(
            {
                "key": fw.key,
                "name": fw.name,
                "version": fw.version,
                "spec": fw.spec,
                "components": [
                    {k: v for k, v in c._mapping.items() if k not in ("id", "framework_id")}
                    for c in components
                ],
            }
        )
    evidence: dict[int, list[str]] = {}
    for r in conn.execute(select(t.assessment_evidence)):
        evidence.setdefault(r.assessment_id, []).append(coding_guid[r.coding_id])
    data.assessments = [
        {
            "case": case_guid[r.case_id],
            "component": comp[r.component_id],
            "rater": coder_guid[r.rater_id],
            "assessed_on": r.assessed_on.isoformat(),
            "rating": r.rating,
            "note": r.note,
            "status": r.status,
            "evidence": sorted(evidence.get(r.id, [])),
        }
        for r in conn.execute(select(t.assessments).order_by(t.assessments.c.id))
    ]
    linked: dict[int, list[str]] = {}
    for r in conn.execute(select(t.matrix_summary_codings)):
        linked.setdefault(r.summary_id, []).append(coding_guid[r.coding_id])
    data.matrix_summaries = [
        {
            "case": case_guid[r.case_id],
            "code": code_guid[r.code_id],
            "text": r.text,
            "author": r.author,
            "evidence_fingerprint": r.evidence_fingerprint,
            "codings": sorted(linked.get(r.id, [])),
        }
        for r in conn.execute(select(t.matrix_summaries).order_by(t.matrix_summaries.c.id))
    ]
    return data


# --------------------------------------------------------------------------- the code tree


def code_tree(conn: Connection) -> list[Any]:
    """Codes in tree order (parents first, siblings by position) with their parent's GUID."""
    rows = conn.execute(select(t.codes).order_by(t.codes.c.position, t.codes.c.id)).all()
    by_id = {r.id: r for r in rows}
    children: dict[int | None, list[int]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r.id)
    return [_CodeRow(by_id[i], by_id) for i, _depth in walk(children.get(None, []), children)]


class _CodeRow:
    """A code row with `parent_guid` added."""

    def __init__(self, row: Row, by_id: dict[int, Row]):
        self.__dict__.update(row._mapping)
        parent = by_id.get(row.parent_id) if row.parent_id is not None else None
        self.parent_guid = parent.guid if parent is not None else None


def _tree_order(rows: list, parent_attr: str = "parent_id") -> list:
    """Rows with every parent before its children (ties by id); orphans count as roots."""
    by_id = {r.id: r for r in rows}
    children: dict[int | None, list[int]] = {}
    for r in rows:
        parent = getattr(r, parent_attr)
        children.setdefault(parent if parent in by_id else None, []).append(r.id)
    return [by_id[i] for i, _depth in walk(children.get(None, []), children)]


def codebook_rows(conn: Connection) -> list[dict[str, Any]]:
    """The code tree as a codebook merge sees it: guid, name, parent GUID, description, color."""
    return [
        {
            "guid": r.guid,
            "name": r.name,
            "parent": r.parent_guid,
            "description": r.description,
            "color": r.color,
        }
        for r in code_tree(conn)
    ]


class CodebookChange(Protocol):
    action: str  # added | renamed | updated | unchanged
    guid: str
    parent: str | None
    name: str
    description: str | None
    color: str | None


def apply_codebook(conn: Connection, changes: list[CodebookChange]) -> None:
    """Add, rename and update codes as a planned codebook merge says (never moves or deletes)."""
    ids = {r.guid.upper(): r.id for r in conn.execute(select(t.codes.c.id, t.codes.c.guid))}
    positions: dict[int | None, int] = {}
    for r in conn.execute(select(t.codes.c.parent_id, t.codes.c.position)):
        positions[r.parent_id] = max(positions.get(r.parent_id, 0), r.position)
    stamp = now()
    for change in changes:
        if change.action == "added":
            parent_id = ids[change.parent.upper()] if change.parent else None
            positions[parent_id] = positions.get(parent_id, 0) + 1
            guid = change.guid if change.guid.upper() not in ids else new_guid()
            ids[change.guid.upper()] = conn.execute(
                t.codes.insert().values(
                    name=change.name,
                    parent_id=parent_id,
                    kind=None,
                    origin="inductive",
                    description=change.description or "",
                    color=change.color,
                    position=positions[parent_id],
                    version=1,
                    meta={},
                    guid=guid,
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]
        elif change.action in ("renamed", "updated"):
            values: dict[str, Any] = {"updated_at": stamp, "version": t.codes.c.version + 1}
            if change.action == "renamed":
                values["name"] = change.name
            if change.description is not None:
                values["description"] = change.description
            if change.color is not None:
                values["color"] = change.color
            conn.execute(
                t.codes.update().where(t.codes.c.id == ids[change.guid.upper()]).values(**values)
            )


def documents_by_name(conn: Connection) -> dict[str, tuple[str, str]]:
    """Every document's name -> (GUID, text), for placing spreadsheet segments."""
    return {
        r.name: (r.guid, r.text)
        for r in conn.execute(select(t.documents.c.name, t.documents.c.guid, t.documents.c.text))
    }
