"""Documents: importing transcripts (each file its own transaction), turns and meaning units."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from caseframe.api.base import ProjectBase, Writer
from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.model import Document, MeaningUnit, SpeakerTurn, UnitScheme
from caseframe.store.lookup import case_row
from caseframe.store.queries import documents as q

if TYPE_CHECKING:
    import pandas as pd

SCHEMES = {s.value for s in UnitScheme} - {UnitScheme.IMPORTED.value}
# A filter run on the text before it is stored (pseudonymisation); returns the text to store.
TextFilter = Callable[[str, str], str]
LIST_COLUMNS = [
    "id",
    "name",
    "cases",
    "words",
    "turns",
    "units",
    "codings",
    "format",
    "pseudonymised",
]


@dataclass
class ImportResult:
    path: str
    document: str | None = None
    words: int = 0
    turns: int = 0
    units: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


class DocumentsMixin(ProjectBase):
    def import_documents(
        self,
        paths: Sequence[str | Path],
        case: str | None = None,
        mapping: str | Path | None = None,
        scheme: str = "turn",
        window: int = 3,
        text_filter: TextFilter | None = None,
        on_progress: Callable[[ImportResult], None] | None = None,
        *,
        actor: str | None = None,
    ) -> list[ImportResult]:
        """Import files; one transaction per file, so one bad file spoils nothing else. Each
        imported file gets its audit entry in its own transaction."""
        from caseframe.ingest import read_document

        _check_scheme(scheme, window)
        case_of = _read_mapping(mapping) if mapping else {}
        if case:
            with self.store.read() as conn:
                case_row(conn, case)  # an unknown --case fails the batch before anything
        results = []
        for raw_path in paths:
            path = Path(raw_path)
            result = ImportResult(str(path))
            try:
                doc = read_document(path)
                text = text_filter(doc.text, path.name) if text_filter else doc.text
                result.warnings.extend(doc.warnings)
                target_case = case_of.get(path.name) or case_of.get(path.stem) or case
                with self.writing(actor) as w:
                    _store_document(
                        w,
                        result,
                        path,
                        text,
                        doc.source_format,
                        doc.turns if text == doc.text else None,
                        target_case,
                        scheme,
                        window,
                    )
            except CaseframeError as exc:
                result.error = exc.line()
            results.append(result)
            if on_progress:
                on_progress(result)
        return results

    def resegment(
        self,
        scheme: str,
        window: int = 3,
        documents: Sequence[str] | None = None,
        *,
        actor: str | None = None,
    ) -> int:
        """(Re)build meaning units of one scheme for some or all documents; returns unit count."""
        from caseframe.ingest import segment

        _check_scheme(scheme, window)
        total = 0
        with self.writing(actor) as w:
            rows = [q.find(w.conn, d) for d in documents] if documents else q.all_rows(w.conn)
            for row in rows:
                units = segment(row.text, q.turns(w.conn, row.id), scheme, window)
                q.delete_units(w.conn, row.id, scheme)
                q.insert_units(w.conn, row.id, scheme, units)
                total += len(units)
            after = {"scheme": scheme, "window": window, "documents": [r.name for r in rows]}
            w.audit("segment", "document", None, None, {**after, "units": total})
        return total

    def link_document(self, document: str, case: str, *, actor: str | None = None) -> None:
        with self.writing(actor) as w:
            doc, c = q.find(w.conn, document), case_row(w.conn, case)
            if q.link_case(w.conn, doc.id, c.id):
                w.audit("link", "document", doc.name, None, {"case": c.key})

    # -- reading ------------------------------------------------------------------------------

    def document(self, ref: str | int) -> Document:
        with self.store.read() as conn:
            return q.to_document(conn, q.find(conn, ref))

    def documents_records(self) -> list[dict[str, Any]]:
        """One dict per document (by name): the columns of `documents_frame`."""
        with self.store.read() as conn:
            return q.listing(conn)

    def documents_frame(self) -> pd.DataFrame:
        """One row per document: name, cases, words, turns, units, codings, format."""
        import pandas as pd

        return pd.DataFrame.from_records(self.documents_records(), columns=LIST_COLUMNS)

    def meaning_units(
        self, document: str | int | None = None, scheme: str | None = None
    ) -> list[MeaningUnit]:
        with self.store.read() as conn:
            doc_id = q.find(conn, document).id if document is not None else None
            return q.meaning_units(conn, doc_id, scheme)


def _store_document(
    w: Writer,
    result: ImportResult,
    path: Path,
    text: str,
    source_format: str,
    turns: Sequence[SpeakerTurn] | None,
    case: str | None,
    scheme: str,
    window: int,
) -> int:
    """One document with its turns, units and case link, and its audit entry."""
    from caseframe.ingest import content_hash, detect_turns, segment, word_count

    conn = w.conn
    digest = content_hash(text)
    same = q.name_with_hash(conn, digest)
    if same is not None:
        raise Conflict(
            f"same content as document '{same}' already in the project",
            where=str(path),
            hint="the file was imported before; nothing was added",
        )
    name = q.free_name(conn, path.name)
    if name != path.name:
        result.warnings.append(f"a document named '{path.name}' exists; stored as '{name}'")
    if turns is None:
        turns = detect_turns(text)
    words = word_count(text)
    doc_id = q.insert(
        conn,
        name=name,
        text=text,
        content_hash=digest,
        source_format=source_format,
        source_path=str(path),
        word_count=words,
    )
    q.insert_turns(conn, doc_id, turns)
    units = segment(text, turns, scheme, window)
    q.insert_units(conn, doc_id, scheme, units)
    if case:
        q.link_case(conn, doc_id, case_row(conn, case).id)
    result.document, result.words, result.turns, result.units = name, words, len(turns), len(units)
    w.audit("import", "document", name, None, {**asdict(result), "path": path.name})
    return doc_id


def _insert_units(conn: Connection, doc_id: int, scheme: str, units) -> None:
    """Kept for callers outside this module: `store.queries.documents.insert_units`."""
    q.insert_units(conn, doc_id, scheme, units)


def _check_scheme(scheme: str, window: int) -> None:
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"unknown meaning-unit scheme '{scheme}'",
            hint=f"use one of {', '.join(sorted(SCHEMES))}",
        )
    if window < 1:
        raise InvalidInput("the sentence window must be at least 1")


def _read_mapping(path: str | Path) -> dict[str, str]:
    from caseframe.util.csvfile import read_csv_rows

    _header, rows = read_csv_rows(path, required=("file", "case"))
    return {row["file"]: row["case"] for _line, row in rows}
