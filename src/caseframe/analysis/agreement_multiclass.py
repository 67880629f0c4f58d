"""Several codes as the mutually exclusive values of one nominal variable (one alpha).

A coder's value for a unit is the one code they applied there; none or several is missing for
that coder. Percent agreement, Gwet's AC1 and Krippendorff's alpha are on the units two or more
coders rated; Fleiss' kappa on the units every coder rated (the same unit sets as per code).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caseframe.analysis.agreement_matrix import CodingMatrix, check_agreement_input
from caseframe.analysis.agreement_stats import (
    Coefficient,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha_counts,
    percent_agreement,
    ratings_to_counts,
)
from caseframe.errors import InvalidInput

CONVENTION = {
    "percent_agreement": "pairable",
    "fleiss_kappa": "complete",
    "krippendorff_alpha": "pairable",
    "gwet_ac1": "pairable",
}


def _bounded(c: Coefficient) -> tuple[float | None, str | None]:
    if c.value is None:
        return None, c.reason
    if not -1 - 1e-9 <= c.value <= 1 + 1e-9:
        return None, f"computed value {c.value:.3g} lies outside [-1, 1]"
    return float(np.clip(c.value, -1.0, 1.0)), None


def multiclass(matrix: CodingMatrix) -> dict[str, Any]:
    check_agreement_input(matrix)
    if len(matrix.codes) < 2:
        raise InvalidInput(
            "multi-class agreement needs two or more codes", hint="name them with --codes"
        )
    n_applied = matrix.applied.sum(axis=2)  # [U, K]
    value = np.argmax(matrix.applied, axis=2).astype(float)
    value[(n_applied != 1) | ~matrix.seen] = np.nan
    counts, _ = ratings_to_counts(value.T, categories=list(range(len(matrix.codes))))
    rated = counts.sum(axis=1)
    sets = {"pairable": rated >= 2, "complete": rated == len(matrix.coders)}
    figures = {
        "percent_agreement": percent_agreement(counts[sets["pairable"]]),
        "fleiss_kappa": fleiss_kappa(counts[sets["complete"]]),
        "krippendorff_alpha": krippendorff_alpha_counts(counts[sets["pairable"]]),
        "gwet_ac1": gwet_ac1(counts[sets["pairable"]]),
    }
    statistics = {}
    for name, c in figures.items():
        v, reason = _bounded(c)
        units = int(sets[CONVENTION[name]].sum())
        if v is None and units == 0:
            reason = (
                "no unit was rated by every coder"
                if CONVENTION[name] == "complete"
                else "no unit was rated by two or more coders"
            )
        statistics[name] = {
            "value": v,
            "units": units,
            "convention": CONVENTION[name],
            "reason": reason,
        }
    return {
        "codes": list(matrix.codes),
        "coders": list(matrix.coders),
        "units": int(sets["pairable"].sum()),
        "units_complete": int(sets["complete"].sum()),
        "multi_coded": int(((n_applied > 1) & matrix.seen).sum()),
        **{k: s["value"] for k, s in statistics.items()},
        "statistics": statistics,
        "notes": sorted({s["reason"] for s in statistics.values() if s["reason"]}),
    }
