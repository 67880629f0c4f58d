"""Mapping between caseframe's store and the REFI-QDA representation (pure functions, no I/O).

The API reads the store into a `StoreData` (rows that refer to each other by GUID, not by
database id), `to_refi` turns it into a `RefiProject`, and `from_refi` turns a `RefiProject` read
from a file back into a `StoreData` that the API writes in one transaction. Everything REFI-QDA
cannot express travels in `RefiProject.extensions` (the archive's caseframe/extensions.json),
keyed by GUID, so that caseframe → qdpx → caseframe loses nothing. See docs/refi.md.

Choices (documented in docs/refi.md):
- A REFI selection has one creating user, so codings are grouped into one selection per
  (document, start, end, coder, stored selection GUID); codings of different coders on the same
  range become separate selections.
- A coding's memo becomes a Note attached to the coding (other tools show it as a comment); the
  sidecar marks that note so it comes back as the coding's memo, not as a separate memo.
- Text is NFC with "\\n" in caseframe; a source in another form is normalised and its selections
  remapped (a warning in the report, not a loss).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    RefiCase,
    RefiCode,
    RefiCodebook,
    RefiCoding,
    RefiNote,
    RefiProject,
    RefiSelection,
    RefiSet,
    RefiSource,
    RefiUser,
    RefiVariable,
    guid_key,
)
from caseframe.interop.refi.read import normalise_source

# Deterministic GUIDs the mapping invents (selections, coding-memo notes): same store, same file.
_NS = uuid.UUID("6d1f3a52-8c0e-4f7b-9a1d-2b5e7c4f9e30")
_RGB6 = "0123456789abcdefABCDEF"

ATTRIBUTE_TO_REFI = {
    "text": "Text",
    "integer": "Integer",
    "float": "Float",
    "date": "Date",
    "boolean": "Boolean",
}
REFI_TO_ATTRIBUTE = {v: k for k, v in ATTRIBUTE_TO_REFI.items()} | {"DateTime": "text"}


def derived_guid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, ":".join(parts))).upper()


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
                 units [[scheme, idx, start, end, speaker, external_id, split]]
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
    document_cases: list[tuple[str, str]] = field(default_factory=list)
    codings: list[dict] = field(default_factory=list)
    memos: list[dict] = field(default_factory=list)
    sets: list[dict] = field(default_factory=list)
    coder_documents: list[dict] = field(default_factory=list)
    frameworks: list[dict] = field(default_factory=list)
    assessments: list[dict] = field(default_factory=list)
    matrix_summaries: list[dict] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- values


def timestamp(value: Any) -> str | None:
    """A stored datetime as xsd:dateTime in UTC, to the second ("2024-05-01T10:00:00Z")."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_timestamp(value)
        if value is None:
            return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they are stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def refi_color(color: str | None) -> str | None:
    """A colour REFI accepts (#RGB or #RRGGBB): an #RRGGBBAA colour loses its alpha."""
    if not color or not color.startswith("#"):
        return None
    digits = color[1:]
    if not all(c in _RGB6 for c in digits):
        return None
    if len(digits) in (3, 6):
        return color
    if len(digits) == 8:
        return "#" + digits[:6]
    return None


def attribute_value(text: str, kind: str) -> tuple[str, Any]:
    """A stored attribute value (text) as a typed REFI variable value."""
    from caseframe.util.values import parse_value

    refi_type = ATTRIBUTE_TO_REFI.get(kind, "Text")
    value = parse_value(text, kind) if kind in ATTRIBUTE_TO_REFI else text
    return refi_type, value


def value_text(value: Any) -> str:
    """A REFI variable value as the text caseframe stores."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        return repr(float(value)) if isinstance(value, float) else format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Drop empty entries so the sidecar holds only what differs from the defaults."""
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


# --------------------------------------------------------------------------- store -> REFI


