"""A :class:`CodingMatrix` from a coded-segment dataset (FORMATS.md), for `agreement DIR`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from caseframe.analysis.agreement_matrix import CodingMatrix, UnitInfo, indices
from caseframe.errors import InvalidInput


def matrix_from_dataset(
    dataset: Any,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    documents: Sequence[str] | None = None,
) -> CodingMatrix:
    """A CodingMatrix from a coded-segment dataset (caseframe.interop.coded_dataset).

    Per FORMATS.md every coder in codings.csv coded every segment, so ``seen`` is all true.
    """
    all_coders = list(dataset.coders)
    if not all_coders:
        raise InvalidInput(
            "the dataset has no codings, so no coders to compare",
            where=str(getattr(dataset, "path", "")) or None,
        )
    chosen_coders = [all_coders[i] for i in indices(all_coders, coders, "coder")]
    if len(chosen_coders) < 2:
        raise InvalidInput(
            f"agreement needs at least two coders; "
            f"{'the dataset has' if coders is None else 'you chose'} only "
            f"'{chosen_coders[0]}'",
            where=str(getattr(dataset, "path", "")) or None,
            hint="add a second coder's codings to codings.csv or choose two coders",
        )
    all_codes = list(dataset.code_names)
    chosen_codes = [all_codes[i] for i in indices(all_codes, codes, "code")]
    segments = list(dataset.segments)
    if documents is not None:
        known = list(dict.fromkeys(s.document for s in segments if s.document))
        indices(known, documents, "document")
        wanted = set(documents)
        segments = [s for s in segments if s.document in wanted]
    if not segments:
        raise InvalidInput("no segments to compare", hint="check the dataset or the documents")
    unit_index = {s.id: i for i, s in enumerate(segments)}
    coder_index = {c: i for i, c in enumerate(chosen_coders)}
    code_index = {c: i for i, c in enumerate(chosen_codes)}
    applied = np.zeros((len(segments), len(chosen_coders), len(chosen_codes)), dtype=bool)
    for coding in dataset.codings:
        u = unit_index.get(coding.segment_id)
        i = coder_index.get(coding.coder)
        k = code_index.get(coding.code)
        if u is not None and i is not None and k is not None:
            applied[u, i, k] = True
    units = [UnitInfo(s.id, s.document, s.text) for s in segments]
    seen = np.ones((len(segments), len(chosen_coders)), dtype=bool)
    return CodingMatrix(units, chosen_coders, chosen_codes, applied, seen)
