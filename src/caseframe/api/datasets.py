"""`import-coded`: a coded-segment dataset (FORMATS.md) into the project, in one transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from caseframe.api.base import ProjectBase, Writer
from caseframe.api.codes import insert_code
from caseframe.errors import Conflict
from caseframe.model import SpeakerTurn, UnitScheme
from caseframe.store.lookup import coder_row
from caseframe.store.queries import codings as coding_q
from caseframe.store.queries import documents as doc_q

SEPARATOR = "\n\n"  # between segments of one document


@dataclass
class CodedImportSummary:
    documents: int
    units: int
    codes_created: int
    codes_reused: int
    codings: int
    coders: list[str]


class DatasetsMixin(ProjectBase):
    def import_coded(self, folder: str | Path, *, actor: str | None = None) -> CodedImportSummary:
        from caseframe.interop.coded_dataset import read_coded_dataset

        data = read_coded_dataset(folder)
        by_document: dict[str, list] = {}
        for seg in data.segments:
            by_document.setdefault(seg.document or Path(folder).name, []).append(seg)
        with self.writing(actor) as w:
            code_ids, created, reused = self._coded_codebook(w, data.codebook)
            coder_ids = {c: coder_row(w.conn, c, create=True).id for c in data.coders}
            unit_of: dict[str, tuple[int, int, int, int]] = {}  # seg id -> doc, unit, start, end
            n_units = 0
            for name, segments in by_document.items():
                n_units += len(segments)
                doc_id = _store_document(w, folder, name, segments, unit_of)
                # FORMATS.md: every coder coded every segment, so every document in full.
                coding_q.mark_coded(w.conn, coder_ids.values(), doc_id)
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
                    }
                )
            coding_q.insert_many(w.conn, rows)
            summary = CodedImportSummary(
                len(by_document), n_units, created, reused, len(rows), list(data.coders)
            )
            w.audit("import", "dataset", Path(folder).name, None, asdict(summary))
        return summary

    def _coded_codebook(self, w: Writer, codebook) -> tuple[dict[str, int], int, int]:
        """The dataset's codes: an existing code of the same name under the same parent is
        reused, the others are created. Returns (code name -> id, created, reused)."""
        code_ids: dict[str, int] = {}
        created = reused = 0
        pending = list(codebook)
        while pending:  # the reader has checked parents exist and are in the codebook
            for entry in list(pending):
                if entry.parent and entry.parent not in code_ids:
                    continue
                parent_id = code_ids.get(entry.parent) if entry.parent else None
                found = coding_q.code_under(w.conn, entry.code, parent_id)
                if found is not None:
                    code_ids[entry.code] = found
                    reused += 1
                else:
                    code_ids[entry.code] = insert_code(  # validation and position
                        w.conn,
                        entry.code,
                        None,
                        None,
                        entry.definition,
                        meta={"examples": list(entry.examples)} if entry.examples else None,
                        parent_id=parent_id,
                    )
                    created += 1
                pending.remove(entry)
        return code_ids, created, reused


def _store_document(w: Writer, folder: str | Path, name: str, segments: list, unit_of: dict) -> int:
    """One document made of its segments (SEPARATOR between them), with one imported meaning
    unit and, where the segment names one, one speaker turn per segment."""
    from caseframe.ingest import content_hash, word_count

    texts, spans, pos = [], [], 0
    for seg in segments:
        spans.append((pos, pos + len(seg.text)))
        texts.append(seg.text)
        pos += len(seg.text) + len(SEPARATOR)
    full = SEPARATOR.join(texts)
    if doc_q.name_taken(w.conn, name):
        raise Conflict(
            f"document '{name}' is already in the project",
            where=str(folder),
            hint="import the dataset into a new project",
        )
    # Two dataset documents may hold the same text (two respondents both answering
    # "Nothing."); the name then keeps their content hashes apart.
    digest = content_hash(full)
    if doc_q.name_with_hash(w.conn, digest) is not None:
        digest = content_hash(f"{name}\n{full}")
    doc_id = doc_q.insert(
        w.conn,
        name=name,
        text=full,
        content_hash=digest,
        source_format="coded-segments",
        source_path=str(folder),
        word_count=word_count(full),
    )
    pairs = list(zip(segments, spans, strict=True))
    doc_q.insert_turns(
        w.conn, doc_id, [SpeakerTurn(0, seg.speaker, s, e) for seg, (s, e) in pairs if seg.speaker]
    )
    doc_q.insert_units(
        w.conn,
        doc_id,
        UnitScheme.IMPORTED.value,
        [(s, e, seg.speaker, seg.id, seg.split) for seg, (s, e) in pairs],
    )
    unit_ids = doc_q.unit_ids_by_external(w.conn, doc_id)
    for seg, (s, e) in pairs:
        unit_of[seg.id] = (doc_id, unit_ids[seg.id], s, e)
    return doc_id
