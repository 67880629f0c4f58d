"""Inter-coder agreement coefficients on nominal data, as pure functions over numpy arrays.

Two input shapes are used:

* ``reliability_data``: coders x units, one category label per cell, ``NaN`` where a coder did
  not rate the unit (the layout of Krippendorff's papers and of the ``krippendorff`` package);
* ``counts``: units x categories, how many coders put each unit in each category (the layout of
  Fleiss 1971 and of statsmodels' ``fleiss_kappa``). Units may have different numbers of raters.

Every coefficient comes back as a :class:`Coefficient` whose ``value`` is ``None`` with a
``reason`` when it is not defined (no unit rated by two coders, or chance agreement equal to 1
because every rating falls in one category). We never return NaN or a made-up 0/1 there.

Missing data follow Gwet (2014) for percent agreement, Fleiss' kappa and AC1 (observed agreement
over units with two or more ratings, category shares averaged over units with at least one) and
Krippendorff's coincidence matrix for alpha (only pairable values count). With complete data
these reduce to the textbook formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A chance agreement this close to 1 leaves nothing to correct for.
_DEGENERATE = 1e-12

LANDIS_KOCH_CAVEAT = (
    "Landis & Koch (1977) proposed these bands as a convention, not from evidence; the same "
    "kappa means different things at different prevalences, and for rare codes kappa and alpha "
    "can be low while coders agree on almost every unit: read them with the counts and AC1."
)
KRIPPENDORFF_CAVEAT = (
    "Krippendorff (2004) suggests relying on data with alpha >= 0.800 and drawing only tentative "
    "conclusions for 0.667 <= alpha < 0.800."
)


@dataclass(frozen=True)
class Coefficient:
    """One agreement figure with what it was computed from.

    ``observed`` and ``expected`` are the observed and chance agreement (for alpha:
    1 - D_o and 1 - D_e); ``units`` is the number of units rated by at least two coders.
    """

    value: float | None
    observed: float | None
    expected: float | None
    units: int
    reason: str | None = None


def ratings_to_counts(
    reliability_data: np.ndarray, categories: list | None = None
) -> tuple[np.ndarray, list]:
    """coders x units labels (NaN = missing) -> (units x categories counts, categories)."""
    data = np.asarray(reliability_data, dtype=float)
    if data.ndim != 2:
        raise ValueError("reliability_data must be a 2-D array: coders x units")
    present = ~np.isnan(data)
    cats = sorted(np.unique(data[present]).tolist()) if categories is None else list(categories)
    counts = np.zeros((data.shape[1], len(cats)), dtype=float)
    for k, cat in enumerate(cats):
        counts[:, k] = ((data == cat) & present).sum(axis=0)
    return counts, cats


def _check_counts(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or (counts < 0).any():
        raise ValueError("counts must be a non-negative units x categories array")
    return counts


def _observed_agreement(counts: np.ndarray) -> tuple[float | None, int]:
    """Mean over units with >= 2 ratings of the share of agreeing rater pairs."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    n_units = int(pairable.sum())
    if n_units == 0:
        return None, 0
    c, mm = counts[pairable], m[pairable]
    per_unit = (c * (c - 1)).sum(axis=1) / (mm * (mm - 1))
    return float(per_unit.mean()), n_units


def _category_shares(counts: np.ndarray) -> np.ndarray:
    """pi_k: share of category k, averaged over units with at least one rating (Gwet 2014)."""
    m = counts.sum(axis=1)
    rated = m >= 1
    return (counts[rated] / m[rated, None]).mean(axis=0)


def _chance_corrected(observed: float | None, expected: float, units: int) -> Coefficient:
    if observed is None:
        return Coefficient(None, None, expected, 0, "no unit was rated by two or more coders")
    if expected >= 1 - _DEGENERATE:
        return Coefficient(
            None,
            observed,
            expected,
            units,
            "chance agreement is 1: every rating falls in one category, nothing to correct for",
        )
    return Coefficient((observed - expected) / (1 - expected), observed, expected, units)


def percent_agreement(counts: np.ndarray) -> Coefficient:
    """Share of agreeing coder pairs, averaged over units rated by two or more coders.

    With two coders this is the plain proportion of units on which they agree.
    """
    observed, units = _observed_agreement(_check_counts(counts))
    reason = None if observed is not None else "no unit was rated by two or more coders"
    return Coefficient(observed, observed, None, units, reason)


