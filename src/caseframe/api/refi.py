"""REFI-QDA exchange of a whole project (.qdpx) and of the code tree (.qdc); spreadsheet imports.

Reading and writing the files is caseframe.interop.refi; turning store rows into REFI objects and
back is caseframe.interop.refi_store. This module only queries and writes the store: every import
is one transaction, so a refused or failing import leaves the store exactly as it was.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi_store import (
    CodebookPlan,
    StoreData,
    derived_guid,
    from_refi,
    plan_codebook_merge,
    to_refi,
)
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import component_row

DUPLICATE_POLICIES = ("refuse", "merge")
_CHUNK = 5000


@dataclass
class RefiImportResult:
    """What an import added (per kind), what it found already there, and the data-loss report."""

    added: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    report: LossReport = field(default_factory=LossReport)
    dry_run: bool = False

    def count(self, kind: str, existed: bool = False) -> None:
        target = self.existing if existed else self.added
        target[kind] = target.get(kind, 0) + 1


@dataclass
class CodebookMergeResult:
    plan: CodebookPlan
    dry_run: bool

    @property
    def report(self) -> LossReport:
        return self.plan.report


class _Rollback(Exception):
    """Raised inside a transaction to undo a dry run."""


class RefiMixin:
    store: Any
    root: Path

    # -- export -------------------------------------------------------------------------------

    def refi_project(self):
        """The whole project as a RefiProject (caseframe-only data in its extensions)."""
        from caseframe import __version__

        with self.store.read() as conn:
            data = _read_store(conn)
        return to_refi(data, origin=f"caseframe {__version__}")

    def export_qdpx(self, out: str | Path) -> tuple[Path, LossReport]:
        """Write the project as a REFI-QDA .qdpx archive (validated, written atomically)."""
        from caseframe.interop.refi import write_qdpx

        out = _out_path(out, ".qdpx")
        report = write_qdpx(self.refi_project(), out)
        return out, report

    def export_qdc(self, out: str | Path) -> tuple[Path, LossReport]:
        """Write the code tree (framework codes included) as a REFI-QDA .qdc codebook."""
        from caseframe.interop.refi import write_qdc

        out = _out_path(out, ".qdc")
        refi = self.refi_project()
        book = refi.codebook()
        if not book.codes:
            raise InvalidInput("the project has no codes to export", hint="add codes first")
        report = write_qdc(book, out)
        report.lost(
            "caseframe-only data of codes (kind, framework component, mappings)",
            "a .qdc has no extension point; export a .qdpx to keep it",
            len(refi.extensions.get("codes", {})),
        )
        return out, report

    # -- import -------------------------------------------------------------------------------

    def import_qdpx(
        self,
        path: str | Path,
        *,
        strict: bool = False,
        on_duplicate: str = "refuse",
        dry_run: bool = False,
    ) -> RefiImportResult:
        """Import a .qdpx project into this project, all or nothing.

        on_duplicate: what to do with a source whose text (or GUID) is already a document here:
        "refuse" (default) refuses the whole file; "merge" uses the existing document and adds
        the file's codings to it.
        """
        from caseframe.interop.refi import read_qdpx

        if on_duplicate not in DUPLICATE_POLICIES:
            raise InvalidInput(
                f"unknown duplicate policy '{on_duplicate}'",
                hint=f"use {' or '.join(DUPLICATE_POLICIES)}",
            )
        path = Path(path)
        refi, report = read_qdpx(path, strict=strict)
        return self._import_refi(refi, report, path.name, on_duplicate, dry_run)

    def _import_refi(
        self, refi, report: LossReport, label: str, on_duplicate: str = "refuse", dry_run=False
    ) -> RefiImportResult:
        data = from_refi(refi, report, source_label=label)
        result = RefiImportResult(report=report, dry_run=dry_run)
        try:
            with self.store.transaction() as conn:
                _StoreWriter(conn, data, result, on_duplicate).write()
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        return result

    def import_qdc(
        self, path: str | Path, *, strict: bool = False, dry_run: bool = False
    ) -> CodebookMergeResult:
        """Merge a .qdc codebook into the code tree (by GUID, then by name under the same
        parent). With dry_run, only report what would be added, renamed or updated."""
        from caseframe.interop.refi import read_qdc

        book, report = read_qdc(path, strict=strict)
        if book.sets:
            report.lost("code sets in the codebook", "import sets with a .qdpx", len(book.sets))
        return self._merge_codebook(book, report, dry_run)

    def import_codebook_sheet(
        self, path: str | Path, *, separator: str | None = None, dry_run: bool = False
    ) -> CodebookMergeResult:
        """Merge a codebook spreadsheet (CSV or XLSX from MAXQDA, NVivo, Taguette) into the
        code tree, like a .qdc."""
        from caseframe.interop.spreadsheets import read_codebook_sheet

        book, report = read_codebook_sheet(path, separator=separator)
        return self._merge_codebook(book, report, dry_run)

    def import_codings_sheet(
        self,
        path: str | Path,
        *,
        coder: str | None = None,
        separator: str | None = None,
        skip_unplaced: bool = False,
        dry_run: bool = False,
    ) -> RefiImportResult:
        """Codings from a coded-segments spreadsheet (document, code path, segment text): each
        segment is found in its document by its text. Missing codes are created. One
        transaction: unless skip_unplaced, a segment that cannot be placed stores nothing."""
        from caseframe.interop.spreadsheets import place_segments, read_codings_sheet

        rows, report = read_codings_sheet(path, separator=separator)
        result = RefiImportResult(report=report, dry_run=dry_run)
        try:
            with self.store.transaction() as conn:
                docs = {
                    r.name: (r.guid, r.text)
                    for r in conn.execute(
                        select(t.documents.c.name, t.documents.c.guid, t.documents.c.text)
                    )
                }
                placed, problems = place_segments(rows, docs, default_coder=coder)
                for problem in problems:
                    report.skipped(problem, "the row was not imported")
                if problems and not skip_unplaced:
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    raise InvalidInput(
                        f"{problems[0]}{more}; nothing was stored",
                        where=str(path),
                        hint="fix the rows or pass --skip-unplaced to store the others",
                    )
                data = StoreData()
                _codes_for_paths(conn, data, [p.code_path for p in placed])
                coders = sorted({p.coder for p in placed})
                for name in coders:
                    data.coders.append({"guid": derived_guid("coder", name), "name": name})
                for p in placed:
                    data.codings.append(
                        {
                            "guid": new_guid(),
                            "document": p.document_guid,
                            "start": p.start,
                            "end": p.end,
                            "code": derived_guid("code", *p.code_path),
                            "coder": derived_guid("coder", p.coder),
                            "memo": p.memo,
                            "status": "final",
                        }
                    )
                _StoreWriter(conn, data, result, "merge", documents_exist=True).write()
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        return result

    def _merge_codebook(self, book, report: LossReport, dry_run: bool) -> CodebookMergeResult:
        with self.store.transaction() as conn:
            existing = [
                {
                    "guid": r.guid,
                    "name": r.name,
                    "parent": r.parent_guid,
                    "description": r.description,
                    "color": r.color,
                }
                for r in _code_rows(conn)
            ]
            plan = plan_codebook_merge(existing, book, report)
            if not dry_run:
                _apply_codebook(conn, plan)
        return CodebookMergeResult(plan, dry_run)


def import_qdpx_new(
    directory: str | Path, path: str | Path, *, strict: bool = False
) -> tuple[Any, RefiImportResult]:
    """Create a project in `directory` from a .qdpx; on any failure nothing is left behind."""
    from caseframe.api.project import Project
    from caseframe.interop.refi import read_qdpx

    directory = Path(directory)
    refi, report = read_qdpx(path, strict=strict)  # refuse a broken file before creating anything
    existed = directory.exists()
    project = Project.init(directory, name=refi.name)
    try:
        result = project._import_refi(refi, report, Path(path).name)
    except BaseException:
        project.close()
        if existed:
            for child in directory.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    return project, result


# --------------------------------------------------------------------------- reading the store


def _out_path(out: str | Path, suffix: str) -> Path:
    out = Path(out)
    if out.suffix.lower() != suffix:
        raise InvalidInput(f"the output file must end in {suffix}", where=str(out))
    if not out.parent.is_dir():
        raise NotFound(f"folder {out.parent} does not exist", hint="create it first")
    return out


def _code_rows(conn: Connection) -> list[Any]:
    """Codes in tree order (parents first, siblings by position) with their parent's GUID."""
    rows = conn.execute(select(t.codes).order_by(t.codes.c.position, t.codes.c.id)).all()
    guid = {r.id: r.guid for r in rows}
    children: dict[int | None, list] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r)
    ordered: list = []

    def walk(parent: int | None) -> None:
        for r in children.get(parent, []):
            ordered.append(r)
            walk(r.id)

    walk(None)

    class _Row:
        def __init__(self, row):
            self.__dict__.update(row._mapping)
            self.parent_guid = guid.get(row.parent_id)

    return [_Row(r) for r in ordered]


