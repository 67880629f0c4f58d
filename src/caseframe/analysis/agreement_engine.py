"""The vectorised engine behind per-code agreement: per-unit sums, coefficients, bootstrap.

Each code is a yes/no decision per unit. Every coefficient is computed on an explicit set of
units (see :data:`UNIT_SETS`):

* ``pairable``: units coded by at least two of the selected coders: percent agreement, Gwet's
  AC1 (category shares from the same units) and Krippendorff's alpha;
* ``complete``: units coded by every selected coder: Fleiss' and Cohen's kappa, whose chance
  terms assume every coder rated every unit. Taking Fleiss' chance agreement over all units but
  observed agreement over pairable ones (Gwet's missing-data variant) is unbounded below for a
  rare code, so it is not used for reported figures.

The formulas are restated over per-unit sums, so a bootstrap resample of units is one matrix
product with resampling counts. Undefined values are NaN here; the report turns them into
``None`` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COEFFICIENTS = (
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
)
UNIT_SETS = {
    "pairable": "units coded by at least two of the selected coders",
    "complete": "units coded by every selected coder",
}
CONVENTION = {
    "percent_agreement": "pairable",
    "gwet_ac1": "pairable",
    "krippendorff_alpha": "pairable",
    "fleiss_kappa": "complete",
    "cohen_kappa": "complete",
}
_DEGENERATE = 1e-12

# per-code feature columns
_AGREE_P, _SHARE_P, _DISAGREE, _ONES, _AGREE_C, _SHARE_C, _FIRST, _SECOND = range(8)


@dataclass
class Features:
    """Per-unit sums. shared [U, 3] = (pairable, complete, values in pairable units);
    per_code [U, C, F] (columns above; the complete-set columns are omitted when every pairable
    unit is complete, and the coder columns unless there are exactly two coders)."""

    shared: np.ndarray
    per_code: np.ndarray
    two: bool
    same_sets: bool  # every pairable unit is complete: the complete columns equal the pairable


def features(seen: np.ndarray, applied: np.ndarray) -> Features:
    """Per-unit sums for every unit some pair of coders coded (other units carry nothing)."""
    n_coders = seen.shape[1]
    m_all = seen.sum(axis=1)
    keep = m_all >= 2
    seen, applied = seen[keep], applied[keep]
    m = m_all[keep].astype(float)
    complete = m == n_coders
    same_sets = bool(complete.all())
    r = (applied & seen[:, :, None]).sum(axis=1).astype(float)  # [U, C] coders who applied
    mm = m[:, None]
    agree = (r * (r - 1) + (mm - r) * (mm - r - 1)) / (mm * (mm - 1))
    share = r / mm
    feats = [agree, share, 2 * r * (mm - r) / (mm - 1), r]
    if not same_sets:
        c = complete.astype(float)[:, None]
        feats += [agree * c, share * c]
    two = n_coders == 2
    if two:
        feats += [applied[:, 0, :].astype(float), applied[:, 1, :].astype(float)]
    per_code = np.stack(feats, axis=2)
    shared = np.stack([np.ones_like(m), complete.astype(float), m], axis=1)
    return Features(shared, per_code, two, same_sets)


def with_pooled(f: Features, included: np.ndarray) -> np.ndarray:
    """per_code with one more column: the sum over the included codes (the pooled figures)."""
    if included.all():  # the usual case: no copy of the whole array
        pooled = f.per_code.sum(axis=1, keepdims=True)
    else:
        pooled = f.per_code[:, included, :].sum(axis=1, keepdims=True)
    return np.concatenate([f.per_code, pooled], axis=1)


def coefficients(
    shared: np.ndarray, per_code: np.ndarray, n_pooled: int, two: bool, same_sets: bool
) -> dict[str, np.ndarray]:
    """Coefficients from (weighted) sums; shared [..., 3], per_code [..., C + 1, F] ->
    name -> [..., C + 1] (NaN where undefined), plus the unit counts ``units_pairable`` and
    ``units_complete`` and the chance-term shares used for reasons."""
    scale = np.ones(per_code.shape[-2])
    scale[-1] = max(n_pooled, 1)  # the pooled column counts every included code's decisions
    n_p = shared[..., 0:1] * scale
    n_c = shared[..., 1:2] * scale
    values = shared[..., 2:3] * scale
    col = per_code[..., :]
    agree_p, share_p, disagree, ones = (col[..., f] for f in range(4))
    if same_sets:
        agree_c, share_c = agree_p, share_p
    else:
        agree_c, share_c = col[..., _AGREE_C], col[..., _SHARE_C]
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = np.where(n_p > 0, agree_p / n_p, np.nan)
        pi_p = np.where(n_p > 0, share_p / n_p, np.nan)
        pa_c = np.where(n_c > 0, agree_c / n_c, np.nan)
        pi_c = np.where(n_c > 0, share_c / n_c, np.nan)

        def corrected(observed: np.ndarray, pe: np.ndarray) -> np.ndarray:
            return np.where(pe < 1 - _DEGENERATE, (observed - pe) / (1 - pe), np.nan)

        out = {
            "percent_agreement": pa,
            "gwet_ac1": corrected(pa, 2 * pi_p * (1 - pi_p)),
            "fleiss_kappa": corrected(pa_c, pi_c**2 + (1 - pi_c) ** 2),
        }
        expected_pairs = 2 * ones * (values - ones)
        out["krippendorff_alpha"] = np.where(
            expected_pairs > _DEGENERATE * values * values,
            1 - (values - 1) * disagree / expected_pairs,
            np.nan,
        )
        if two:
            first = col[..., -2] / n_c
            second = col[..., -1] / n_c
            out["cohen_kappa"] = corrected(pa_c, first * second + (1 - first) * (1 - second))
        else:
            out["cohen_kappa"] = np.full_like(pa, np.nan)
    out["share_pairable"] = pi_p
    out["share_complete"] = pi_c
    out["units_pairable"] = np.broadcast_to(n_p, pa.shape)
    out["units_complete"] = np.broadcast_to(n_c, pa.shape)
    return out


def _bootstrap_weights(n_units: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """size x n_units resampling counts (how often each unit is drawn)."""
    draws = rng.integers(0, n_units, size=(size, n_units))
    flat = draws + (np.arange(size) * n_units)[:, None]
    return np.bincount(flat.ravel(), minlength=size * n_units).reshape(size, n_units)


def bootstrap(
    f: Features,
    per_code: np.ndarray,
    n_pooled: int,
    samples: int,
    seed: int,
    chunk: int = 100,
) -> dict[str, np.ndarray]:
    """Coefficients for `samples` resamples of the pairable units: name -> [samples, C + 1]."""
    rng = np.random.default_rng(seed)
    n_units, cols, nf = per_code.shape
    flat = per_code.reshape(n_units, cols * nf)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in COEFFICIENTS}
    done = 0
    while done < samples and n_units:
        size = min(chunk, samples - done)
        w = _bootstrap_weights(n_units, size, rng).astype(float)
        sums = coefficients(
            w @ f.shared, (w @ flat).reshape(size, cols, nf), n_pooled, f.two, f.same_sets
        )
        for name in COEFFICIENTS:
            parts[name].append(sums[name])
        done += size
    return {name: np.concatenate(p) for name, p in parts.items() if p}