def to_refi(data: StoreData, origin: str) -> RefiProject:
    """The whole project as a RefiProject; caseframe-only data goes into `extensions`."""
    ext: dict[str, Any] = {
        "project": _clean(
            {"guid": data.project.get("guid"), "settings": data.project.get("settings")}
        ),
        "coders": {},
        "codes": {},
        "cases": {},
        "documents": {},
        "codings": {},
        "memos": {},
    }
    project = RefiProject(
        name=data.project.get("name") or "caseframe project",
        origin=origin,
        description=data.project.get("description") or None,
    )
    coder_names = {}
    for coder in data.coders:
        project.users.append(RefiUser(coder["guid"], coder["name"]))
        coder_names[coder["name"]] = coder["guid"]
        if coder.get("kind", "human") != "human":
            ext["coders"][coder["guid"]] = {"kind": coder["kind"]}

    nodes: dict[str, RefiCode] = {}
    for code in data.codes:
        meta = code.get("meta") or {}
        node = RefiCode(
            guid=code["guid"],
            name=code["name"],
            is_codable=bool((meta.get("refi") or {}).get("isCodable", True)),
            description=code.get("description") or None,
            color=refi_color(code.get("color")),
        )
        nodes[code["guid"]] = node
        parent = code.get("parent")
        (nodes[parent].children if parent else project.codes).append(node)
        extra = _clean(
            {
                "kind": code.get("kind"),
                "origin": code.get("origin") if code.get("origin") != "inductive" else None,
                "component": code.get("component"),
                "maps_to": list(code.get("maps_to") or []),
                "meta": meta,
                "color": code.get("color") if code.get("color") != node.color else None,
            }
        )
        if extra:
            ext["codes"][code["guid"]] = extra

    types = {a["name"]: a["type"] for a in data.attributes}
    for attr in data.attributes:
        project.variables.append(
            RefiVariable(attr["guid"], attr["name"], ATTRIBUTE_TO_REFI.get(attr["type"], "Text"))
        )
    members: dict[str, list[str]] = {}
    for doc_guid, case_guid in data.document_cases:
        members.setdefault(case_guid, []).append(doc_guid)
    doc_order = {d["guid"]: i for i, d in enumerate(data.documents)}
    for case in data.cases:
        project.cases.append(
            RefiCase(
                guid=case["guid"],
                name=case["key"],
                description=case.get("description") or None,
                variables={
                    name: attribute_value(text, types.get(name, "text"))
                    for name, text in sorted(case.get("attributes", {}).items())
                },
                source_guids=sorted(members.get(case["guid"], []), key=lambda g: doc_order[g]),
            )
        )
        extra = _clean(
            {
                "label": case.get("label") if case.get("label") != case["key"] else None,
                "kind": case.get("kind"),
                "parent": case.get("parent"),
            }
        )
        if extra:
            ext["cases"][case["guid"]] = extra

    by_document: dict[str, list[dict]] = {}
    for coding in data.codings:
        by_document.setdefault(coding["document"], []).append(coding)
    for doc in data.documents:
        source = RefiSource(
            guid=doc["guid"],
            name=doc["name"],
            text=doc["text"],
            description=doc.get("description") or None,
            created=timestamp(doc.get("created_at")),
        )
        source.selections = _selections(by_document.get(doc["guid"], []), ext, project)
        project.sources.append(source)
        extra = _clean(
            {
                "source_format": doc.get("source_format"),
                "source_path": doc.get("source_path"),
                "pseudonymised": bool(doc.get("pseudonymised")) or None,
                "meta": doc.get("meta"),
                "turns": doc.get("turns"),
                "units": doc.get("units"),
            }
        )
        if extra:
            ext["documents"][doc["guid"]] = extra

    for memo in data.memos:
        target = memo.get("target")
        note = RefiNote(
            guid=memo["guid"],
            name=memo.get("title"),
            text=memo["text"],
            creating_user=coder_names.get(memo.get("author") or ""),
            created=timestamp(memo.get("created_at")),
            targets=[PROJECT_TARGET if memo["target_type"] == "project" else target],
        )
        project.notes.append(note)
        if memo.get("author") and note.creating_user is None:
            ext["memos"][memo["guid"]] = {"author": memo["author"]}

    for item in data.sets:
        project.sets.append(
            RefiSet(
                item["guid"],
                item["name"],
                item.get("description") or None,
                code_guids=list(item.get("codes", [])),
                source_guids=list(item.get("documents", [])),
            )
        )
    for key, value in (
        ("coder_documents", data.coder_documents),
        ("frameworks", data.frameworks),
        ("assessments", data.assessments),
        ("matrix_summaries", data.matrix_summaries),
        ("settings", data.settings),
    ):
        if value:
            ext[key] = value
    project.extensions = {k: v for k, v in ext.items() if v}
    return project


