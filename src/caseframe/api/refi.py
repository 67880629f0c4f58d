"""REFI-QDA exchange of a whole project (.qdpx) and of the code tree (.qdc); spreadsheet imports.

Orchestration only: caseframe.interop.refi reads and writes the files, caseframe.interop.
refi_store maps them to and from a store snapshot, caseframe.store.snapshot reads the whole
store and caseframe.store.snapshot_load writes one back. Every import is one transaction with
its audit entry, so a refused or failing import leaves the store exactly as it was.
"""

from __future__ import annotations

import gc
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from caseframe.api.base import ProjectBase, Writer
from caseframe.errors import InvalidInput, NotFound
from caseframe.util.names import check_choice

if TYPE_CHECKING:
    from caseframe.interop.refi import LossReport, RefiCodebook, RefiProject
    from caseframe.interop.refi.codebook_merge import CodebookPlan
    from caseframe.store.snapshot import StoreData

DUPLICATE_POLICIES = ("refuse", "merge")


def _new_report() -> LossReport:
    from caseframe.interop.refi.loss import LossReport

    return LossReport()


@dataclass
class RefiImportResult:
    """What an import added (per kind), what it found already there, and the data-loss report."""

    added: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    report: LossReport = field(default_factory=_new_report)
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


class RefiMixin(ProjectBase):
    # -- export -------------------------------------------------------------------------------

    def refi_project(self, *, line_names: bool = False, media: bool = True) -> RefiProject:
        """The whole project as a RefiProject (caseframe-only data in its extensions).

        line_names: name each selection "line:N" after the line it starts on, for line-based
        tools (qc places a selection without such a name on line 0). media: give transcribed
        documents their recording and sync points (an <AudioSource>); without it they are text
        sources only, for tools that refuse anything else (qc)."""
        from caseframe.interop.refi.media import add_recordings
        from caseframe.interop.refi_store import to_refi
        from caseframe.store.snapshot import read_snapshot

        with self.store.read() as conn:
            data = read_snapshot(conn)
        refi = to_refi(data, origin=f"caseframe {_version()}", line_names=line_names)
        if media:
            add_recordings(refi, data, self.media_bytes)  # type: ignore[attr-defined]
        return refi

    def export_qdpx(
        self, out: str | Path, *, line_names: bool = False, media: bool = True
    ) -> tuple[Path, LossReport]:
        """Write the project as a REFI-QDA .qdpx archive (validated, written atomically);
        recordings of transcribed documents go in too unless media=False."""
        from caseframe.interop.refi import write_qdpx
        from caseframe.interop.refi.media import pseudonymised_recordings

        out = _out_path(out, ".qdpx")
        with _gc_paused():
            refi = self.refi_project(line_names=line_names, media=media)
            report = write_qdpx(refi, out)
        report.warn(
            "recordings of pseudonymised documents",
            "exported as stored: names replaced after transcription are still heard in them "
            "(transcribe --pseudonymise mutes them); --no-media leaves recordings out",
            pseudonymised_recordings(refi),
        )
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

    @classmethod
    def from_qdpx(
        cls,
        path: str | Path,
        new_dir: str | Path,
        *,
        strict: bool = False,
        actor: str | None = None,
    ) -> tuple[Self, RefiImportResult]:
        """Create a project in `new_dir` from a .qdpx; returns it and what was imported.

        The file is read and checked before anything is created; on any failure nothing is
        left behind (the folder is removed, or emptied when it existed)."""
        from caseframe.interop.refi import read_qdpx

        path, directory = Path(path), Path(new_dir)
        refi, report = read_qdpx(path, strict=strict)
        existed = directory.exists()
        project = cls.init(directory, name=refi.name, actor=actor)  # type: ignore[attr-defined]
        try:
            result = project._import_refi(refi, report, path.name, "refuse", False, actor)
        except BaseException:
            project.close()
            if existed:
                for child in directory.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            else:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        return project, result

    def import_qdpx(
        self,
        path: str | Path,
        *,
        strict: bool = False,
        on_duplicate: str = "refuse",
        dry_run: bool = False,
        actor: str | None = None,
    ) -> RefiImportResult:
        """Import a .qdpx project into this project, all or nothing.

        on_duplicate: what to do with a source whose text (or GUID) is already a document here:
        "refuse" (default) refuses the whole file; "merge" uses the existing document and adds
        the file's codings to it.
        """
        from caseframe.interop.refi import read_qdpx

        check_choice("duplicate policy", on_duplicate, DUPLICATE_POLICIES)
        path = Path(path)
        refi, report = read_qdpx(path, strict=strict)
        return self._import_refi(refi, report, path.name, on_duplicate, dry_run, actor)

    def _import_refi(
        self,
        refi: RefiProject,
        report: LossReport,
        label: str,
        on_duplicate: str,
        dry_run: bool,
        actor: str | None,
    ) -> RefiImportResult:
        from caseframe.interop.refi.media import add_recordings_to_snapshot
        from caseframe.interop.refi_store import complete_documents, from_refi

        data = from_refi(refi, report, source_label=label)
        add_recordings_to_snapshot(refi, data, report)
        complete_documents(data)
        result = RefiImportResult(report=report, dry_run=dry_run)
        self._load(data, result, "qdpx", label, actor, on_duplicate=on_duplicate)
        return result

    def import_qdc(
        self,
        path: str | Path,
        *,
        strict: bool = False,
        dry_run: bool = False,
        actor: str | None = None,
    ) -> CodebookMergeResult:
        """Merge a .qdc codebook into the code tree (by GUID, then by name under the same
        parent). With dry_run, only report what would be added, renamed or updated."""
        from caseframe.interop.refi import read_qdc

        book, report = read_qdc(path, strict=strict)
        if book.sets:
            report.lost("code sets in the codebook", "import sets with a .qdpx", len(book.sets))
        return self._merge_codebook(book, report, dry_run, "qdc", Path(path).name, actor)

    def import_codebook_sheet(
        self,
        path: str | Path,
        *,
        separator: str | None = None,
        dry_run: bool = False,
        actor: str | None = None,
    ) -> CodebookMergeResult:
        """Merge a codebook spreadsheet (CSV or XLSX from MAXQDA, NVivo, Taguette) into the
        code tree, like a .qdc."""
        from caseframe.interop.spreadsheets import read_codebook_sheet

        book, report = read_codebook_sheet(path, separator=separator)
        return self._merge_codebook(book, report, dry_run, "codebook sheet", Path(path).name, actor)

    def import_codings_sheet(
        self,
        path: str | Path,
        *,
        coder: str | None = None,
        separator: str | None = None,
        skip_unplaced: bool = False,
        dry_run: bool = False,
        actor: str | None = None,
    ) -> RefiImportResult:
        """Codings from a coded-segments spreadsheet (document, code path, segment text): each
        segment is found in its document by its text. Missing codes are created. One
        transaction: unless skip_unplaced, a segment that cannot be placed stores nothing."""
        from caseframe.interop.refi_store import codes_for_paths, derived_guid
        from caseframe.interop.spreadsheets import place_segments, read_codings_sheet
        from caseframe.store.core import new_guid
        from caseframe.store.snapshot import StoreData, documents_by_name

        rows, report = read_codings_sheet(path, separator=separator)
        result = RefiImportResult(report=report, dry_run=dry_run)

        def plan(w: Writer) -> StoreData:
            placed, problems = place_segments(rows, documents_by_name(w.conn), default_coder=coder)
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
            codes_for_paths(data, [p.code_path for p in placed])
            for name in sorted({p.coder for p in placed}):
                data.coders.append({"guid": derived_guid("coder", name), "name": name})
            data.codings = [
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
                for p in placed
            ]
            return data

        self._load(plan, result, "codings sheet", Path(path).name, actor, documents_exist=True)
        return result

    # -- the one transaction of each import ---------------------------------------------------

    def _load(
        self,
        data: StoreData | Any,
        result: RefiImportResult,
        kind: str,
        label: str,
        actor: str | None,
        *,
        on_duplicate: str = "merge",
        documents_exist: bool = False,
    ) -> None:
        """Load a snapshot (or what `data(writer)` plans inside the transaction), audit it,
        and roll everything back for a dry run (recordings written beside the project too)."""
        from caseframe.api.transcribe import MEDIA_DIR
        from caseframe.interop.refi.media import MediaFolder
        from caseframe.store.snapshot_load import load_snapshot

        files = MediaFolder(self.root, MEDIA_DIR) if self.store.dialect == "sqlite" else None
        stored = False
        try:
            with self.writing(actor) as w:
                snapshot = data(w) if callable(data) else data
                load_snapshot(
                    w.conn,
                    snapshot,
                    result,
                    on_duplicate=on_duplicate,
                    documents_exist=documents_exist,
                    check_coding=_check_coding,
                    save_media_file=files.save if files is not None else None,
                )
                w.audit(
                    "import",
                    kind,
                    label,
                    None,
                    {"added": result.added, "existing": result.existing},
                )
                if result.dry_run:
                    raise _Rollback
            stored = True
        except _Rollback:
            pass
        finally:
            if files is not None and not stored:
                files.discard()

    def _merge_codebook(
        self,
        book: RefiCodebook,
        report: LossReport,
        dry_run: bool,
        kind: str,
        label: str,
        actor: str | None,
    ) -> CodebookMergeResult:
        from caseframe.interop.refi_store import plan_codebook_merge
        from caseframe.store.snapshot import apply_codebook, codebook_rows

        with self.writing(actor) as w:
            plan = plan_codebook_merge(codebook_rows(w.conn), book, report)
            if not dry_run:
                apply_codebook(w.conn, plan.changes)
                w.audit("merge codebook", kind, label, None, plan.counts())
        return CodebookMergeResult(plan, dry_run)


def _version() -> str:
    # The package is loaded before any of its modules; reading its version from sys.modules adds
    # no import of `caseframe` (whose __init__ reaches back to the API) to the module graph.
    return sys.modules["caseframe"].__version__


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Build a large export without the cycle collector rescanning everything it has built
    (tens of thousands of objects, none in cycles): about a tenth of the export's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_coding(coding: dict, length: int) -> None:
    """The checks every coding passes, whichever interface adds it."""
    from caseframe.api.codings import check_range, check_valence

    check_range(coding["start"], coding["end"], length, coding["document"])
    check_valence(coding.get("valence"), coding.get("strength"))


def _out_path(out: str | Path, suffix: str) -> Path:
    out = Path(out)
    if out.suffix.lower() != suffix:
        raise InvalidInput(f"the output file must end in {suffix}", where=str(out))
    if not out.parent.is_dir():
        raise NotFound(f"folder {out.parent} does not exist", hint="create it first")
    return out


__all__ = ["CodebookMergeResult", "RefiImportResult", "RefiMixin"]
