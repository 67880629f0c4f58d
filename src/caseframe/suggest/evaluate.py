"""Measuring suggestions against human coders: metrics, the learning curve, `bench suggest`.

Per code, each unit is a yes/no decision, so agreement is Cohen's κ and Gwet's AC1 on that binary
table. Macro figures average over the codes the reference applies at least once on the test units
(a code nobody used has no defined F1 or κ). `averages` gives the same means over other sets of
codes (all codes, codes seen in training) so that figures from other reports compare like with like.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

from caseframe.analysis import agreement_stats
from caseframe.errors import InvalidInput
from caseframe.interop.coded_dataset import CONSENSUS, CodedDataset, read_coded_dataset
from caseframe.suggest.base import SuggestionMethod, get_method

LEARNING_CURVE = (0.05, 0.10, 0.25, 0.50, 1.00)


def gwet_ac1(a: np.ndarray, b: np.ndarray) -> float:
    """Gwet's AC1 for two raters' binary decisions on the same units (nan if undefined)."""
    a = np.asarray(a).astype(int)
    b = np.asarray(b).astype(int)
    if a.size == 0:
        return float("nan")
    yes = a + b
    value = agreement_stats.gwet_ac1(np.stack([yes, 2 - yes], axis=1)).value
    return float("nan") if value is None else float(value)


def kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's κ; 1 when both raters agree perfectly on a constant, nan if undefined."""
    a = np.asarray(a).astype(int)
    b = np.asarray(b).astype(int)
    if a.size == 0:
        return float("nan")
    if (a == b).all():
        return 1.0
    if len(set(a.tolist()) | set(b.tolist())) < 2:
        return float("nan")
    return float(cohen_kappa_score(a, b))


def _mean(values: Sequence[float]) -> float:
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def score(
    Y_true: np.ndarray, Y_pred: np.ndarray, codes: Sequence[str], *, symmetric: bool = False
) -> dict[str, Any]:
    """Precision/recall/F1 per code and overall, κ and AC1 per code and their means.

    Means run over the codes the reference applied; `symmetric` (two humans, neither the
    reference) takes the codes either side applied.
    """
    Y_true = np.asarray(Y_true).astype(int)
    Y_pred = np.asarray(Y_pred).astype(int)
    if Y_true.ndim == 2 and Y_true.shape[1] == 1:
        # scikit-learn reads a one-column matrix as binary labels, not as one code's column
        p, r, f, support = precision_recall_fscore_support(
            Y_true[:, 0], Y_pred[:, 0], labels=[1], zero_division=0
        )
    else:
        p, r, f, support = precision_recall_fscore_support(Y_true, Y_pred, zero_division=0)
    tp = int((Y_true & Y_pred).sum())
    micro_p = tp / max(int(Y_pred.sum()), 1)
    micro_r = tp / max(int(Y_true.sum()), 1)
    micro_f = 2 * tp / max(int(Y_pred.sum() + Y_true.sum()), 1)
    used = support > 0
    if symmetric:
        used = used | (Y_pred.sum(axis=0) > 0)
    per_code = {}
    for j, code in enumerate(codes):
        per_code[code] = {
            "support": int(support[j]),
            "predicted": int(Y_pred[:, j].sum()),
            "precision": float(p[j]),
            "recall": float(r[j]),
            "f1": float(f[j]),
            "kappa": kappa(Y_true[:, j], Y_pred[:, j]),
            "ac1": gwet_ac1(Y_true[:, j], Y_pred[:, j]),
        }
    scored = [c for c, u in zip(codes, used, strict=True) if u]
    extra = {}
    if Y_true.size and (Y_true.sum(axis=1) == 1).all() and (Y_pred.sum(axis=1) == 1).all():
        # single-label data: the usual one-table κ over all codes as well
        extra["multiclass_kappa"] = kappa(Y_true.argmax(axis=1), Y_pred.argmax(axis=1))
    return extra | {
        "units": int(Y_true.shape[0]),
        "codes_scored": len(scored),
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "micro_f1": micro_f,
        "macro_f1": _mean([per_code[c]["f1"] for c in scored]),
        "mean_kappa": _mean([per_code[c]["kappa"] for c in scored]),
        "mean_ac1": _mean([per_code[c]["ac1"] for c in scored]),
        "per_code": per_code,
    }


