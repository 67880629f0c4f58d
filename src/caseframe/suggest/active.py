"""Which meaning units to code next: the ones whose human coding should teach the model most.

Score = uncertainty (how close the unit's scores sit to the code thresholds) plus a coverage bonus
for units likely to carry codes that have few human codings so far. Near-duplicates are skipped so
the list is not ten copies of one answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from caseframe.suggest.base import SuggestionMethod
from caseframe.suggest.text import words


def next_units(
    method: SuggestionMethod,
    texts: Sequence[str],
    coded_counts: Sequence[int] | np.ndarray | None = None,
    n: int = 20,
    coverage_weight: float = 0.5,
) -> list[tuple[int, float]]:
    """(index into `texts`, priority) of the `n` units to code next, best first.

    `method` is fitted; `coded_counts` holds the number of human codings per code (codebook
    order) and steers towards codes with little evidence.
    """
    if not len(texts) or n <= 0:
        return []
    P = method.predict_proba(texts)
    t = np.asarray(method.thresholds_, dtype=float)
    # 1 where a score sits on its threshold, falling to 0 at 0 or 1
    span = np.where(P >= t, 1 - t, t)
    closeness = 1 - np.abs(P - t) / np.maximum(span, 1e-9)
    uncertainty = closeness.max(axis=1)
    priority = uncertainty
    if coded_counts is not None:
        scarcity = 1.0 / (1.0 + np.asarray(coded_counts, dtype=float))
        priority = uncertainty + coverage_weight * (P * scarcity).max(axis=1) / max(
            scarcity.max(), 1e-9
        )
    chosen: list[tuple[int, float]] = []
    seen: set[str] = set()
    for i in np.argsort(-priority, kind="stable"):
        key = " ".join(words(texts[i]))
        if key in seen:
            continue
        seen.add(key)
        chosen.append((int(i), float(priority[i])))
        if len(chosen) == n:
            break
    return chosen
