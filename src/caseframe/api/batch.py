"""Batch work and the project: training units for `suggest train`, and a reviewed sample back.

`batch_training_set` reads the project's human codings as 0/1 labels of meaning units (the
first scheme of imported, turn, paragraph, sentences each document has; a unit carries a code
when a human coding overlaps it by at least half of the shorter of the two), from documents a
human has coded. `import_batch_sample` stores a sample of batch output as one document whose
meaning units are the sampled rows, with the model's codes as suggestions of the machine coder
`suggest:batch-<method>` (status `suggested`, with scores), so `caseframe suggest review`
takes them like any other suggestions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from caseframe.api.base import ProjectBase
from caseframe.errors import InvalidInput
from caseframe.model import CoderKind, CodingStatus
from caseframe.store.lookup import code_row, coder_row
from caseframe.store.queries import codings as coding_q
from caseframe.store.queries import documents as doc_q

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.batch.training import TrainingSet

SCHEMES = ("imported", "turn", "paragraph", "sentences")
SEPARATOR = "\n\n"
BATCH_CODER = "suggest:batch-{method}"


@dataclass
class BatchImportResult:
    document: str
    units: int
    suggestions: int
    coder: str
    strata: int


class BatchMixin(ProjectBase):
    def batch_training_set(
        self, codes: Sequence[str] | None = None, scheme: str | None = None
    ) -> TrainingSet:
        """Units of human-coded documents and their labels for `codes` (default: every code
        a human applied that has no child codes)."""
        from caseframe.batch.training import TrainingSet, unit_labels
        from caseframe.suggest.base import CodeSpec

        if scheme is not None and scheme not in SCHEMES:
            raise InvalidInput(f"unknown unit scheme '{scheme}'", hint=f"use {', '.join(SCHEMES)}")
        codings = self.codings_frame(codes=codes) if codes else self.codings_frame()
        if codings.empty:
            raise InvalidInput(
                "no human codings to learn from",
                hint="code some units first, or train on a coded-segment dataset folder",
            )
        with self.store.read() as conn:
            if codes:
                rows = list({r.id: r for r in (code_row(conn, c) for c in codes)}.values())
            else:
                used = set(codings["code_id"])
                parents = {c.parent_id for c in self.codes() if c.parent_id is not None}
                rows = [code_row(conn, i) for i in sorted(used - parents)]
            code_ids = [r.id for r in rows]
            coded_docs = sorted(set(self.codings_frame()["document_id"]))
            units, texts = [], []
            for doc_id in coded_docs:
                doc = doc_q.find(conn, int(doc_id))
                mine = doc_q.meaning_units(conn, doc.id, None)
                chosen = _first_scheme(mine, scheme)
                for u in chosen:
                    text = doc.text[u.start : u.end]
                    if text.strip():
                        units.append((doc.id, u.start, u.end))
                        texts.append(text)
        if not units:
            raise InvalidInput(
                "the coded documents have no meaning units",
                hint="build them with `caseframe documents segment --units turn`",
            )
        index = {cid: j for j, cid in enumerate(code_ids)}
        spans = [
            (int(r.document_id), int(r.start), int(r.end), index[int(r.code_id)])
            for r in codings.itertuples(index=False)
            if int(r.code_id) in index
        ]
        specs = [CodeSpec(r.name, r.description or "") for r in rows]
        Y = unit_labels(units, spans, len(code_ids))
        return TrainingSet(texts, Y, specs, f"project {self.root} (human codings)")

    def import_batch_sample(
        self,
        sample: pd.DataFrame,
        method: str,
        model_version: str,
        *,
        name: str | None = None,
        actor: str | None = None,
    ) -> BatchImportResult:
        """Store sampled rows (columns id, text, codes, scores, stratum) as one document with a
        meaning unit per row and the model's codes as pending suggestions, in one transaction."""
        from caseframe.ingest import content_hash, word_count

        if "text" not in sample.columns:
            raise InvalidInput(
                "the batch output has no text column",
                hint="run `batch suggest` without --drop-text to review a sample",
            )
        coder = BATCH_CODER.format(method=method)
        with self.writing(actor) as w:
            code_ids = _code_ids(w.conn, {c for cs in sample["codes"] for c in cs})
            texts = [str(t) for t in sample["text"]]
            full = SEPARATOR.join(texts)
            doc_name = doc_q.free_name(w.conn, name or f"batch sample {model_version}")
            digest = content_hash(f"{doc_name}\n{full}")
            doc_id = doc_q.insert(
                w.conn,
                name=doc_name,
                text=full,
                content_hash=digest,
                source_format="batch-sample",
                source_path=None,
                word_count=word_count(full),
            )
            spans, pos = [], 0
            for text in texts:
                spans.append((pos, pos + len(text)))
                pos += len(text) + len(SEPARATOR)
            ids = [str(i) for i in sample["id"]]
            strata = (
                [str(s) for s in sample["stratum"]] if "stratum" in sample else [None] * len(ids)
            )
            doc_q.insert_units(
                w.conn,
                doc_id,
                "imported",
                [(s, e, None, rid, None) for (s, e), rid in zip(spans, ids, strict=True)],
            )
            unit_ids = doc_q.unit_ids_by_external(w.conn, doc_id)
            coder_id = coder_row(w.conn, coder, create=True, kind=CoderKind.MACHINE.value).id
            rows = []
            for (s, e), rid, codes, scores in zip(
                spans, ids, sample["codes"], sample["scores"], strict=True
            ):
                for code, score in zip(codes, scores, strict=True):
                    rows.append(
                        {
                            "document_id": doc_id,
                            "start": s,
                            "end": e,
                            "code_id": code_ids[code],
                            "coder_id": coder_id,
                            "meaning_unit_id": unit_ids[rid],
                            "score": round(float(score), 4),
                            "status": CodingStatus.SUGGESTED.value,
                        }
                    )
            coding_q.insert_many(w.conn, rows)
            result = BatchImportResult(doc_name, len(ids), len(rows), coder, len(set(strata)))
            w.audit("import", "batch-sample", doc_name, None, asdict(result))
        return result


def _first_scheme(units: list, scheme: str | None) -> list:
    for name in (scheme,) if scheme else SCHEMES:
        chosen = [u for u in units if u.scheme == name]
        if chosen:
            return chosen
    return []


def _code_ids(conn, names: set[str]) -> dict[str, int]:
    from caseframe.errors import NotFound

    out, missing = {}, []
    for name in sorted(names):
        try:
            out[name] = code_row(conn, name).id
        except NotFound:
            missing.append(name)
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise InvalidInput(
            f"the project has no code {shown}; nothing was imported",
            hint="add the model's codes first (e.g. `caseframe import-coded DATASET` or "
            "`caseframe codes import CODES.csv`)",
        )
    return out
