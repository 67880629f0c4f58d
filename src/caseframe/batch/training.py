"""Training a suggestion method for batch use, with cross-validated figures per code.

The figures come from k-fold cross-validation on the training units only: each fold's model is
fitted on the other folds and decides the held-out units; the out-of-fold decisions of all
folds are then scored against the human labels (precision, recall, F1, Cohen's κ per code, as
`caseframe.suggest.evaluate.score` computes them). The model that is saved is fitted on all
training units. Nothing about the rows a batch run will code is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

    from caseframe.suggest.base import CodeSpec, SuggestionMethod

Progress = Callable[[str], None]


@dataclass
class TrainingSet:
    """Texts, their 0/1 labels (units × codes, in `specs` order) and what the codes mean."""

    texts: list[str]
    Y: np.ndarray
    specs: list[CodeSpec]
    source: str

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.specs]


def from_dataset(
    folder: str | Path,
    reference: str | None = None,
    codes: Sequence[str] | None = None,
    include_test: bool = False,
) -> TrainingSet:
    """A coded-segment dataset's reference labels (FORMATS.md); split=test is left out unless
    `include_test`, so that the held-out units stay held out for `bench suggest`."""
    import numpy as np

    from caseframe.interop.coded_dataset import read_coded_dataset
    from caseframe.suggest.base import CodeSpec
    from caseframe.util.names import unknown

    data = read_coded_dataset(folder)
    coder = data.reference_coder(reference)
    entries = data.codebook
    if codes:
        known = {e.code: e for e in entries}
        for name in codes:
            if name not in known:
                raise unknown("code", name, known)
        entries = [known[name] for name in dict.fromkeys(codes)]
    segments = [s for s in data.segments if include_test or s.split != "test"]
    if not segments:
        raise InvalidInput(
            "the dataset has no training segments",
            where=str(folder),
            hint="mark fewer segments split=test, or pass --include-test",
        )
    labels = data.labels(coder)
    Y = np.array(
        [[e.code in labels[s.id] for e in entries] for s in segments], dtype=np.int8
    ).reshape(len(segments), len(entries))
    specs = [CodeSpec(e.code, e.definition, tuple(e.examples)) for e in entries]
    return TrainingSet([s.text for s in segments], Y, specs, f"dataset {folder} (coder {coder})")


def unit_labels(
    units: Sequence[tuple[int, int, int]],
    codings: Sequence[tuple[int, int, int, int]],
    n_codes: int,
) -> np.ndarray:
    """0/1 labels of units (document, start, end) from codings (document, start, end, code
    index): a unit carries a code when a coding of it overlaps the unit by at least half of
    the shorter of the two (the rule agreement and `suggest run` use)."""
    import numpy as np

    Y = np.zeros((len(units), n_codes), dtype=np.int8)
    by_doc: dict[int, list[tuple[int, int, int]]] = {}
    for doc, start, end, j in codings:
        by_doc.setdefault(doc, []).append((start, end, j))
    for i, (doc, start, end) in enumerate(units):
        for s, e, j in by_doc.get(doc, ()):
            overlap = min(end, e) - max(start, s)
            shorter = min(end - start, e - s)
            if overlap > 0 and 2 * overlap >= shorter:
                Y[i, j] = 1
    return Y


def cross_validate(
    method: str,
    options: dict[str, Any],
    data: TrainingSet,
    folds: int = 5,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Out-of-fold figures: per code (support, predicted, precision, recall, f1, kappa) and
    overall (micro/macro F1, mean κ)."""
    import numpy as np
    from sklearn.model_selection import KFold

    from caseframe.suggest.base import get_method
    from caseframe.suggest.evaluate import score

    n = len(data.texts)
    folds = min(folds, n)
    if folds < 2:
        raise InvalidInput(f"cross-validation needs at least 2 folds and 2 units, not {folds}")
    say = on_progress or (lambda _m: None)
    decided = np.zeros_like(data.Y)
    split = KFold(folds, shuffle=True, random_state=seed).split(np.arange(n))
    for k, (train, held) in enumerate(split, start=1):
        say(f"cross-validation fold {k} of {folds}")
        fitted = get_method(method, **options).fit(
            [data.texts[i] for i in train], data.Y[train], data.specs
        )
        decided[held] = fitted.predict([data.texts[i] for i in held])
    result = score(data.Y, decided, data.codes)
    keep = ("support", "predicted", "precision", "recall", "f1", "kappa")
    return {
        "folds": folds,
        "seed": seed,
        "units": n,
        "micro_f1": result["micro_f1"],
        "macro_f1": result["macro_f1"],
        "mean_kappa": result["mean_kappa"],
        "per_code": {c: _figures(v, keep) for c, v in result["per_code"].items()},
    }


def _figures(per_code: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """A code the training units never carry has no defined precision, recall, F1 or κ."""
    out = {k: per_code[k] for k in keep}
    if not per_code["support"]:
        out.update(precision=None, recall=None, f1=None, kappa=None)
    return out


def train(
    method: str,
    options: dict[str, Any],
    data: TrainingSet,
    folds: int = 5,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> tuple[SuggestionMethod, dict[str, Any], dict[str, Any]]:
    """(fitted method, training summary, cross-validated figures)."""
    from caseframe.suggest.base import get_method

    if not data.Y.any():
        raise InvalidInput(
            "the training units carry none of these codes",
            hint="code some units first, or choose other codes",
        )
    cv = cross_validate(method, options, data, folds, seed, on_progress) if folds else {}
    say = on_progress or (lambda _m: None)
    say(f"fitting {method} on {len(data.texts)} units")
    start = time.perf_counter()
    fitted = get_method(method, **options).fit(data.texts, data.Y, data.specs)
    summary = {
        "source": data.source,
        "units": len(data.texts),
        "codes": len(data.specs),
        "positives": {c: int(k) for c, k in zip(data.codes, data.Y.sum(axis=0), strict=True)},
        "untrained": dict(getattr(fitted, "untrained_codes_", {}) or {}),
        "fit_seconds": round(time.perf_counter() - start, 2),
        "code_definitions": {s.code: s.definition for s in data.specs if s.definition},
    }
    return fitted, summary, cv
