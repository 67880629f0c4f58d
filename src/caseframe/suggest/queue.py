"""The review queue's model: pending suggestions in the order `suggest next` would ask for them,
kept up to date while a person reviews.

The `supervised` method is fitted once on the human-coded units; the feature rows of the training
units and of the units with pending suggestions are kept. Every decision is a label for one unit
and one code (accepted 1, rejected 0). After every `k` decisions the classifiers of the codes
decided on are refitted on the training rows plus the reviewed rows for that code
(`SupervisedMethod.refit_codes`: no re-reading, no cross-validation for a code already learned),
and the pending units are scored again. The order is `active.pair_priority`: closeness of the
score to the code's threshold plus a bonus for codes with few human codings, as `next_units`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from caseframe.suggest.active import pair_priority
from caseframe.suggest.base import CodeSpec, get_method

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class QueueModel:
    """A fitted `supervised` method and the cached features of the queue's units."""

    specs: list[CodeSpec]
    train_texts: list[str]
    Y: np.ndarray  # training units x codes
    unit_texts: list[str]  # the units with pending suggestions (index = queue unit index)
    k: int = 10  # retrain after this many decisions
    options: dict[str, Any] = field(default_factory=dict)
    labels: dict[tuple[int, int], int] = field(default_factory=dict)  # (unit, code) -> 0/1
    touched: set[int] = field(default_factory=set)  # codes decided on since the last refit
    since: int = 0  # decisions since the last refit
    retrain_seconds: list[float] = field(default_factory=list)
    version: int = 0  # increases with every refit
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fit(self) -> QueueModel:
        self.method = get_method("supervised", **self.options).fit(
            self.train_texts, self.Y, self.specs
        )
        self.X_train = self.method.features(self.train_texts)
        self.X_units = self.method.features(self.unit_texts)
        self.P = self.method.predict_proba_features(self.X_units)
        return self

    @property
    def counts(self) -> np.ndarray:
        """Human-coded units per code, accepted suggestions included."""
        extra = np.zeros(len(self.specs))
        for (_, j), y in self.labels.items():
            extra[j] += y
        return self.Y.sum(axis=0) + extra

    def decide(self, decisions: Sequence[tuple[int, int, int]]) -> bool:
        """Record (unit, code, 0/1) decisions; True when a refit is due."""
        with self._lock:
            for unit, j, y in decisions:
                self.labels[(int(unit), int(j))] = int(y)
                self.touched.add(int(j))
            self.since += len(decisions)
            return self.since >= self.k

    def retrain(self) -> float:
        """Refit the codes decided on since the last refit and score the units again."""
        import scipy.sparse as sp

        start = time.perf_counter()
        with self._lock:
            codes, self.touched, self.since = sorted(self.touched), set(), 0
            labels = dict(self.labels)
        for j in codes:
            rows = [(u, y) for (u, jj), y in labels.items() if jj == j]
            X = sp.vstack([self.X_train, self.X_units[[u for u, _ in rows]]]).tocsr()
            Yj = np.zeros((X.shape[0], len(self.specs)), dtype=np.int8)
            Yj[: len(self.train_texts), j] = self.Y[:, j]
            Yj[len(self.train_texts) :, j] = [y for _, y in rows]
            self.method.refit_codes(X, Yj, [j])
        P = self.method.predict_proba_features(self.X_units)
        with self._lock:
            self.P = P
            self.version += 1
        seconds = time.perf_counter() - start
        self.retrain_seconds.append(seconds)
        return seconds

    def unit_priorities(self, units: Sequence[int], coverage_weight: float = 0.5) -> list[float]:
        """Priority of each unit over every code, as `next_units` ranks (the queue's order)."""
        pri = pair_priority(self.P, np.asarray(self.method.thresholds_, dtype=float), self.counts,
                            coverage_weight)  # fmt: skip
        return [float(pri[u].max()) for u in units]

    def priorities(
        self, pairs: Sequence[tuple[int, int]], coverage_weight: float = 0.5
    ) -> list[float]:
        """Priority of each (unit, code) pair under the current model."""
        P = self.P
        t = np.asarray(self.method.thresholds_, dtype=float)
        pri = pair_priority(P, t, self.counts, coverage_weight)
        return [float(pri[u, j]) for u, j in pairs]


def order_units(
    frame: pd.DataFrame,
    units: dict[int, tuple[int, int]],
    model: QueueModel | None = None,
    unit_index: dict[int, int] | None = None,
    code_index: dict[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Pending suggestions (a `suggestions_frame(reasons=True)`) grouped by unit, most useful
    first: where the model knows the unit, its `next_units` priority (every code's score); else
    the closeness of the stored score to the stored threshold. Each suggestion carries its own
    pair priority. `units`: suggestion id -> (unit id, code id)."""
    from caseframe.suggest.active import closeness

    pairs, where = [], []
    for n, sid in enumerate(frame["id"]):
        unit_id, code_id = units.get(int(sid), (None, None))
        if model is not None and unit_id in (unit_index or {}) and code_id in (code_index or {}):
            pairs.append((unit_index[unit_id], code_index[code_id]))
            where.append(n)
    fresh = dict(zip(where, model.priorities(pairs), strict=True)) if pairs else {}
    whole = (
        dict(zip(where, model.unit_priorities([u for u, _ in pairs]), strict=True)) if pairs else {}
    )
    groups: dict[Any, dict[str, Any]] = {}
    for n, row in enumerate(frame.to_dict("records")):
        score = row["score"] if row["score"] == row["score"] else 0.0
        threshold = row.get("threshold")
        threshold = 0.5 if threshold is None or threshold != threshold else threshold
        priority = fresh.get(n)
        if priority is None:
            priority = float(closeness(np.array([[score]]), np.array([threshold]))[0, 0])
        unit_id = units.get(int(row["id"]), (None, None))[0]
        key = unit_id if unit_id is not None else (row["document"], row["start"], row["end"])
        group = groups.setdefault(
            key,
            {
                "unit_id": unit_id,
                "document": row["document"],
                "start": int(row["start"]),
                "end": int(row["end"]),
                "text": row["text"],
                "priority": priority,
                "suggestions": [],
            },
        )
        # a unit the model knows ranks by all its codes' scores (as `next_units`), else by
        # the best of its suggestions
        group["priority"] = whole.get(n, max(group["priority"], priority))
        group["suggestions"].append(
            {k: _plain(v) for k, v in row.items() if k not in ("document", "text")}
            | {"priority": round(priority, 4)}
        )
    ordered = sorted(groups.values(), key=lambda g: (-g["priority"], g["document"], g["start"]))
    for g in ordered:
        g["priority"] = round(g["priority"], 4)
        g["suggestions"].sort(key=lambda s: -(s["score"] or 0))
    return ordered


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