def _selections(codings: list[dict], ext: dict, project: RefiProject) -> list[RefiSelection]:
    """One selection per (range, coder, stored selection GUID), in text order."""
    groups: dict[tuple, list[dict]] = {}
    for c in sorted(
        codings, key=lambda c: (c["start"], c["end"], c["coder"], c.get("selection_guid") or "")
    ):
        key = (c["start"], c["end"], c["coder"], c.get("selection_guid") or "")
        groups.setdefault(key, []).append(c)
    used: set[str] = set()
    selections = []
    for (start, end, coder, stored), members in groups.items():
        members.sort(key=lambda c: c["guid"])
        guid = stored or derived_guid("selection", members[0]["guid"])
        if guid_key(guid) in used:  # the same REFI selection, coded by several coders
            guid = derived_guid("selection", guid, coder)
        used.add(guid_key(guid))
        selection = RefiSelection(
            guid=guid,
            start=start,
            end=end,
            creating_user=coder,
            created=timestamp(members[0].get("created_at")),
        )
        for c in members:
            selection.codings.append(
                RefiCoding(c["guid"], c["code"], coder, timestamp(c.get("created_at")))
            )
            extra = _clean(
                {
                    "valence": c.get("valence"),
                    "strength": c.get("strength"),
                    "score": c.get("score"),
                    "status": c.get("status") if c.get("status") != "final" else None,
                    "unit": c.get("unit"),
                }
            )
            if c.get("memo"):
                note_guid = derived_guid("coding-memo", c["guid"])
                extra["memo_note"] = note_guid
                project.notes.append(
                    RefiNote(note_guid, "Coding memo", c["memo"], targets=[c["guid"]])
                )
            if extra:
                ext["codings"][c["guid"]] = extra
        selections.append(selection)
    return selections


# --------------------------------------------------------------------------- REFI -> store