def _tree_order(rows: list, parent_attr: str = "parent_id") -> list:
    """Rows with every parent before its children (ties by id)."""
    by_parent: dict[Any, list] = {}
    ids = {r.id for r in rows}
    for r in rows:
        parent = getattr(r, parent_attr)
        by_parent.setdefault(parent if parent in ids else None, []).append(r)
    ordered: list = []
    stack = list(reversed(by_parent.get(None, [])))
    while stack:
        r = stack.pop()
        ordered.append(r)
        stack.extend(reversed(by_parent.get(r.id, [])))
    return ordered


def _read_store(conn: Connection) -> StoreData:
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
    code_rows = _code_rows(conn)
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
        }
        for r in docs
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


# --------------------------------------------------------------------------- writing the store


def _codes_for_paths(conn: Connection, data: StoreData, paths: list[tuple[str, ...]]) -> None:
    """Code rows for every code path (existing codes are found by name under their parent)."""
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


class _StoreWriter:
    """Writes a StoreData into an open transaction, merging with what the store holds."""

    def __init__(
        self,
        conn: Connection,
        data: StoreData,
        result: RefiImportResult,
        on_duplicate: str,
        documents_exist: bool = False,
    ):
        self.conn = conn
        self.data = data
        self.result = result
        self.report = result.report
        self.on_duplicate = on_duplicate
        self.documents_exist = documents_exist
        self.stamp = now()
        self.ids: dict[str, dict[str, int]] = {}

    def ids_of(self, kind: str) -> dict[str, int]:
        return self.ids.setdefault(kind, {})

    def write(self) -> None:
        fresh = not any(
            self.conn.execute(select(table.c.id).limit(1)).first()
            for table in (t.documents, t.codes, t.cases)
        )
        self.frameworks()
        if fresh and not self.documents_exist:
            self.project()
        self.settings()
        self.coders()
        self.codes()
        self.attributes()
        self.cases()
        self.documents()
        self.codings()
        self.coder_documents()
        self.memos()
        self.sets()
        self.assessments()
        self.summaries()

    # each step ------------------------------------------------------------------------------

    def frameworks(self) -> None:
        existing = set(self.conn.scalars(select(t.frameworks.c.key)))
        for fw in self.data.frameworks:
            if fw["key"] in existing:
                self.result.count("frameworks", existed=True)
                continue
            fw_id = self.conn.execute(
                t.frameworks.insert().values(
                    key=fw["key"],
                    name=fw["name"],
                    version=fw["version"],
                    builtin=False,
                    spec=fw["spec"],
                    created_at=self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            rows = [{**c, "framework_id": fw_id} for c in fw.get("components", [])]
            if rows:
                self.conn.execute(t.framework_components.insert(), rows)
            self.result.count("frameworks")

    def project(self) -> None:
        p = self.data.project
        values: dict[str, Any] = {"updated_at": self.stamp}
        if p.get("name"):
            values["name"] = p["name"]
        if p.get("description"):
            values["description"] = p["description"]
        if p.get("guid"):
            values["guid"] = p["guid"]
        if p.get("settings"):
            values["settings"] = p["settings"]
        self.conn.execute(t.project.update().values(**values))

    def settings(self) -> None:
        existing = set(self.conn.scalars(select(t.settings.c.key)))
        for key, value in self.data.settings.items():
            if key not in existing:
                self.conn.execute(t.settings.insert().values(key=key, value=value))

    def coders(self) -> None:
        ids = self.ids_of("coder")
        rows = self.conn.execute(select(t.coders)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_name = {r.name: r.id for r in rows}
        for c in self.data.coders:
            found = by_guid.get(c["guid"]) or by_name.get(c["name"])
            if found is not None:
                ids[c["guid"]] = found
                self.result.count("coders", existed=True)
                continue
            guid = c["guid"] if c["guid"] not in by_guid else new_guid()
            ids[c["guid"]] = self.conn.execute(
                t.coders.insert().values(
                    name=c["name"], kind=c.get("kind", "human"), guid=guid, created_at=self.stamp
                )
            ).inserted_primary_key[0]
            by_guid[guid] = ids[c["guid"]]
            self.result.count("coders")

    def codes(self) -> None:
        ids = self.ids_of("code")
        rows = self.conn.execute(select(t.codes)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_place = {(r.parent_id, r.name.casefold()): r.id for r in rows}
        positions: dict[int | None, int] = {}
        for r in rows:
            positions[r.parent_id] = max(positions.get(r.parent_id, 0), r.position)
        for c in self.data.codes:
            parent_id = ids[c["parent"]] if c.get("parent") else None
            found = by_guid.get(c["guid"]) or by_place.get((parent_id, c["name"].casefold()))
            if found is not None:
                ids[c["guid"]] = found
                self.result.count("codes", existed=True)
                continue
            component_id = self.component(c.get("component"), "framework components of codes")
            positions[parent_id] = positions.get(parent_id, 0) + 1
            color = c.get("color")
            code_id = self.conn.execute(
                t.codes.insert().values(
                    name=c["name"],
                    parent_id=parent_id,
                    kind=c.get("kind"),
                    origin=c.get("origin") or ("deductive" if component_id else "inductive"),
                    component_id=component_id,
                    description=c.get("description") or "",
                    color=color if color and len(color) <= 9 else None,
                    position=positions[parent_id],
                    version=1,
                    meta=c.get("meta") or {},
                    guid=c["guid"],
                    created_at=self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            ids[c["guid"]] = code_id
            by_place[(parent_id, c["name"].casefold())] = code_id
            for ref in c.get("maps_to") or []:
                comp_id = self.component(ref, "mappings of codes to framework components")
                if comp_id is not None:
                    self.conn.execute(
                        t.code_mappings.insert().values(code_id=code_id, component_id=comp_id)
                    )
            self.result.count("codes")

    def component(self, ref: str | None, what: str) -> int | None:
        if not ref:
            return None
        try:
            return component_row(self.conn, ref).id
        except CaseframeError:
            self.report.lost(what, f"framework component {ref} is not in this project")
            return None

    def attributes(self) -> None:
        rows = self.conn.execute(select(t.attributes)).all()
        self.attr = {r.name: (r.id, r.type) for r in rows}
        guids = {r.guid.upper() for r in rows}
        for a in self.data.attributes:
            if a["name"] in self.attr:
                self.result.count("attributes", existed=True)
                continue
            guid = a["guid"] if a["guid"] not in guids else new_guid()
            attr_id = self.conn.execute(
                t.attributes.insert().values(name=a["name"], type=a["type"], guid=guid)
            ).inserted_primary_key[0]
            self.attr[a["name"]] = (attr_id, a["type"])
            self.result.count("attributes")

    def cases(self) -> None:
        from caseframe.util.values import parse_value

        ids = self.ids_of("case")
        rows = self.conn.execute(select(t.cases)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_key = {r.key.casefold(): r.id for r in rows}
        existing_values = {
            (r.case_id, r.attribute_id): r.value
            for r in self.conn.execute(select(t.case_attributes))
        }
        pending = list(self.data.cases)
        known = {c["guid"] for c in pending}
        while pending:  # parents first
            ready = [c for c in pending if not c.get("parent") or c["parent"] in ids]
            ready += [c for c in pending if c.get("parent") and c["parent"] not in known]
            if not ready:
                raise InvalidInput("the case tree in the file has a cycle")
            for c in ready:
                pending.remove(c)
            for c in ready:
                found = by_guid.get(c["guid"]) or by_key.get(c["key"].casefold())
                if found is not None:
                    ids[c["guid"]] = found
                    self.result.count("cases", existed=True)
                else:
                    found = self.conn.execute(
                        t.cases.insert().values(
                            key=c["key"],
                            label=c.get("label") or c["key"],
                            kind=c.get("kind") or "case",
                            parent_id=ids.get(c.get("parent") or ""),
                            description=c.get("description") or "",
                            guid=c["guid"],
                            created_at=self.stamp,
                            updated_at=self.stamp,
                        )
                    ).inserted_primary_key[0]
                    ids[c["guid"]] = found
                    by_key[c["key"].casefold()] = found
                    self.result.count("cases")
                values = []
                for name, text in c.get("attributes", {}).items():
                    attr_id, kind = self.attr[name]
                    try:
                        parse_value(text, kind, what=f"attribute '{name}' of case '{c['key']}'")
                    except InvalidInput as exc:
                        raise Conflict(
                            exc.message,
                            hint=f"the project's attribute '{name}' is of type {kind}",
                        ) from None
                    old = existing_values.get((found, attr_id))
                    if old is None:
                        values.append({"case_id": found, "attribute_id": attr_id, "value": text})
                    elif old != text:
                        self.report.warn(
                            "case attribute values that differ from the project's",
                            "the project's values were kept",
                        )
                if values:
                    self.conn.execute(t.case_attributes.insert(), values)

    def documents(self) -> None:
        from caseframe.ingest import content_hash, detect_turns, segment, word_count

        ids = self.ids_of("document")
        rows = self.conn.execute(
            select(
                t.documents.c.id, t.documents.c.guid, t.documents.c.name, t.documents.c.content_hash
            )
        ).all()
        if self.documents_exist:
            ids.update({r.guid.upper(): r.id for r in rows})
            return
        by_guid = {r.guid.upper(): r for r in rows}
        by_hash = {r.content_hash: r for r in rows}
        names = {r.name for r in rows}
        self.merged_documents: set[int] = set()
        inserted: set[int] = set()
        turns, units = [], []
        for d in self.data.documents:
            digest = content_hash(d["text"])
            same = by_guid.get(d["guid"]) or by_hash.get(digest)
            if same is not None and same.id in inserted and same.content_hash == digest:
                ids[d["guid"]] = same.id  # two sources of the file hold the same text
                if not d["text"]:
                    self.report.lost(
                        "empty sources beyond the first",
                        "caseframe keeps one empty document; the others were merged into it",
                    )
                    continue
                self.report.warn(
                    "sources with the same text as another source", "merged into one document"
                )
                continue
            if same is not None:
                same_text = same.content_hash == digest
                if self.on_duplicate == "refuse" or not same_text:
                    why = "the same text as" if same_text else "the same GUID as"
                    raise Conflict(
                        f"source '{d['name']}' has {why} document '{same.name}' already in the "
                        "project; nothing was imported",
                        hint="import into a new project, or pass --merge to add the file's "
                        "codings to the existing documents"
                        if same_text
                        else "import into a new project",
                    )
                ids[d["guid"]] = same.id
                self.merged_documents.add(same.id)
                self.report.warn(
                    "sources already in the project",
                    "their codings were added to the existing documents",
                )
                self.result.count("documents", existed=True)
                continue
            name, n = d["name"], 2
            while name in names:
                stem, dot, ext = d["name"].rpartition(".")
                name = f"{stem} ({n}).{ext}" if dot and stem else f"{d['name']} ({n})"
                n += 1
            if name != d["name"]:
                self.report.warn("sources whose name is taken", "stored under a numbered name")
            names.add(name)
            doc_id = self.conn.execute(
                t.documents.insert().values(
                    name=name,
                    text=d["text"],
                    content_hash=digest,
                    source_format=(d.get("source_format") or "qdpx")[:20],
                    source_path=d.get("source_path"),
                    word_count=word_count(d["text"]),
                    pseudonymised=bool(d.get("pseudonymised")),
                    description=d.get("description") or "",
                    meta=d.get("meta") or {},
                    guid=d["guid"],
                    created_at=d.get("created_at") or self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            ids[d["guid"]] = doc_id
            inserted.add(doc_id)
            by_hash[digest] = by_guid[d["guid"]] = _Named(doc_id, name, digest)
            self.result.count("documents")
            doc_turns, doc_units = d.get("turns"), d.get("units")
            if doc_turns is None and doc_units is None:  # a foreign source: segment it as ours
                found = detect_turns(d["text"])
                doc_turns = [[tr.speaker, tr.start, tr.end] for tr in found]
                doc_units = [
                    ["turn", i, s, e, spk, None, None]
                    for i, (s, e, spk) in enumerate(segment(d["text"], found, "turn"))
                ]
            turns += [
                {"document_id": doc_id, "idx": i, "speaker": spk, "start": s, "end": e}
                for i, (spk, s, e) in enumerate(doc_turns or [])
            ]
            units += [
                {
                    "document_id": doc_id,
                    "scheme": u[0],
                    "idx": u[1],
                    "start": u[2],
                    "end": u[3],
                    "speaker": u[4],
                    "external_id": u[5],
                    "split": u[6],
                }
                for u in doc_units or []
            ]
        for table, rows_ in ((t.speaker_turns, turns), (t.meaning_units, units)):
            for i in range(0, len(rows_), _CHUNK):
                self.conn.execute(table.insert(), rows_[i : i + _CHUNK])
        pairs = set(
            self.conn.execute(select(t.document_cases.c.document_id, t.document_cases.c.case_id))
        )
        links = []
        for doc_guid, case_guid in self.data.document_cases:
            doc_id, case_id = ids.get(doc_guid), self.ids_of("case").get(case_guid)
            if doc_id is None or case_id is None or (doc_id, case_id) in pairs:
                continue
            pairs.add((doc_id, case_id))
            links.append({"document_id": doc_id, "case_id": case_id})
        if links:
            self.conn.execute(t.document_cases.insert(), links)

    def codings(self) -> None:
        from caseframe.api.codings import check_range, check_valence

        doc_ids = self.ids_of("document")
        code_ids, coder_ids = self.ids_of("code"), self.ids_of("coder")
        merged = getattr(self, "merged_documents", set()) or (
            set(doc_ids.values()) if self.documents_exist else set()
        )
        guids = {g.upper() for g in self.conn.scalars(select(t.codings.c.guid))}
        taken: set[tuple] = set()
        if merged:
            for r in self.conn.execute(
                select(
                    t.codings.c.document_id,
                    t.codings.c.start,
                    t.codings.c.end,
                    t.codings.c.code_id,
                    t.codings.c.coder_id,
                ).where(t.codings.c.document_id.in_(merged))
            ):
                taken.add(tuple(r))
        lengths = dict(
            self.conn.execute(
                select(t.documents.c.id, t.documents.c.text).where(
                    t.documents.c.id.in_(set(doc_ids.values()))
                )
            ).all()
        )
        units = {}
        if any(c.get("unit") for c in self.data.codings):
            for r in self.conn.execute(
                select(
                    t.meaning_units.c.id,
                    t.meaning_units.c.document_id,
                    t.meaning_units.c.scheme,
                    t.meaning_units.c.idx,
                ).where(t.meaning_units.c.document_id.in_(set(doc_ids.values())))
            ):
                units[(r.document_id, r.scheme, r.idx)] = r.id
        ids = self.ids_of("coding")
        rows = []
        for c in self.data.codings:
            doc_id = doc_ids[c["document"]]
            key = (doc_id, c["start"], c["end"], code_ids[c["code"]], coder_ids[c["coder"]])
            if c["guid"] in guids or key in taken:
                self.report.skipped(
                    "codings already in the project", "same GUID, or same range, code and coder"
                )
                self.result.count("codings", existed=True)
                continue
            taken.add(key)
            check_range(c["start"], c["end"], len(lengths[doc_id]), c["document"])
            check_valence(c.get("valence"), c.get("strength"))
            if c.get("status", "final") not in ("final", "suggested", "accepted", "rejected"):
                raise InvalidInput(f"coding {c['guid']} has unknown status {c['status']!r}")
            unit = c.get("unit")
            guid = c["guid"]
            guids.add(guid)
            rows.append(
                {
                    "document_id": doc_id,
                    "start": c["start"],
                    "end": c["end"],
                    "code_id": key[3],
                    "coder_id": key[4],
                    "meaning_unit_id": units.get((doc_id, unit[0], unit[1])) if unit else None,
                    "valence": c.get("valence"),
                    "strength": c.get("strength"),
                    "memo": c.get("memo") or None,
                    "score": c.get("score"),
                    "status": c.get("status") or "final",
                    "guid": guid,
                    "selection_guid": c.get("selection_guid"),
                    "created_at": c.get("created_at") or self.stamp,
                    "updated_at": self.stamp,
                }
            )
            self.result.count("codings")
        for i in range(0, len(rows), _CHUNK):
            self.conn.execute(t.codings.insert(), rows[i : i + _CHUNK])
        if rows:
            wanted = {r["guid"] for r in rows}
            for r in self.conn.execute(select(t.codings.c.id, t.codings.c.guid)):
                if r.guid in wanted:
                    ids[r.guid] = r.id
        for c in self.data.codings:  # codings that were already there still resolve
            if c["guid"] not in ids:
                row = self.conn.execute(
                    select(t.codings.c.id).where(t.codings.c.guid == c["guid"])
                ).first()
                if row is not None:
                    ids[c["guid"]] = row.id

    def coder_documents(self) -> None:
        existing = set(
            self.conn.execute(select(t.coder_documents.c.coder_id, t.coder_documents.c.document_id))
        )
        rows = []
        for cd in self.data.coder_documents:
            coder = self.ids_of("coder").get(cd["coder"])
            doc = self.ids_of("document").get(cd["document"])
            if coder is None or doc is None or (coder, doc) in existing:
                continue
            existing.add((coder, doc))
            rows.append({"coder_id": coder, "document_id": doc, "status": cd.get("status", "done")})
        if rows:
            self.conn.execute(t.coder_documents.insert(), rows)

    def memos(self) -> None:
        guids = {g.upper() for g in self.conn.scalars(select(t.memos.c.guid))}
        rows = []
        for m in self.data.memos:
            if m["guid"] in guids:
                self.result.count("memos", existed=True)
                continue
            target_type, target_id = m["target_type"], None
            if target_type != "project":
                target_id = self.ids_of(target_type).get(m["target"] or "")
                if target_id is None:
                    self.report.warn("notes whose target was not imported", "kept as project memos")
                    target_type = "project"
            guids.add(m["guid"])
            rows.append(
                {
                    "target_type": target_type,
                    "target_id": target_id,
                    "title": m.get("title"),
                    "text": m["text"],
                    "author": m.get("author"),
                    "guid": m["guid"],
                    "created_at": m.get("created_at") or self.stamp,
                    "updated_at": self.stamp,
                }
            )
            self.result.count("memos")
        if rows:
            self.conn.execute(t.memos.insert(), rows)

    def sets(self) -> None:
        rows = self.conn.execute(select(t.sets)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_name = {r.name: r.id for r in rows}
        members = set(self.conn.execute(select(t.set_members)))
        for s in self.data.sets:
            set_id = by_guid.get(s["guid"]) or by_name.get(s["name"])
            if set_id is None:
                set_id = self.conn.execute(
                    t.sets.insert().values(
                        name=s["name"], description=s.get("description") or "", guid=s["guid"]
                    )
                ).inserted_primary_key[0]
                self.result.count("sets")
            else:
                self.result.count("sets", existed=True)
            new = []
            for kind, refs in (("document", s.get("documents", [])), ("code", s.get("codes", []))):
                for ref in refs:
                    member = self.ids_of(kind).get(ref)
                    if member is not None and (set_id, kind, member) not in members:
                        members.add((set_id, kind, member))
                        new.append({"set_id": set_id, "member_type": kind, "member_id": member})
            if new:
                self.conn.execute(t.set_members.insert(), new)

    def assessments(self) -> None:
        if not self.data.assessments:
            return
        existing = set(
            self.conn.execute(
                select(
                    t.assessments.c.case_id,
                    t.assessments.c.component_id,
                    t.assessments.c.rater_id,
                    t.assessments.c.assessed_on,
                    t.assessments.c.status,
                )
            )
        )
        for a in self.data.assessments:
            comp = self.component(a["component"], "assessments")
            case = self.ids_of("case").get(a["case"])
            rater = self.ids_of("coder").get(a["rater"])
            if comp is None or case is None or rater is None:
                self.report.lost("assessments", "their case, component or rater is missing")
                continue
            day = date.fromisoformat(a["assessed_on"])
            key = (case, comp, rater, day, a.get("status", "rating"))
            if key in existing:
                self.result.count("assessments", existed=True)
                continue
            existing.add(key)
            aid = self.conn.execute(
                t.assessments.insert().values(
                    case_id=case,
                    component_id=comp,
                    rater_id=rater,
                    assessed_on=day,
                    rating=a.get("rating"),
                    note=a.get("note") or "",
                    status=key[4],
                    created_at=self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            evidence = [
                {"assessment_id": aid, "coding_id": self.ids_of("coding")[g]}
                for g in a.get("evidence", [])
                if g in self.ids_of("coding")
            ]
            if evidence:
                self.conn.execute(t.assessment_evidence.insert(), evidence)
            self.result.count("assessments")

    def summaries(self) -> None:
        if not self.data.matrix_summaries:
            return
        existing = set(
            self.conn.execute(select(t.matrix_summaries.c.case_id, t.matrix_summaries.c.code_id))
        )
        for m in self.data.matrix_summaries:
            case, code = self.ids_of("case").get(m["case"]), self.ids_of("code").get(m["code"])
            if case is None or code is None or (case, code) in existing:
                continue
            existing.add((case, code))
            sid = self.conn.execute(
                t.matrix_summaries.insert().values(
                    case_id=case,
                    code_id=code,
                    text=m["text"],
                    author=m.get("author"),
                    evidence_fingerprint=m["evidence_fingerprint"],
                    created_at=self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            links = [
                {"summary_id": sid, "coding_id": self.ids_of("coding")[g]}
                for g in m.get("codings", [])
                if g in self.ids_of("coding")
            ]
            if links:
                self.conn.execute(t.matrix_summary_codings.insert(), links)
            self.result.count("matrix summaries")


@dataclass
class _Named:
    id: int
    name: str
    content_hash: str


def _apply_codebook(conn: Connection, plan: CodebookPlan) -> None:
    from caseframe.store.core import new_guid as _new

    ids = {r.guid.upper(): r.id for r in conn.execute(select(t.codes.c.id, t.codes.c.guid))}
    positions: dict[int | None, int] = {}
    for r in conn.execute(select(t.codes.c.parent_id, t.codes.c.position)):
        positions[r.parent_id] = max(positions.get(r.parent_id, 0), r.position)
    stamp = now()
    for change in plan.changes:
        if change.action == "added":
            parent_id = ids[change.parent.upper()] if change.parent else None
            positions[parent_id] = positions.get(parent_id, 0) + 1
            guid = change.guid if change.guid.upper() not in ids else _new()
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


__all__ = [
    "CodebookMergeResult",
    "RefiImportResult",
    "RefiMixin",
    "import_qdpx_new",
]
