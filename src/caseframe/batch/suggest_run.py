"""`batch suggest`: the work on one partition, run on a Dask worker.

Each output row: `id`, the carried columns, optionally `text`, `codes` (the codes the model
decides, in codebook order), `scores` (their calibrated scores, float32, same order) and
`model_version` (the model file's id). The scores are those of `predict_proba` and the codes
those of `decide` on them, exactly as a single-process `predict` gives.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from caseframe.batch.inputs import Partition, read_partition
from caseframe.batch.runner import write_partition

if TYPE_CHECKING:
    from caseframe.suggest.base import SuggestionMethod
    from caseframe.suggest.modelfile import ModelFile

RESERVED = ("id", "text", "codes", "scores", "model_version")


def run_settings(
    model: ModelFile,
    text_column: str,
    id_column: str | None,
    keep: list[str],
    keep_text: bool = True,
) -> dict[str, Any]:
    """What a suggest run records in its manifest (and checks on --resume): the columns, and
    the model's id, method, codes and cross-validated figures for `batch summarise`."""
    return {
        "text_column": text_column,
        "id_column": id_column,
        "keep": keep,
        "keep_text": keep_text,
        "model_version": model.model_id,
        "model": {
            "id": model.model_id,
            "method": model.header["method"],
            "codes": model.codes,
            "cv": model.header.get("cv", {}),
        },
    }


def suggest_partition(
    part: Partition, model: SuggestionMethod, out: str, settings: dict[str, Any]
) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    start = time.perf_counter()
    keep = list(settings["keep"])
    codes = list(model.codes_)
    ids: list[str] = []
    texts: list[str] = []
    extra: dict[str, list[Any]] = {c: [] for c in keep}
    decided: list[list[str]] = []
    scores: list[list[float]] = []
    errors: list[dict[str, Any]] = []
    bad = 0
    for chunk in read_partition(part, settings["text_column"], settings["id_column"], keep):
        errors += chunk.errors
        bad += chunk.bad_rows
        if not chunk.texts:
            continue
        P = model.predict_proba(chunk.texts)
        D = model.decide(P)
        for i in range(len(chunk.texts)):
            js = np.flatnonzero(D[i])
            decided.append([codes[j] for j in js])
            scores.append(P[i, js].astype(np.float32).tolist())
        ids += chunk.ids
        if settings["keep_text"]:
            texts += chunk.texts
        for c in keep:
            extra[c] += chunk.extra[c]
    columns: dict[str, Any] = {"id": pa.array(ids, pa.string())}
    columns.update(extra)
    if settings["keep_text"]:
        columns["text"] = pa.array(texts, pa.string())
    columns["codes"] = pa.array(decided, pa.list_(pa.string()))
    columns["scores"] = pa.array(scores, pa.list_(pa.float32()))
    columns["model_version"] = pa.array([settings["model_version"]] * len(ids), pa.string())
    table = pa.table(columns)
    marker = {
        "rows": len(ids),
        "bad_rows": bad,
        "errors": errors,
        "seconds": round(time.perf_counter() - start, 3),
        "model_version": settings["model_version"],
    }
    return write_partition(out, part, table, marker)
