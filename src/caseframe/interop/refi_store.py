"""Mapping between caseframe's store and the REFI-QDA representation (pure functions, no I/O).

The store is read into a `StoreData` (caseframe.store.snapshot: rows that refer to each other by
GUID, not by database id); `to_refi` turns it into a `RefiProject`, and `from_refi`
(interop/refi/mapping_in.py) turns a `RefiProject` read from a file back into a `StoreData` that
the API loads in one transaction. Everything REFI-QDA cannot express travels in
`RefiProject.extensions` (the archive's caseframe/extensions.json), keyed by GUID, so that
caseframe -> qdpx -> caseframe loses nothing. See docs/refi.md.

Choices (documented in docs/refi.md):
- A REFI selection has one creating user, so codings are grouped into one selection per
  (document, start, end, coder, stored selection GUID); codings of different coders on the same
  range become separate selections.
- A coding's memo becomes a Note attached to the coding (other tools show it as a comment); the
  sidecar marks that note so it comes back as the coding's memo, not as a separate memo.
- Text is NFC with "\\n" in caseframe; a source in another form is normalised and its selections
  remapped (a warning in the report, not a loss).
- With `line_names`, each selection is named "line:N" (N: the 0-based line its start lies on),
  which line-based tools such as qc use to place it; off by default.
"""

from __future__ import annotations

from typing import Any

from caseframe.interop.refi.codebook_merge import CodebookChange, CodebookPlan, plan_codebook_merge
from caseframe.interop.refi.mapping_in import code_name, from_refi
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    RefiCase,
    RefiCode,
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
from caseframe.interop.refi.values import (
    ATTRIBUTE_TO_REFI,
    REFI_TO_ATTRIBUTE,
    attribute_value,
    clean,
    derived_guid,
    line_of,
    line_starts,
    parse_timestamp,
    refi_color,
    timestamp,
    value_text,
)
from caseframe.store.snapshot import StoreData

__all__ = [
    "ATTRIBUTE_TO_REFI",
    "REFI_TO_ATTRIBUTE",
    "CodebookChange",
    "CodebookPlan",
    "StoreData",
    "attribute_value",
    "code_name",
    "codes_for_paths",
    "complete_documents",
    "derived_guid",
    "from_refi",
    "parse_timestamp",
    "plan_codebook_merge",
    "refi_color",
    "timestamp",
    "to_refi",
    "value_text",
]


# --------------------------------------------------------------------------- store -> REFI


def to_refi(data: StoreData, origin: str, *, line_names: bool = False) -> RefiProject:
    """The whole project as a RefiProject; caseframe-only data goes into `extensions`.

    line_names: name each selection "line:N" (see the module's notes)."""
    ext: dict[str, Any] = {
        "project": clean(
            {
                "guid": data.project.get("guid"),
                "settings": data.project.get("settings"),
                "line_names": line_names or None,
            }
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
        extra = clean(
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
        extra = clean(
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
        if line_names:
            name_lines(source)
        project.sources.append(source)
        extra = clean(
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


def name_lines(source: RefiSource) -> None:
    """Name each selection "line:N" after the line its start lies on (qc places selections so)."""
    starts = line_starts(source.text)
    for selection in source.selections:
        selection.name = f"line:{line_of(starts, selection.start)}"


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
            extra = clean(
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


# --------------------------------------------------------------------------- before loading


def complete_documents(data: StoreData) -> None:
    """Add what loading a document needs: its content hash and word count, and for a foreign
    source (no turns or units in the file's extension data) caseframe's own segmentation."""
    from caseframe.ingest import content_hash, detect_turns, segment, word_count

    for d in data.documents:
        d["content_hash"] = content_hash(d["text"])
        d["word_count"] = word_count(d["text"])
        if d.get("turns") is None and d.get("units") is None:
            found = detect_turns(d["text"])
            d["turns"] = [[tr.speaker, tr.start, tr.end] for tr in found]
            d["units"] = [
                ["turn", i, s, e, spk, None, None]
                for i, (s, e, spk) in enumerate(segment(d["text"], found, "turn"))
            ]


def codes_for_paths(data: StoreData, paths: list[tuple[str, ...]]) -> None:
    """Code rows for every code path, parents first, with GUIDs derived from the path (the
    loader finds codes already in the project by name under their parent)."""
    seen: set[tuple[str, ...]] = set()
    for path in paths:
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix in seen:
                continue
            seen.add(prefix)
            data.codes.append(
                {
                    "guid": derived_guid("code", *prefix),
                    "name": prefix[-1],
                    "parent": derived_guid("code", *prefix[:-1]) if depth > 1 else None,
                    "origin": "inductive",
                    "description": "",
                    "meta": {},
                }
            )