def averages(
    result: dict[str, Any], train_counts: Sequence[int] | np.ndarray | None = None
) -> dict[str, dict[str, float]]:
    """Macro-F1 and mean κ of a `score` result over other sets of codes.

    - `test_support` (the headline figures): codes the reference applied on the test units.
    - `all_codes`: every codebook code; an undefined F1 counts as 0 (scikit-learn's
      zero_division=0) and a code neither side applied counts κ = 1 (perfect agreement on "no"),
      which lifts mean κ above macro-F1 when many codes are unused.
    - `trained_codes` / `trained_and_tested`: codes with at least one training coding (F1 0 and
      κ as above where the test units lack them) / also applied on the test units.
    """
    codes = list(result["per_code"])
    f1 = np.array([result["per_code"][c]["f1"] for c in codes])
    kap = np.array([result["per_code"][c]["kappa"] for c in codes])
    support = np.array([result["per_code"][c]["support"] for c in codes]) > 0
    sets = {"test_support": support, "all_codes": np.ones(len(codes), bool)}
    if train_counts is not None:
        trained = np.asarray(train_counts) > 0
        sets |= {"trained_codes": trained, "trained_and_tested": trained & support}
    return {
        name: {
            "codes": int(keep.sum()),
            "macro_f1": _mean(f1[keep].tolist()),
            "mean_kappa": _mean(kap[keep].tolist()),
        }
        for name, keep in sets.items()
    }


def label_matrix(dataset: CodedDataset, coder: str, segment_ids: Sequence[str]) -> np.ndarray:
    labels = dataset.labels(coder)
    codes = dataset.code_names
    return np.array([[c in labels[s] for c in codes] for s in segment_ids], dtype=np.int8).reshape(
        len(segment_ids), len(codes)
    )


def human_agreement(
    dataset: CodedDataset, segment_ids: Sequence[str], coders: Sequence[str]
) -> dict[str, Any] | None:
    """Mean pairwise per-code κ / AC1 and micro-F1 among human coders on the same units."""
    coders = list(coders)
    if len(coders) < 2:
        return None
    mats = {c: label_matrix(dataset, c, segment_ids) for c in coders}
    pairs = [
        score(mats[a], mats[b], dataset.code_names) for a, b in itertools.combinations(coders, 2)
    ]
    return {
        "coders": coders,
        "pairs": len(pairs),
        "micro_f1": _mean([p["micro_f1"] for p in pairs]),
        "macro_f1": _mean([p["macro_f1"] for p in pairs]),
        "mean_kappa": _mean([p["mean_kappa"] for p in pairs]),
        "mean_ac1": _mean([p["mean_ac1"] for p in pairs]),
    } | (
        {"multiclass_kappa": _mean([p["multiclass_kappa"] for p in pairs])}
        if all("multiclass_kappa" in p for p in pairs)
        else {}
    )


