"""Which meaning units to code next: the ones whose human coding should teach the model most.

Score = uncertainty (how close the unit's scores sit to the code thresholds) plus a coverage bonus
for units likely to carry codes that have few human codings so far. Near-duplicates are skipped so
the list is not ten copies of one answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from caseframe.suggest.base import SuggestionMethod
from caseframe.suggest.text import words


def closeness(P: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """1 where a score sits on its code's threshold, falling to 0 at 0 or 1 (uncertainty)."""
    span = np.where(P >= thresholds, 1 - thresholds, thresholds)
    return 1 - np.abs(P - thresholds) / np.maximum(span, 1e-9)


def coverage(P: np.ndarray, coded_counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """Score × scarcity of the code (1 / (1 + human codings)), scaled so the scarcest code
    counts 1: high for units likely to carry a code with little evidence."""
    scarcity = 1.0 / (1.0 + np.asarray(coded_counts, dtype=float))
    return P * scarcity / max(scarcity.max(), 1e-9)


def pair_priority(
    P: np.ndarray,
    thresholds: np.ndarray,
    coded_counts: Sequence[int] | np.ndarray | None = None,
    coverage_weight: float = 0.5,
) -> np.ndarray:
    """Priority of each (unit, code) cell: the review queue's order, which is `next_units`'s
    per-unit order (a unit's priority is the highest of its cells')."""
    pri = closeness(P, thresholds)
    if coded_counts is not None:
        pri = pri + coverage_weight * coverage(P, coded_counts).max(axis=1, keepdims=True)
    return pri


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
    priority = closeness(P, t).max(axis=1)
    if coded_counts is not None:
        priority = priority + coverage_weight * coverage(P, coded_counts).max(axis=1)
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


def why_next(
    P: np.ndarray,
    thresholds: np.ndarray,
    counts: np.ndarray,
    codes: Sequence[str],
    min_codings: int = 3,
) -> list[str]:
    """Why each unit was picked: the code it is least sure about, and a rarely coded code it may
    carry (one with fewer than `min_codings` human codings)."""
    out = []
    near = closeness(P, thresholds)
    scarcity = 1.0 / (1.0 + np.asarray(counts, dtype=float))
    for i in range(P.shape[0]):
        j = int(near[i].argmax())
        parts = [f"uncertain: {codes[j]} {P[i, j]:.2f} (threshold {thresholds[j]:.2f})"]
        k = int((P[i] * scarcity).argmax())
        if counts[k] < min_codings and P[i, k] > 0:
            parts.append(f"may carry {codes[k]}, which has {int(counts[k])} human-coded units")
        out.append("; ".join(parts))
    return out


# -- proving it: a simulated coder ------------------------------------------------------------


ORDERS = ("active", "random")


def simulate(
    texts: Sequence[str],
    Y: np.ndarray,
    codebook: Sequence[Any],
    test_texts: Sequence[str],
    Y_test: np.ndarray,
    *,
    order: str = "active",
    method: str = "supervised",
    options: dict[str, Any] | None = None,
    k: int = 100,
    start: int | None = None,
    max_labels: int | None = None,
    seed: int = 0,
    coverage_weight: float = 0.5,
    on_progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """A coder labels the pool `texts` k units at a time, in the order the method asks for
    (`next_units`: uncertainty and coverage, as `suggest next` ranks) or at random; the method is
    refitted after every k labels and scored on the held-out units. Both orders start from the
    same random `start` units (default k). Returns the learning curve: one point per refit with
    `labels`, `micro_f1`, `macro_f1`, `mean_kappa`, `fit_seconds`.
    """
    import time

    from caseframe.errors import InvalidInput
    from caseframe.suggest.base import get_method
    from caseframe.suggest.evaluate import score

    if order not in ORDERS:
        raise InvalidInput(f"unknown order '{order}'", hint=f"use {' or '.join(ORDERS)}")
    if k < 1:
        raise InvalidInput(f"k must be at least 1, not {k}")
    texts = list(texts)
    Y = np.asarray(Y)
    n = len(texts)
    limit = min(n, max_labels or n)
    rng = np.random.default_rng(seed)
    shuffled = [int(i) for i in rng.permutation(n)]
    labelled = shuffled[: min(start or k, limit)]
    rest_random = shuffled[len(labelled) :]
    codes = [getattr(c, "code", None) or getattr(c, "key", None) or str(c) for c in codebook]
    say = on_progress or (lambda _m: None)
    curve: list[dict[str, Any]] = []
    while True:
        begin = time.perf_counter()
        try:
            # in pool order, so that the whole pool is the very fit `bench_active` compares with
            rows = sorted(labelled)
            fitted = get_method(method, **(options or {})).fit(
                [texts[i] for i in rows], Y[rows], codebook
            )
            decided = fitted.predict(list(test_texts))
        except InvalidInput:  # too few codings to learn anything yet: the model says nothing
            fitted, decided = None, np.zeros_like(Y_test)
        fit_s = time.perf_counter() - begin
        got = score(Y_test, decided, codes)
        curve.append(
            {
                "labels": len(labelled),
                "micro_f1": got["micro_f1"],
                "macro_f1": got["macro_f1"],
                "mean_kappa": got["mean_kappa"],
                "fit_seconds": round(fit_s, 2),
            }
        )
        say(f"{order}: {len(labelled)} labels, macro-F1 {got['macro_f1']:.3f}")
        if len(labelled) >= limit:
            return curve
        step = min(k, limit - len(labelled))
        taken = set(labelled)
        if order == "active" and fitted is not None:
            pool = [i for i in range(n) if i not in taken]
            ranked = next_units(
                fitted,
                [texts[i] for i in pool],
                Y[labelled].sum(axis=0),
                step,
                coverage_weight,
            )
            chosen = [pool[i] for i, _ in ranked]
        else:
            chosen = []
        # fill up at random (duplicates of chosen texts, or no model yet)
        chosen_set = set(chosen)
        for i in rest_random:
            if len(chosen) >= step:
                break
            if i not in taken and i not in chosen_set:
                chosen.append(i)
                chosen_set.add(i)
        labelled = labelled + chosen
        rest_random = [i for i in rest_random if i not in chosen_set]


def labels_to_reach(curve: Sequence[dict[str, Any]], target: float) -> int | None:
    """The fewest labels at which the curve's macro-F1 reaches `target` (None: never)."""
    for point in curve:
        if point["macro_f1"] == point["macro_f1"] and point["macro_f1"] >= target:
            return int(point["labels"])
    return None


def bench_active(
    dataset_dir: str | Path,
    method: str = "supervised",
    *,
    reference: str | None = None,
    k: int = 100,
    start: int | None = None,
    max_labels: int | None = None,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """`caseframe bench active`: simulate both orders on a coded-segment dataset (pool:
    split=train, scored on split=test against the reference coder) and report the learning
    curves and the labels each order needs to reach 90 % of the macro-F1 of a fit on the whole
    pool."""
    from caseframe.errors import InvalidInput
    from caseframe.interop.coded_dataset import read_coded_dataset
    from caseframe.suggest.base import get_method
    from caseframe.suggest.evaluate import label_matrix, score

    dataset = read_coded_dataset(dataset_dir)
    ref = dataset.reference_coder(reference)
    train, test = dataset.split("train"), dataset.split("test")
    if not train or not test:
        raise InvalidInput(
            "bench active needs segments with split=train (the pool) and split=test",
            where=str(Path(dataset_dir) / "segments.csv"),
            hint="mark the held-out segments with split=test and the rest with split=train",
        )
    texts = [s.text for s in train]
    Y = label_matrix(dataset, ref, [s.id for s in train])
    test_texts = [s.text for s in test]
    Y_test = label_matrix(dataset, ref, [s.id for s in test])
    full_method = get_method(method, **(options or {})).fit(texts, Y, dataset.codebook)
    full = score(Y_test, full_method.predict(test_texts), dataset.code_names)
    common = dict(
        method=method,
        options=options,
        k=k,
        start=start,
        max_labels=max_labels,
        seed=seed,
        on_progress=on_progress,
    )
    curves = {
        o: simulate(texts, Y, dataset.codebook, test_texts, Y_test, order=o, **common)
        for o in ORDERS
    }
    target = 0.9 * full["macro_f1"]
    return {
        "dataset": str(dataset_dir),
        "method": method,
        "reference": ref,
        "pool_units": len(texts),
        "test_units": len(test_texts),
        "k": k,
        "start": start or k,
        "seed": seed,
        "full": {key: full[key] for key in ("micro_f1", "macro_f1", "mean_kappa")},
        "target_macro_f1": target,
        "curves": curves,
        "labels_to_90pct": {o: labels_to_reach(curves[o], target) for o in ORDERS},
    }