def fleiss_kappa(counts: np.ndarray) -> Coefficient:
    """Fleiss' kappa; chance agreement = sum of squared category shares."""
    counts = _check_counts(counts)
    observed, units = _observed_agreement(counts)
    if not (counts.sum(axis=1) >= 1).any():
        return Coefficient(None, None, None, 0, "no ratings")
    pi = _category_shares(counts)
    return _chance_corrected(observed, float((pi**2).sum()), units)


def gwet_ac1(counts: np.ndarray) -> Coefficient:
    """Gwet's AC1 (Gwet 2008): chance agreement = sum pi_k (1 - pi_k) / (q - 1).

    ``q`` is the number of columns of ``counts``, i.e. the categories the coders could choose
    from (give unused categories as zero columns). With one category AC1 is undefined.
    """
    counts = _check_counts(counts)
    q = counts.shape[1]
    observed, units = _observed_agreement(counts)
    if q < 2:
        return Coefficient(None, observed, None, units, "AC1 needs at least two categories")
    if not (counts.sum(axis=1) >= 1).any():
        return Coefficient(None, None, None, 0, "no ratings")
    pi = _category_shares(counts)
    return _chance_corrected(observed, float((pi * (1 - pi)).sum() / (q - 1)), units)


def krippendorff_alpha_counts(counts: np.ndarray) -> Coefficient:
    """Krippendorff's alpha (nominal) from units x categories counts, via the coincidence matrix.

    alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k, where only values in units
    with two or more ratings ("pairable values") count.
    """
    counts = _check_counts(counts)
    m = counts.sum(axis=1)
    pairable = m >= 2
    units = int(pairable.sum())
    if units == 0:
        return Coefficient(None, None, None, 0, "no unit was rated by two or more coders")
    c, mm = counts[pairable], m[pairable]
    n_c = c.sum(axis=0)
    n = float(n_c.sum())
    # off-diagonal coincidences: sum over units of (m^2 - sum_k r_k^2) / (m - 1)
    disagree = float(((mm**2 - (c**2).sum(axis=1)) / (mm - 1)).sum())
    expected_pairs = n * n - float((n_c**2).sum())
    observed = 1 - disagree / n
    if expected_pairs <= _DEGENERATE * n * n:
        return Coefficient(
            None,
            observed,
            1.0,
            units,
            "every pairable value is the same category: alpha is undefined (no variation)",
        )
    expected = 1 - expected_pairs / (n * (n - 1))
    return Coefficient(1 - (n - 1) * disagree / expected_pairs, observed, expected, units)


def krippendorff_alpha_nominal(reliability_data: np.ndarray) -> Coefficient:
    """Krippendorff's alpha for nominal data; coders x units, NaN = missing (any coder count)."""
    counts, _ = ratings_to_counts(reliability_data)
    return krippendorff_alpha_counts(counts)


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> Coefficient:
    """Cohen's kappa for two coders; units missing (NaN) for either coder are left out.

    Chance agreement is sum_k p_a(k) * p_b(k), each coder's own marginal shares: the products
    are *added* over categories (QualCoder multiplies the yes- and no-terms instead).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("a and b must be 1-D arrays of equal length")
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    units = int(both.sum())
    if units == 0:
        return Coefficient(None, None, None, 0, "the two coders share no rated unit")
    cats = np.union1d(a, b)
    observed = float((a == b).mean())
    pa = np.array([(a == k).mean() for k in cats])
    pb = np.array([(b == k).mean() for k in cats])
    return _chance_corrected(observed, float((pa * pb).sum()), units)


LANDIS_KOCH_BANDS = (
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
)


def landis_koch(value: float | None) -> str:
    """Landis & Koch (1977) label: <0 poor, to .20 slight, .40 fair, .60 moderate,
    .80 substantial, to 1 almost perfect. ``None``/NaN -> "undefined"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if value < 0:
        return "poor"
    for upper, label in LANDIS_KOCH_BANDS[1:]:
        if value <= upper + 1e-12:
            return label
    return "almost perfect"


def krippendorff_band(alpha: float | None) -> str:
    """Krippendorff's (2004) thresholds: reliable >= .800, tentative >= .667, else unreliable."""
    if alpha is None or (isinstance(alpha, float) and math.isnan(alpha)):
        return "undefined"
    if alpha >= 0.800:
        return "reliable"
    if alpha >= 0.667:
        return "tentative"
    return "unreliable"
