"""Agreement between coders on meaning units: per-code tables with bootstrap CIs and readings.

Input is a :class:`CodingMatrix` (:mod:`caseframe.analysis.agreement_matrix`). Each code is a
binary decision per unit; every coefficient is computed on an explicit unit set, stated in the
output (``statistics[name] = {value, units, convention, reason}``):

* percent agreement, Gwet's AC1 and Krippendorff's alpha on the *pairable* units (coded by at
  least two of the selected coders);
* Fleiss' and Cohen's kappa on the *complete* units (coded by every selected coder).

No figure lies outside [-1, 1]; an undefined one is ``None`` with its reason. Codes that no
selected coder applied to a pairable unit are not rows: they are listed in ``not_applied``.

Overall figures: ``pooled`` treats every (unit, code) decision of the applied codes as one
rating item (codes with many decisions weigh more); ``mean_over_codes`` is the plain mean of the
per-code values that are defined. Both are resampled over pairable units in one bootstrap.

Disagreement lists and consensus rules are in :mod:`caseframe.analysis.agreement_consensus`,
the coded-segment dataset reader in :mod:`caseframe.analysis.agreement_dataset`; both are
re-exported here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from caseframe.analysis.agreement_consensus import (  # noqa: F401 - re-exported
    RULES,
    Disagreement,
    Rule,
    Unresolved,
    consensus,
    disagreements,
)
from caseframe.analysis.agreement_dataset import matrix_from_dataset  # noqa: F401
from caseframe.analysis.agreement_engine import (
    COEFFICIENTS,
    CONVENTION,
    UNIT_SETS,
    coefficients,
    features,
    point_sums,
    with_pooled,
)
from caseframe.analysis.agreement_engine import bootstrap as resample
from caseframe.analysis.agreement_matrix import (  # noqa: F401 - re-exported
    CodingMatrix,
    UnitInfo,
    check_agreement_input,
)
from caseframe.analysis.agreement_readings import RARE, reading, undefined_reason  # noqa: F401
from caseframe.analysis.agreement_stats import KRIPPENDORFF_CAVEAT, LANDIS_KOCH_CAVEAT
from caseframe.errors import NotFound

_BOUND = 1e-9  # numerical slack around [-1, 1]


@dataclass
class CodeAgreement:
    code: str
    units: int  # pairable units: coded by two or more of the selected coders
    applied: dict[str, int]  # how many units each coder applied the code to
    prevalence: dict[str, float]  # ... as a share of the units that coder saw
    values: dict[str, float | None]  # COEFFICIENTS -> value
    ci: dict[str, tuple[float, float] | None]
    notes: list[str] = field(default_factory=list)
    reading: str = ""
    statistics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "units": self.units}
        out.update(self.values)
        out["statistics"] = self.statistics
        out["prevalence"] = self.prevalence
        out["applied"] = self.applied
        out["ci"] = {k: (list(v) if v else None) for k, v in self.ci.items()}
        out["notes"] = self.notes
        out["reading"] = self.reading
        return out


@dataclass
class AgreementReport:
    coders: list[str]
    per_code: list[CodeAgreement]
    overall: dict[str, Any]
    bootstrap: int
    seed: int
    confidence: float = 0.95
    not_applied: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"per_code": [c.to_json() for c in self.per_code], "overall": self.overall}

    def code(self, name: str) -> CodeAgreement:
        for c in self.per_code:
            if c.code == name:
                return c
        if name in self.not_applied:
            raise NotFound(
                f"no selected coder applied '{name}' to a unit two of them coded",
                hint="it is listed under codes_not_applied, not as a row of figures",
            )
        raise NotFound(f"code '{name}' is not in this report")


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float] | None:
    ok = samples[~np.isnan(samples)]
    # when more than half of the resamples leave the figure undefined, an interval misleads
    if ok.size == 0 or ok.size < samples.size / 2:
        return None
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(max(lo, -1.0)), float(min(hi, 1.0))


def _statistics(
    point: dict[str, np.ndarray], j: int, n_coders: int, scale: int = 1
) -> dict[str, dict]:
    """name -> {value, units, convention, reason} for column j of the point estimates
    (`scale`: the number of codes the pooled column sums over)."""
    out = {}
    for name in COEFFICIENTS:
        conv = CONVENTION[name]
        units = int(round(float(point[f"units_{conv}"][j]) / scale))
        raw = float(point[name][j])
        value: float | None = None if np.isnan(raw) else raw
        reason = None
        if value is None:
            share = point[f"share_{conv}"][j]
            share_value = None if np.isnan(share) else float(share)
            if name == "percent_agreement" or name == "gwet_ac1":
                share_value = None  # defined whenever there is a unit; the reason is "no units"
            reason = undefined_reason(name, units, share_value, n_coders, UNIT_SETS[conv])
        elif value < -1 - _BOUND or value > 1 + _BOUND:
            value, reason = None, f"computed value {raw:.3g} lies outside [-1, 1]"
        elif value < -1 or value > 1:
            value = float(np.clip(value, -1.0, 1.0))
        out[name] = {"value": value, "units": units, "convention": conv, "reason": reason}
    return out


def _undefined_notes(stats: dict[str, dict[str, Any]]) -> list[str]:
    alpha = stats["krippendorff_alpha"]
    if alpha["value"] is not None:
        return []
    return [
        f"alpha and kappa are undefined ({alpha['reason']}); percent agreement and AC1 are 1 "
        "by construction when every coder decides alike on every unit"
    ]


def per_code_agreement(
    matrix: CodingMatrix, bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> AgreementReport:
    """Agreement per code (binary: applied or not) with percentile bootstrap CIs over units.

    Cohen's kappa is given only with exactly two coders. Units a coder did not see are missing
    for that coder. ``bootstrap=0`` skips the intervals.
    """
    samples = bootstrap
    check_agreement_input(matrix)
    n_coders = len(matrix.coders)
    feats = features(matrix.seen, matrix.applied)
    applied_any = feats.applied_any()  # someone applied it on a pairable unit
    n_pooled = int(applied_any.sum())
    per_code = with_pooled(feats, applied_any)
    point = coefficients(
        *point_sums(feats, per_code, n_pooled), n_pooled, feats.two, feats.same_sets
    )
    boot = resample(feats, per_code, n_pooled, samples, seed) if samples > 0 and n_pooled else None
    units = int(feats.shared.shape[0])
    seen_count = matrix.seen.sum(axis=0)
    applied_count = matrix.applied.sum(axis=0)  # [coders, codes]
    names = [c for c in COEFFICIENTS if n_coders == 2 or c != "cohen_kappa"]

    per: list[CodeAgreement] = []
    for j, code in enumerate(matrix.codes):
        if not applied_any[j]:
            continue
        stats = _statistics(point, j, n_coders)
        values = {name: stats[name]["value"] for name in COEFFICIENTS}
        ci: dict[str, tuple[float, float] | None] = {name: None for name in COEFFICIENTS}
        if boot is not None:
            for name in names:
                if values[name] is not None:
                    ci[name] = _interval(boot[name][:, j], confidence)
        for name in COEFFICIENTS:
            stats[name]["ci"] = list(ci[name]) if ci[name] else None
        applied = {c: int(applied_count[i, j]) for i, c in enumerate(matrix.coders)}
        prevalence = {
            c: (applied[c] / int(seen_count[i]) if seen_count[i] else 0.0)
            for i, c in enumerate(matrix.coders)
        }
        per.append(
            CodeAgreement(
                code,
                units,
                applied,
                prevalence,
                values,
                ci,
                _undefined_notes(stats),
                reading(stats, ci, prevalence, n_coders),
                stats,
            )
        )
    not_applied = [c for j, c in enumerate(matrix.codes) if not applied_any[j]]
    overall = _overall(matrix, per, point, boot, n_pooled, units, samples, seed, confidence)
    overall["codes_not_applied"] = not_applied
    return AgreementReport(
        list(matrix.coders), per, overall, samples, seed, confidence, not_applied
    )


def _overall(
    matrix: CodingMatrix,
    per: list[CodeAgreement],
    point: dict[str, np.ndarray],
    boot: dict[str, np.ndarray] | None,
    n_pooled: int,
    units: int,
    samples: int,
    seed: int,
    confidence: float,
) -> dict[str, Any]:
    n_coders = len(matrix.coders)
    stats = _statistics(point, -1, n_coders, n_pooled) if n_pooled else _empty_stats(n_coders)
    pooled = {name: stats[name]["value"] for name in COEFFICIENTS}
    pooled_ci = {
        name: (
            _interval(boot[name][:, -1], confidence)
            if boot is not None and pooled[name] is not None
            else None
        )
        for name in COEFFICIENTS
    }
    for name in COEFFICIENTS:
        stats[name]["ci"] = list(pooled_ci[name]) if pooled_ci[name] else None
    mean = {name: _mean_defined([c.values[name] for c in per]) for name in COEFFICIENTS}
    mean_ci: dict[str, Any] = {}
    applied_cols = [j for j, c in enumerate(matrix.codes) if c in {p.code for p in per}]
    for name in COEFFICIENTS:
        if boot is None or mean[name] is None:
            mean_ci[name] = None
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-undefined resamples
            drawn = np.nanmean(boot[name][:, applied_cols], axis=1)
        mean_ci[name] = _interval(drawn, confidence)
    return {
        "units": units,
        "units_complete": int((matrix.seen.sum(axis=1) == n_coders).sum()),
        "codes": len(per),
        "coders": list(matrix.coders),
        "decisions": units * len(per),
        **pooled,
        "statistics": stats,
        "conventions": dict(UNIT_SETS),
        "ci": {k: (list(v) if v else None) for k, v in pooled_ci.items()},
        "method": "pooled: every (unit, code) decision of the applied codes is one rating item",
        "mean_over_codes": {
            **mean,
            "ci": {k: (list(v) if v else None) for k, v in mean_ci.items()},
            "codes_defined": {
                name: sum(c.values[name] is not None for c in per) for name in COEFFICIENTS
            },
        },
        "reading": reading(stats, pooled_ci, {}, n_coders) if n_pooled else _no_codes_reading(),
        "caveat": f"{LANDIS_KOCH_CAVEAT} {KRIPPENDORFF_CAVEAT}",
        "bootstrap": {
            "samples": samples,
            "seed": seed,
            "confidence": confidence,
            "over": "pairable units",
        },
    }


def _empty_stats(n_coders: int) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "value": None,
            "units": 0,
            "convention": CONVENTION[name],
            "reason": "no selected coder applied any of the codes to a shared unit",
        }
        for name in COEFFICIENTS
    }


def _no_codes_reading() -> str:
    return "No selected coder applied any of the codes to a unit two of them coded."


def _mean_defined(values: Iterable[float | None]) -> float | None:
    ok = [v for v in values if v is not None]
    return float(np.mean(ok)) if ok else None
