"""`import-coded`: a coded-segment dataset (FORMATS.md) into the project, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from caseframe.errors import Conflict
from caseframe.interop.coded_dataset import read_coded_dataset
from caseframe.model import CodingStatus, UnitScheme
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import coder_row

SEPARATOR = "\n\n"  # between segments of one document


@dataclass
class CodedImportSummary:
    documents: int
    units: int
    codes_created: int
    codes_reused: int
    codings: int
    coders: list[str]


class DatasetsMixin:
    store: Any

    def import_coded(self, folder: str | Path) -> CodedImportSummary:
        from caseframe.ingest import content_hash, word_count

        data = read_coded_dataset(folder)
        by_document: dict[str, list] = {}
        for seg in data.segments:
            by_document.setdefault(seg.document or Path(folder).name, []).append(seg)
        stamp = now()
        with self.store.transaction() as conn:
            code_ids, created, reused = {}, 0, 0
            pending = list(data.codebook)
            while pending:  # the reader has checked parents exist and are in the codebook
                for entry in list(pending):
                    if entry.parent and entry.parent not in code_ids:
                        continue
                    parent_id = code_ids.get(entry.parent) if entry.parent else None
                    cond = (
                        t.codes.c.parent_id.is_(None)
                        if parent_id is None
                        else t.codes.c.parent_id == parent_id
                    )
                    row = conn.execute(
                        select(t.codes.c.id).where(t.codes.c.name == entry.code, cond)
                    ).first()
                    if row is not None:
                        code_ids[entry.code] = row.id
                        reused += 1
                    else:
                        code_ids[entry.code] = self._insert_code(
                            conn,
                            entry.code,
                            None,
                            None,
                            entry.definition,
                            meta={"examples": list(entry.examples)} if entry.examples else None,
                            parent_id=parent_id,
                        )
                        created += 1
                    pending.remove(entry)
            coder_ids = {c: coder_row(conn, c, create=True).id for c in data.coders}
            unit_of: dict[str, tuple[int, int, int, int]] = {}  # seg id -> doc, unit, start, end
            n_units = 0
            for name, segments in by_document.items():
                text, spans, pos = [], [], 0
                for seg in segments:
                    spans.append((pos, pos + len(seg.text)))
                    text.append(seg.text)
                    pos += len(seg.text) + len(SEPARATOR)
                full = SEPARATOR.join(text)
                clash = conn.execute(
                    select(t.documents.c.name).where(t.documents.c.name == name)
                ).first()
                if clash is not None:
                    raise Conflict(
                        f"document '{clash.name}' is already in the project",
                        where=str(folder),
                        hint="import the dataset into a new project",
                    )
                # Two dataset documents may hold the same text (two respondents both answering
                # "Nothing."); the name then keeps their content hashes apart.
                digest = content_hash(full)
                if conn.execute(
                    select(t.documents.c.id).where(t.documents.c.content_hash == digest)
                ).first():
                    digest = content_hash(f"{name}\n{full}")
                doc_id = conn.execute(
                    t.documents.insert().values(
                        name=name,
                        text=full,
                        content_hash=digest,
                        source_format="coded-segments",
                        source_path=str(folder),
                        word_count=word_count(full),
                        pseudonymised=False,
                        description="",
                        meta={},
                        guid=new_guid(),
                        created_at=stamp,
                        updated_at=stamp,
                    )
                ).inserted_primary_key[0]
                turns = [
                    {"document_id": doc_id, "idx": i, "speaker": seg.speaker, "start": s, "end": e}
                    for i, (seg, (s, e)) in enumerate(zip(segments, spans, strict=True))
                    if seg.speaker
                ]
                for i, turn in enumerate(turns):
                    turn["idx"] = i
                if turns:
                    conn.execute(t.speaker_turns.insert(), turns)
                conn.execute(
                    t.meaning_units.insert(),
                    [
                        {
                            "document_id": doc_id,
                            "scheme": UnitScheme.IMPORTED.value,
                            "idx": i,
                            "start": s,
                            "end": e,
                            "speaker": seg.speaker,
                            "external_id": seg.id,
                            "split": seg.split,
                        }
                        for i, (seg, (s, e)) in enumerate(zip(segments, spans, strict=True))
                    ],
                )
                unit_ids = dict(
                    conn.execute(
                        select(t.meaning_units.c.external_id, t.meaning_units.c.id).where(
                            t.meaning_units.c.document_id == doc_id
                        )
                    ).all()
                )
                for seg, (s, e) in zip(segments, spans, strict=True):
                    unit_of[seg.id] = (doc_id, unit_ids[seg.id], s, e)
                n_units += len(segments)
                # FORMATS.md: every coder coded every segment, so every document in full.
                conn.execute(
                    t.coder_documents.insert(),
                    [
                        {"coder_id": cid, "document_id": doc_id, "status": "done"}
                        for cid in coder_ids.values()
                    ],
                )
            seen, rows = set(), []
            for c in data.codings:
                doc_id, unit_id, s, e = unit_of[c.segment_id]
                key = (doc_id, s, e, code_ids[c.code], coder_ids[c.coder])
                if key in seen:
                    continue
                seen.add(key)
                rows.append(
                    {
                        "document_id": doc_id,
                        "start": s,
                        "end": e,
                        "code_id": code_ids[c.code],
                        "coder_id": coder_ids[c.coder],
                        "meaning_unit_id": unit_id,
                        "status": CodingStatus.FINAL.value,
                        "guid": new_guid(),
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
            if rows:
                conn.execute(t.codings.insert(), rows)
        return CodedImportSummary(
            len(by_document), n_units, created, reused, len(rows), list(data.coders)
        )