class _Names:
    """Unique names within a scope, with ' (2)', ' (3)' suffixes for repeats."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def take(self, name: str) -> tuple[str, bool]:
        base, n, renamed = name, 2, False
        while name.casefold() in self.seen:
            name, n, renamed = f"{base} ({n})", n + 1, True
        self.seen.add(name.casefold())
        return name, renamed


def code_name(raw: str | None, report: LossReport) -> str:
    """A code name caseframe accepts: not empty and without '/' (the path separator)."""
    name = (raw or "").strip()
    if not name:
        report.warn("codes without a name", "named '(unnamed)'")
        return "(unnamed)"
    if "/" in name:
        report.warn("code names with '/'", "'/' separates code paths; replaced by '-'")
        name = name.replace("/", "-")
    return name


def from_refi(refi: RefiProject, report: LossReport, *, source_label: str = "") -> StoreData:
    """A RefiProject as store rows; what cannot be stored is recorded in `report`."""
    ext = refi.extensions or {}
    x_coders, x_codes, x_cases = ext.get("coders", {}), ext.get("codes", {}), ext.get("cases", {})
    x_docs, x_codings, x_memos = (
        ext.get("documents", {}),
        ext.get("codings", {}),
        ext.get("memos", {}),
    )
    data = StoreData()
    x_project = ext.get("project", {})
    data.project = {
        "name": refi.name,
        "description": refi.description or "",
        "guid": x_project.get("guid"),
        "settings": x_project.get("settings") or {},
    }
    data.settings = dict(ext.get("settings") or {})
    data.frameworks = list(ext.get("frameworks") or [])

    # users -> coders
    names = _Names()
    user_guid: dict[str, str] = {}  # key -> stored guid
    for user in refi.users:
        name, renamed = names.take((user.name or user.id or guid_key(user.guid)).strip())
        if renamed:
            report.warn("users with the same name", "renamed with a number")
        g = guid_key(user.guid)
        user_guid[g] = g
        kind = (x_coders.get(g) or {}).get("kind", "human")
        data.coders.append({"guid": g, "name": name, "kind": kind})
    fallback_coder: str | None = None

    def coder_of(*refs: str | None) -> str:
        nonlocal fallback_coder
        for ref in refs:
            if ref and guid_key(ref) in user_guid:
                return user_guid[guid_key(ref)]
        if fallback_coder is None:
            fallback_coder = derived_guid("coder", refi.origin or "refi")
            name, _ = names.take(refi.origin or "REFI-QDA import")
            data.coders.append({"guid": fallback_coder, "name": name, "kind": "human"})
        report.warn(
            "codings without a creating user", "attributed to a coder named after the file's origin"
        )
        return fallback_coder

    # codes
    def add_codes(codes: list[RefiCode], parent: str | None) -> None:
        siblings = _Names()
        for code in codes:
            g = guid_key(code.guid)
            name, renamed = siblings.take(code_name(code.name, report))
            if renamed:
                report.warn("sibling codes with the same name", "renamed with a number")
            extra = x_codes.get(g) or {}
            meta = dict(extra.get("meta") or {})
            if not code.is_codable and (meta.get("refi") or {}).get("isCodable") is not False:
                meta["refi"] = {**(meta.get("refi") or {}), "isCodable": False}
            data.codes.append(
                {
                    "guid": g,
                    "name": name,
                    "parent": parent,
                    "kind": extra.get("kind"),
                    "origin": extra.get("origin", "inductive"),
                    "component": extra.get("component"),
                    "maps_to": list(extra.get("maps_to") or []),
                    "description": code.description or "",
                    "color": extra.get("color") or code.color,
                    "meta": meta,
                }
            )
            add_codes(code.children, g)

    add_codes(refi.codes, None)

    # variables -> attributes
    var_type: dict[str, str] = {}
    for var in refi.variables:
        kind = REFI_TO_ATTRIBUTE.get(var.type, "text")
        if var.type == "DateTime":
            report.warn("DateTime variables", "stored as text attributes (ISO 8601)")
        var_type[var.name] = kind
        data.attributes.append({"guid": guid_key(var.guid), "name": var.name, "type": kind})

    # sources -> documents, selections -> codings
    doc_names = _Names()
    selection_owner: dict[str, list[str]] = {}  # selection key -> coding guids
    for source in refi.sources:
        g = guid_key(source.guid)
        extra = x_docs.get(g) or {}
        text, selections = source.text, source.selections
        if "\r" in text or not unicodedata.is_normalized("NFC", text):
            text, selections = normalise_source(text, selections)
        if text != source.text:
            report.warn(
                "sources converted to NFC text with \\n newlines",
                "selection offsets were remapped to the converted text",
            )
        name, renamed = doc_names.take(source.name)
        if renamed:
            report.warn("sources with the same name", "renamed with a number")
        data.documents.append(
            {
                "guid": g,
                "name": name,
                "text": text,
                "description": source.description or "",
                # a caseframe export has an entry for every document (source_format is never empty)
                "source_format": extra.get("source_format", "qdpx"),
                "source_path": extra.get("source_path")
                if extra
                else f"{source_label}:{source.name}",
                "pseudonymised": bool(extra.get("pseudonymised", False)),
                "meta": extra.get("meta") or {},
                "created_at": parse_timestamp(source.created),
                "turns": extra.get("turns"),
                "units": extra.get("units"),
            }
        )
        if source.variables:
            report.lost(
                "variable values on sources",
                "documents have no attributes in caseframe",
                len(source.variables),
            )
        seen: set[tuple] = set()
        for sel in selections:
            sel_key = guid_key(sel.guid)
            if sel.start == sel.end:
                report.lost("empty selections", "a coding needs at least one character", 1)
                continue
            if not sel.codings:
                report.lost(
                    "selections without codings", "caseframe stores codings, not bare selections"
                )
                continue
            if sel.name:
                report.lost("names of selections", "a coding has no name")
            if sel.description:
                report.lost("descriptions of selections", "a coding has no description")
            for coding in sel.codings:
                coder = coder_of(coding.creating_user, sel.creating_user)
                _add_coding(
                    data, x_codings, report, seen, g, sel.start, sel.end, coding, coder, sel_key
                )
                selection_owner.setdefault(sel_key, []).append(guid_key(coding.guid))
        if source.codings:
            if not text:
                report.lost(
                    "codings of empty sources", "there is no text to code", len(source.codings)
                )
            else:
                report.warn("codings of whole sources", "stored as codings of the whole text")
                for coding in source.codings:
                    coder = coder_of(coding.creating_user, source.creating_user)
                    _add_coding(data, x_codings, report, seen, g, 0, len(text), coding, coder, None)

    # cases
    case_keys = _Names()
    for case in refi.cases:
        g = guid_key(case.guid)
        extra = x_cases.get(g) or {}
        key, renamed = case_keys.take((case.name or "").strip() or g[:8])
        if renamed:
            report.warn("cases with the same name", "renamed with a number")
        attrs = {}
        for name, (kind, value) in case.variables.items():
            if value is None:
                continue
            if name not in var_type:  # the reader only keeps values of defined variables
                var_type[name] = REFI_TO_ATTRIBUTE.get(kind, "text")
            attrs[name] = value_text(value)
        data.cases.append(
            {
                "guid": g,
                "key": key,
                "label": extra.get("label") or case.name or key,
                "kind": extra.get("kind", "case"),
                "parent": extra.get("parent"),
                "description": case.description or "",
                "attributes": attrs,
            }
        )
        for src in case.source_guids:
            data.document_cases.append((guid_key(src), g))
        report.lost(
            "case members that are selections",
            "cases link whole documents",
            len(case.selection_guids),
        )
        report.lost(
            "case members that are codes", "cases link documents, not codes", len(case.code_guids)
        )

    # notes -> memos (and coding memos)
    kinds = _kinds(data, refi)
    memo_notes = {guid_key(v["memo_note"]): k for k, v in x_codings.items() if v.get("memo_note")}
    codings_by_guid = {c["guid"]: c for c in data.codings}
    coder_name = {c["guid"]: c["name"] for c in data.coders}
    for note in refi.notes:
        g = guid_key(note.guid)
        owner = memo_notes.get(g)
        if owner is not None and guid_key(owner) in codings_by_guid:
            codings_by_guid[guid_key(owner)]["memo"] = note.text
            continue
        if note.description:
            report.lost("descriptions of notes", "a memo has a title and a text only")
        author = (x_memos.get(g) or {}).get("author") or coder_name.get(
            guid_key(note.creating_user or "")
        )
        targets = _memo_targets(note, kinds, selection_owner, report)
        for i, (target_type, target) in enumerate(targets):
            data.memos.append(
                {
                    "guid": g if i == 0 else derived_guid("note-copy", g, str(i)),
                    "target_type": target_type,
                    "target": target,
                    "title": note.name,
                    "text": note.text,
                    "author": author,
                    "created_at": parse_timestamp(note.created),
                }
            )

    # sets
    set_names = _Names()
    for item in refi.sets:
        name, _ = set_names.take(item.name or "(unnamed set)")
        data.sets.append(
            {
                "guid": guid_key(item.guid),
                "name": name,
                "description": item.description or "",
                "documents": [guid_key(s) for s in item.source_guids],
                "codes": [guid_key(c) for c in item.code_guids],
            }
        )
        report.lost(
            "set members that are notes", "sets hold documents and codes", len(item.note_guids)
        )
    report.lost("links between objects", "caseframe has no links", len(refi.links))

    data.coder_documents = list(ext.get("coder_documents") or [])
    data.assessments = list(ext.get("assessments") or [])
    data.matrix_summaries = list(ext.get("matrix_summaries") or [])
    return data


def _add_coding(
    data: StoreData,
    x_codings: dict,
    report: LossReport,
    seen: set[tuple],
    doc: str,
    start: int,
    end: int,
    coding: RefiCoding,
    coder: str,
    selection: str | None,
) -> None:
    code = guid_key(coding.code_guid)
    key = (start, end, code, coder)
    if key in seen:
        report.skipped("duplicate codings", "same range, code and coder as another coding")
        return
    seen.add(key)
    g = guid_key(coding.guid)
    extra = x_codings.get(g) or {}
    data.codings.append(
        {
            "guid": g,
            "document": doc,
            "start": start,
            "end": end,
            "code": code,
            "coder": coder,
            "valence": extra.get("valence"),
            "strength": extra.get("strength"),
            "memo": None,
            "score": extra.get("score"),
            "status": extra.get("status", "final"),
            "selection_guid": selection,
            "unit": extra.get("unit"),
            "created_at": parse_timestamp(coding.created),
        }
    )


def _kinds(data: StoreData, refi: RefiProject) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for kind, rows in (("document", data.documents), ("case", data.cases), ("code", data.codes)):
        for row in rows:
            kinds[row["guid"]] = kind
    for coding in data.codings:
        kinds[coding["guid"]] = "coding"
    for name, objs in (("note", refi.notes), ("set", refi.sets), ("user", refi.users)):
        for obj in objs:
            kinds.setdefault(guid_key(obj.guid), name)
    for var in refi.variables:
        kinds.setdefault(guid_key(var.guid), "variable")
    for link in refi.links:
        kinds.setdefault(guid_key(link.guid), "link")
    return kinds


def _memo_targets(
    note: RefiNote, kinds: dict[str, str], selection_owner: dict[str, list[str]], report: LossReport
) -> list[tuple[str, str | None]]:
    """Where a note goes as memos: one memo per target caseframe can hold."""
    targets: list[tuple[str, str | None]] = []
    for target in note.targets:
        if target == PROJECT_TARGET:
            targets.append(("project", None))
            continue
        key = guid_key(target)
        kind = kinds.get(key)
        if kind in ("document", "case", "code", "coding"):
            targets.append((kind, key))
        elif key in selection_owner:
            owners = selection_owner[key]
            if len(owners) > 1:
                report.warn(
                    "notes on selections with several codings", "attached to the first coding"
                )
            targets.append(("coding", owners[0]))
        else:
            report.warn(
                f"notes attached to a {kind or 'skipped object'}",
                "caseframe cannot attach memos there; kept as project memos",
            )
            targets.append(("project", None))
    if not targets:
        targets.append(("project", None))
    unique = list(dict.fromkeys(targets))
    if len(unique) > 1:
        report.warn("notes attached to several objects", "stored as one memo per object")
    return unique


# --------------------------------------------------------------------------- codebook merge


@dataclass
class CodebookChange:
    action: str  # added | renamed | updated | unchanged
    path: str  # the code's path after the merge
    guid: str
    parent: str | None  # parent GUID after the merge (for added codes)
    name: str
    old_name: str | None = None
    description: str | None = None
    color: str | None = None
    matched_by: str | None = None  # guid | name (for existing codes)


@dataclass
class CodebookPlan:
    changes: list[CodebookChange] = field(default_factory=list)
    report: LossReport = field(default_factory=LossReport)

    def of(self, action: str) -> list[CodebookChange]:
        return [c for c in self.changes if c.action == action]

    def counts(self) -> dict[str, int]:
        return {a: len(self.of(a)) for a in ("added", "renamed", "updated", "unchanged")}


def plan_codebook_merge(
    existing: list[dict], book: RefiCodebook, report: LossReport
) -> CodebookPlan:
    """What merging `book` into the code tree `existing` (rows with guid, name, parent,
    description, color) would do: match by GUID first, then by name under the same parent.

    A code matched by GUID takes the file's name (renamed); a matched code takes the file's
    description and colour where the file gives one (updated); codes are never moved or deleted.
    """
    plan = CodebookPlan(report=report)
    by_guid = {guid_key(r["guid"]): r for r in existing}
    children: dict[str | None, dict[str, dict]] = {}
    for r in existing:
        children.setdefault(r["parent"], {})[r["name"].casefold()] = r
    paths: dict[str, str] = {}

    def path_of(row_guid: str | None, name: str) -> str:
        return f"{paths[row_guid]}/{name}" if row_guid else name

    for r in existing:  # parents come first
        paths[r["guid"]] = path_of(r["parent"], r["name"])

    def walk(codes: list[RefiCode], parent: str | None) -> None:
        for code in codes:
            g = guid_key(code.guid)
            name = code_name(code.name, report)
            row = by_guid.get(g)
            matched_by = "guid" if row else None
            if row is None:
                row = children.get(parent, {}).get(name.casefold())
                matched_by = "name" if row else None
            if row is None:
                change = CodebookChange(
                    "added",
                    path_of(parent, name),
                    g,
                    parent,
                    name,
                    description=code.description,
                    color=refi_color(code.color),
                )
                paths[g] = change.path
                children.setdefault(parent, {})[name.casefold()] = {
                    "guid": g,
                    "name": name,
                    "parent": parent,
                }
                plan.changes.append(change)
                walk(code.children, g)
                continue
            description = code.description if code.description not in (None, "") else None
            color = refi_color(code.color)
            new_desc = (
                description
                if description is not None and description != (row.get("description") or "")
                else None
            )
            new_color = (
                color
                if color is not None and color.lower() != (row.get("color") or "").lower()
                else None
            )
            rename = matched_by == "guid" and name != row["name"]
            if rename:
                sibling = children.get(row["parent"], {}).get(name.casefold())
                if sibling is not None and sibling["guid"] != row["guid"]:
                    report.warn(
                        f"code {row['name']!r} renamed to {name!r} in the file",
                        "a sibling already has that name; the name was kept",
                    )
                    rename = False
            action = "renamed" if rename else "updated" if new_desc or new_color else "unchanged"
            final_name = name if rename else row["name"]
            paths[row["guid"]] = path_of(row["parent"], final_name)
            plan.changes.append(
                CodebookChange(
                    action,
                    paths[row["guid"]],
                    row["guid"],
                    row["parent"],
                    final_name,
                    old_name=row["name"] if rename else None,
                    description=new_desc,
                    color=new_color,
                    matched_by=matched_by,
                )
            )
            walk(code.children, row["guid"])

    walk(book.codes, None)
    return plan
