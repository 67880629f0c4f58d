"""Two raters' agreement on ordinal component ratings (SIS 0–3): exact and within-one agreement,
Cohen's κ, quadratic weighted κ (scikit-learn) and ordinal Krippendorff α (`krippendorff`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from caseframe.analysis.agreement_stats import (
    Coefficient,
    cohen_kappa,
    percent_agreement,
    ratings_to_counts,
)
from caseframe.model import Scale


@dataclass
class RatingAgreement:
    """Two raters' agreement on ordinal ratings (units: site × date × component rated by both).

    Exact and within-one agreement and Cohen's κ treat the ratings as categories; quadratic
    weighted κ and ordinal Krippendorff α credit near misses, which suits a 0–3 scale.
    """

    raters: tuple[str, str]
    units: int
    exact: Coefficient
    within_one: float | None
    cohen_kappa: Coefficient
    weighted_kappa: Coefficient  # quadratic weights
    alpha_ordinal: Coefficient
    per_site: pd.DataFrame  # site, assessed_on, units, exact, mean_abs_difference
    disagreements: pd.DataFrame  # site, assessed_on, component, rating_a, rating_b

    def to_dict(self) -> dict:
        def coef(c: Coefficient) -> dict:
            return {"value": c.value, "reason": c.reason}

        return {
            "raters": list(self.raters),
            "units": self.units,
            "exact": coef(self.exact),
            "within_one": self.within_one,
            "cohen_kappa": coef(self.cohen_kappa),
            "weighted_kappa_quadratic": coef(self.weighted_kappa),
            "alpha_ordinal": coef(self.alpha_ordinal),
            "per_site": self.per_site.to_dict(orient="records"),
            "disagreements": self.disagreements.to_dict(orient="records"),
        }


def weighted_kappa(a: Sequence[int], b: Sequence[int], scale: Scale) -> Coefficient:
    """Cohen's κ with quadratic weights (scikit-learn), over the whole scale's categories."""
    import warnings

    from sklearn.metrics import cohen_kappa_score

    a_arr, b_arr = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    units = len(a_arr)
    if units == 0:
        return Coefficient(None, None, None, 0, "the two raters share no rated component")
    if len(set(a_arr.tolist()) | set(b_arr.tolist())) < 2:
        return Coefficient(
            None, 1.0, 1.0, units, "every rating is the same value: nothing to correct for"
        )
    labels = list(range(scale.minimum, scale.maximum + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(cohen_kappa_score(a_arr, b_arr, labels=labels, weights="quadratic"))
    if math.isnan(value):
        return Coefficient(None, None, None, units, "chance disagreement is 0")
    return Coefficient(value, None, None, units)


def ordinal_alpha(reliability_data: np.ndarray, scale: Scale) -> Coefficient:
    """Krippendorff's α for ordinal data (the `krippendorff` package); raters × units, NaN =
    missing. The whole scale is the value domain, so unused ranks still shape the metric."""
    import krippendorff

    data = np.asarray(reliability_data, dtype=float)
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    units = int(pairable.sum())
    if units == 0:
        return Coefficient(None, None, None, 0, "no component was rated by two raters")
    values = np.unique(data[:, pairable][~np.isnan(data[:, pairable])])
    if len(values) < 2:
        return Coefficient(None, 1.0, 1.0, units, "every rating is the same value: no variation")
    value = float(
        krippendorff.alpha(
            reliability_data=data,
            level_of_measurement="ordinal",
            value_domain=list(range(scale.minimum, scale.maximum + 1)),
        )
    )
    return Coefficient(value, None, None, units)


def rating_agreement(
    paired: pd.DataFrame, raters: tuple[str, str], scale: Scale
) -> RatingAgreement:
    """`paired`: one row per unit rated by both raters: site, assessed_on, component, a, b."""
    a = paired["a"].astype(int).to_numpy() if not paired.empty else np.array([], dtype=int)
    b = paired["b"].astype(int).to_numpy() if not paired.empty else np.array([], dtype=int)
    units = len(a)
    counts, _ = ratings_to_counts(
        np.vstack([a, b]).astype(float), list(range(scale.minimum, scale.maximum + 1))
    )
    exact = percent_agreement(counts) if units else Coefficient(None, None, None, 0, "no units")
    within = float((np.abs(a - b) <= 1).mean()) if units else None
    kappa = cohen_kappa(a.astype(float), b.astype(float))
    if paired.empty:
        per_site = pd.DataFrame(
            columns=["site", "assessed_on", "units", "exact", "mean_abs_difference"]
        )
        disagreements = pd.DataFrame(
            columns=["site", "assessed_on", "component", raters[0], raters[1]]
        )
    else:
        frame = paired.assign(same=(paired["a"] == paired["b"]), gap=(paired["a"] - paired["b"]))
        per_site = (
            frame.groupby(["site", "assessed_on"], sort=True)
            .agg(
                units=("component", "size"),
                exact=("same", "mean"),
                mean_abs_difference=("gap", lambda g: float(np.abs(g).mean())),
            )
            .reset_index()
        )
        disagreements = frame.loc[~frame["same"], ["site", "assessed_on", "component", "a", "b"]]
        disagreements = disagreements.rename(columns={"a": raters[0], "b": raters[1]})
        disagreements = disagreements.reset_index(drop=True)
    return RatingAgreement(
        raters=raters,
        units=units,
        exact=exact,
        within_one=within,
        cohen_kappa=kappa,
        weighted_kappa=weighted_kappa(a, b, scale),
        alpha_ordinal=ordinal_alpha(np.vstack([a, b]).astype(float), scale)
        if units
        else Coefficient(None, None, None, 0, "no component was rated by two raters"),
        per_site=per_site,
        disagreements=disagreements,
    )
