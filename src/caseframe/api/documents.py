"""Documents: importing transcripts (each file its own transaction), turns and meaning units."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, select

from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.model import Document, MeaningUnit, SpeakerTurn, UnitScheme
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import case_row, document_case_keys, document_row
from caseframe.util.csvfile import read_csv_rows

SCHEMES = {s.value for s in UnitScheme} - {UnitScheme.IMPORTED.value}
# A filter run on the text before it is stored (pseudonymisation); returns the text to store.
TextFilter = Callable[[str, str], str]


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


class DocumentsMixin:
    store: Any

    def import_documents(
        self,
        paths: Sequence[str | Path],
        case: str | None = None,
        mapping: str | Path | None = None,
        scheme: str = "turn",
        window: int = 3,
        text_filter: TextFilter | None = None,
        on_progress: Callable[[ImportResult], None] | None = None,
    ) -> list[ImportResult]:
        """Import files; one transaction per file, so one bad file spoils nothing else."""
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
                with self.store.transaction() as conn:
                    self._insert_document(
                        conn,
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

    def _insert_document(
        self,
        conn: Connection,
        result: ImportResult,
        path: Path,
        text: str,
        source_format: str,
        turns: Sequence[SpeakerTurn] | None,
        case: str | None,
        scheme: str,
        window: int,
        name: str | None = None,
    ) -> int:
        from caseframe.ingest import content_hash, detect_turns, segment, word_count

        digest = content_hash(text)
        same = conn.execute(
            select(t.documents.c.name).where(t.documents.c.content_hash == digest)
        ).first()
        if same is not None:
            raise Conflict(
                f"same content as document '{same.name}' already in the project",
                where=str(path),
                hint="the file was imported before; nothing was added",
            )
        name = name or path.name
        if conn.execute(select(t.documents.c.id).where(t.documents.c.name == name)).first():
            base, n = name, 2
            while conn.execute(select(t.documents.c.id).where(t.documents.c.name == name)).first():
                name, n = f"{Path(base).stem} ({n}){Path(base).suffix}", n + 1
            result.warnings.append(f"a document named '{base}' exists; stored as '{name}'")
        if turns is None:
            turns = detect_turns(text)
        stamp = now()
        words = word_count(text)
        doc_id = conn.execute(
            t.documents.insert().values(
                name=name,
                text=text,
                content_hash=digest,
                source_format=source_format,
                source_path=str(path),
                word_count=words,
                pseudonymised=False,
                description="",
                meta={},
                guid=new_guid(),
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key[0]
        if turns:
            conn.execute(
                t.speaker_turns.insert(),
                [
                    {
                        "document_id": doc_id,
                        "idx": i,
                        "speaker": tr.speaker,
                        "start": tr.start,
                        "end": tr.end,
                    }
                    for i, tr in enumerate(turns)
                ],
            )
        units = segment(text, turns, scheme, window)
        _insert_units(conn, doc_id, scheme, units)
        if case:
            conn.execute(
                t.document_cases.insert().values(
                    document_id=doc_id, case_id=case_row(conn, case).id
                )
            )
        result.document, result.words, result.turns, result.units = (
            name,
            words,
            len(turns),
            len(units),
        )
        return doc_id

    def resegment(
        self, scheme: str, window: int = 3, documents: Sequence[str] | None = None
    ) -> int:
        """(Re)build meaning units of one scheme for some or all documents; returns unit count."""
        from caseframe.ingest import segment

        _check_scheme(scheme, window)
        total = 0
        with self.store.transaction() as conn:
            rows = (
                [document_row(conn, d) for d in documents]
                if documents
                else conn.execute(select(t.documents)).all()
            )
            for row in rows:
                turns = _turns(conn, row.id)
                units = segment(row.text, turns, scheme, window)
                conn.execute(
                    delete(t.meaning_units).where(
                        t.meaning_units.c.document_id == row.id, t.meaning_units.c.scheme == scheme
                    )
                )
                _insert_units(conn, row.id, scheme, units)
                total += len(units)
        return total

    def link_document(self, document: str, case: str) -> None:
        with self.store.transaction() as conn:
            doc, c = document_row(conn, document), case_row(conn, case)
            exists = conn.execute(
                select(t.document_cases).where(
                    t.document_cases.c.document_id == doc.id, t.document_cases.c.case_id == c.id
                )
            ).first()
            if not exists:
                conn.execute(t.document_cases.insert().values(document_id=doc.id, case_id=c.id))

    # -- reading ------------------------------------------------------------------------------

    def document(self, ref: str | int) -> Document:
        with self.store.read() as conn:
            row = document_row(conn, ref)
            keys = tuple(
                conn.scalars(
                    select(t.cases.c.key)
                    .join(t.document_cases, t.document_cases.c.case_id == t.cases.c.id)
                    .where(t.document_cases.c.document_id == row.id)
                    .order_by(t.cases.c.key)
                )
            )
            return Document(
                id=row.id,
                name=row.name,
                text=row.text,
                content_hash=row.content_hash,
                source_format=row.source_format,
                word_count=row.word_count,
                case_keys=keys,
                turns=tuple(_turns(conn, row.id)),
                imported_at=row.created_at,
                guid=row.guid,
                pseudonymised=row.pseudonymised,
            )

    def documents_frame(self) -> pd.DataFrame:
        """One row per document: name, cases, words, turns, units, codings, format."""
        with self.store.read() as conn:
            docs = conn.execute(
                select(
                    t.documents.c.id,
                    t.documents.c.name,
                    t.documents.c.word_count,
                    t.documents.c.source_format,
                    t.documents.c.created_at,
                    t.documents.c.pseudonymised,
                ).order_by(t.documents.c.name)
            ).all()
            counts = {
                name: dict(
                    conn.execute(
                        select(table.c.document_id, func.count()).group_by(table.c.document_id)
                    ).all()
                )
                for name, table in (
                    ("turns", t.speaker_turns),
                    ("units", t.meaning_units),
                    ("codings", t.codings),
                )
            }
            cases = document_case_keys(conn)
        return pd.DataFrame.from_records(
            [
                {
                    "id": d.id,
                    "name": d.name,
                    "cases": ", ".join(sorted(cases.get(d.id, []))),
                    "words": d.word_count,
                    "turns": counts["turns"].get(d.id, 0),
                    "units": counts["units"].get(d.id, 0),
                    "codings": counts["codings"].get(d.id, 0),
                    "format": d.source_format,
                    "pseudonymised": bool(d.pseudonymised),
                }
                for d in docs
            ],
            columns=[
                "id",
                "name",
                "cases",
                "words",
                "turns",
                "units",
                "codings",
                "format",
                "pseudonymised",
            ],
        )

    def meaning_units(
        self, document: str | int | None = None, scheme: str | None = None
    ) -> list[MeaningUnit]:
        with self.store.read() as conn:
            query = select(t.meaning_units).order_by(
                t.meaning_units.c.document_id, t.meaning_units.c.start
            )
            if document is not None:
                query = query.where(
                    t.meaning_units.c.document_id == document_row(conn, document).id
                )
            if scheme:
                query = query.where(t.meaning_units.c.scheme == scheme)
            return [
                MeaningUnit(
                    id=r.id,
                    document_id=r.document_id,
                    scheme=r.scheme,
                    index=r.idx,
                    start=r.start,
                    end=r.end,
                    speaker=r.speaker,
                    external_id=r.external_id,
                    split=r.split,
                )
                for r in conn.execute(query)
            ]


def _turns(conn: Connection, doc_id: int) -> list[SpeakerTurn]:
    return [
        SpeakerTurn(r.idx, r.speaker, r.start, r.end)
        for r in conn.execute(
            select(t.speaker_turns)
            .where(t.speaker_turns.c.document_id == doc_id)
            .order_by(t.speaker_turns.c.idx)
        )
    ]


def _insert_units(conn: Connection, doc_id: int, scheme: str, units) -> None:
    if units:
        conn.execute(
            t.meaning_units.insert(),
            [
                {
                    "document_id": doc_id,
                    "scheme": scheme,
                    "idx": i,
                    "start": s,
                    "end": e,
                    "speaker": spk,
                }
                for i, (s, e, spk) in enumerate(units)
            ],
        )


def _check_scheme(scheme: str, window: int) -> None:
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"unknown meaning-unit scheme '{scheme}'",
            hint=f"use one of {', '.join(sorted(SCHEMES))}",
        )
    if window < 1:
        raise InvalidInput("the sentence window must be at least 1")


def _read_mapping(path: str | Path) -> dict[str, str]:
    _header, rows = read_csv_rows(path, required=("file", "case"))
    return {row["file"]: row["case"] for _line, row in rows}
