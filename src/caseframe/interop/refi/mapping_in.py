"""A RefiProject read from a file as store rows (StoreData); no I/O, no SQL.

What the store cannot hold is recorded in the LossReport. Everything caseframe itself exported
beyond REFI (valence, framework mappings, meaning units, the case tree, ...) comes back from
the archive's extension data, keyed by GUID. Choices are documented in docs/refi.md:
- a text in another form than NFC with "\\n" newlines is converted and its selections
  remapped (a warning, not a loss);
- a coding memo written as a Note on the coding comes back as the coding's memo;
- names that clash (users, sibling codes, sources, cases, sets) get " (2)", " (3)" suffixes.
"""

from __future__ import annotations

import unicodedata

from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    RefiCoding,
    RefiNote,
    RefiProject,
    code_depths,
    guid_key,
)
from caseframe.interop.refi.read import normalise_source
from caseframe.interop.refi.values import (
    REFI_TO_ATTRIBUTE,
    derived_guid,
    line_of,
    line_starts,
    parse_timestamp,
    value_text,
)
from caseframe.store.snapshot import StoreData


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

    # codes, parents first (iteratively; the reader refuses trees deeper than MAX_CODE_DEPTH)
    siblings: dict[str | None, _Names] = {}
    for code, above, _depth in code_depths(refi.codes):
        g = guid_key(code.guid)
        parent = guid_key(above.guid) if above is not None else None
        name, renamed = siblings.setdefault(parent, _Names()).take(code_name(code.name, report))
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
        # our own --line-names export: a name derived from the start loses nothing
        starts = line_starts(text) if x_project.get("line_names") else None
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
            if sel.name and sel.name != (f"line:{line_of(starts, sel.start)}" if starts else None):
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