def calibration(Y_true: np.ndarray, P: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """How honest the scores are, over every (unit, code) cell: the Brier score (mean squared
    difference between score and 0/1 truth; 0 is perfect) and a reliability table (cells grouped
    by score into equal-width bins: how many, their mean score, how often the code was there).
    A calibrated method has `observed` close to `mean_score` in every bin."""
    y = np.asarray(Y_true, dtype=float).ravel()
    p = np.clip(np.asarray(P, dtype=float).ravel(), 0.0, 1.0)
    if not y.size:
        return {"brier": float("nan"), "cells": 0, "reliability": []}
    which = np.minimum((p * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        table.append(
            {
                "low": b / bins,
                "high": (b + 1) / bins,
                "cells": n,
                "mean_score": float(p[inside].mean()) if n else float("nan"),
                "observed": float(y[inside].mean()) if n else float("nan"),
            }
        )
    filled = [r for r in table if r["cells"]]
    ece = sum(r["cells"] * abs(r["mean_score"] - r["observed"]) for r in filled) / y.size
    return {
        "brier": float(np.mean((p - y) ** 2)),
        "expected_calibration_error": float(ece),
        "cells": int(y.size),
        "reliability": table,
    }


def gate(decided: np.ndarray, code_kappa: np.ndarray | None, floor: float) -> np.ndarray:
    """Decisions with every code whose out-of-fold κ is below `floor` (or unmeasured) removed:
    what a project offers (see `api.suggest`). Without κ figures nothing is removed."""
    if code_kappa is None:
        return decided
    keep = np.nan_to_num(np.asarray(code_kappa, dtype=float), nan=-1.0) >= floor
    return decided * keep[None, :].astype(decided.dtype)


def run_method(
    method: SuggestionMethod,
    train_texts: list[str],
    Y_train: np.ndarray | None,
    codebook: Sequence[Any],
    test_texts: list[str],
) -> tuple[np.ndarray, float, float]:
    """Fit, predict; return (decisions, fit seconds, units per second)."""
    start = time.perf_counter()
    method.fit(train_texts, Y_train, codebook)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    decided = method.predict(test_texts)
    elapsed = time.perf_counter() - start
    return decided, fit_seconds, len(test_texts) / max(elapsed, 1e-9)


def run_method_scores(
    method: SuggestionMethod,
    train_texts: list[str],
    Y_train: np.ndarray | None,
    codebook: Sequence[Any],
    test_texts: list[str],
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit, score, decide; return (scores, decisions, fit seconds, units per second)."""
    start = time.perf_counter()
    method.fit(train_texts, Y_train, codebook)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    P = method.predict_proba(test_texts)
    decided = method.decide(P)
    elapsed = time.perf_counter() - start
    return P, decided, fit_seconds, len(test_texts) / max(elapsed, 1e-9)


def bench_suggest(
    dataset_dir: str | Path,
    method: str = "supervised",
    reference: str | None = None,
    zero_shot: bool = False,
    learning_curve: bool = False,
    *,
    options: dict[str, Any] | None = None,
    seed: int = 0,
    train_dir: str | Path | None = None,
    min_kappa: float = 0.4,
) -> dict[str, Any]:
    """Fit on split=train (nothing but the codebook with `zero_shot`), predict split=test, score.

    `train_dir` takes the training units from another dataset with the same codes (used where the
    multi-coder test units live in a folder of their own). Test labels are read only after
    prediction, for scoring. Besides the figures of every decision, `calibration` says how
    honest the scores are and `gated` scores only the codes a project would offer (out-of-fold
    κ on the training codings at least `min_kappa`).
    """
    dataset = read_coded_dataset(dataset_dir)
    ref = dataset.reference_coder(reference)
    test = dataset.split("test")
    source, source_ref = dataset, ref
    if train_dir is not None:
        source = read_coded_dataset(train_dir)
        source_ref = source.reference_coder(None)
        if source.code_names != dataset.code_names:
            raise InvalidInput(
                "the training dataset's codes differ from the test dataset's",
                where=str(train_dir),
                hint="both codebook.csv files must list the same codes in the same order",
            )
    train = source.split("train")
    if not test:
        raise InvalidInput(
            "no segments with split=test",
            where=str(Path(dataset_dir) / "segments.csv"),
            hint="mark the held-out segments with split=test",
        )
    if not train and not zero_shot:
        raise InvalidInput(
            "no segments with split=train",
            where=str(Path(dataset_dir) / "segments.csv"),
            hint="mark training segments with split=train, or use --zero-shot",
        )
    codes = dataset.code_names
    train_texts = [s.text for s in train]
    test_texts = [s.text for s in test]
    Y_train = None if zero_shot else label_matrix(source, source_ref, [s.id for s in train])

    test_ids = [s.id for s in test]

    def once(fraction: float) -> tuple[dict[str, Any], np.ndarray]:
        texts, Y = train_texts, Y_train
        if Y is not None and fraction < 1:
            rng = np.random.default_rng(seed)
            keep = np.sort(rng.permutation(len(texts))[: max(1, round(fraction * len(texts)))])
            texts, Y = [texts[i] for i in keep], Y[keep]
        m = get_method(method, **(options or {}))
        fit_texts = [] if zero_shot else texts
        P, decided, fit_s, ups = run_method_scores(m, fit_texts, Y, dataset.codebook, test_texts)
        truth = label_matrix(dataset, ref, test_ids)
        result = score(truth, decided, codes)
        result["averages"] = averages(result, None if Y is None else Y.sum(axis=0))
        result["calibration"] = calibration(truth, P)
        if m.code_kappa_ is not None:
            offered = gate(decided, m.code_kappa_, min_kappa)
            gated = score(truth, offered, codes)
            result["gated"] = {k: v for k, v in gated.items() if k != "per_code"} | {
                "min_kappa": min_kappa,
                "codes_offered": [
                    c
                    for c, k in zip(codes, np.nan_to_num(m.code_kappa_, nan=-1.0), strict=True)
                    if k >= min_kappa
                ],
            }
        result.update(
            fit_seconds=fit_s, units_per_second=ups, train_units=0 if zero_shot else len(texts)
        )
        return result, decided

    result, decided = once(1.0)
    result.update(
        dataset=str(dataset_dir),
        method=method,
        reference=ref,
        zero_shot=zero_shot,
        test_units=len(test),
    )
    if len(dataset.coders) > 1:
        result["human_human"] = human_agreement(
            dataset, test_ids, [c for c in dataset.coders if c != CONSENSUS]
        )
        result["method_vs_coders"] = {
            c: {
                k: v
                for k, v in score(label_matrix(dataset, c, test_ids), decided, codes).items()
                if k != "per_code"
            }
            for c in dataset.coders
        }
    if learning_curve and not zero_shot:
        curve = []
        for f in LEARNING_CURVE:
            try:
                r, _ = once(f)
            except InvalidInput as exc:  # too few codings at this fraction: say so, go on
                curve.append({"fraction": f, "skipped": exc.line()})
                continue
            skip = ("per_code", "calibration", "gated")
            curve.append({k: v for k, v in r.items() if k not in skip} | {"fraction": f})
        result["learning_curve"] = curve
    return result
