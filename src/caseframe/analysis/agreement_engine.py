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
from typing import Any

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
    """Per-unit sums over the units some pair of coders coded, kept sparse.

    ``shared`` [U, 3] = (pairable, complete, values in pairable units). Per code the feature
    columns above (the complete-set columns are omitted when every pairable unit is complete,
    and the coder columns unless there are exactly two coders) are ``base`` [U, F], what a code
    no coder applied to the unit gives (agreement 1, nothing else), plus ``delta`` (scipy CSR,
    [U, C * F], code-major), the change where some coder applied it. Most (unit, code) pairs
    are blank, so sums and bootstrap products cost per application, not per unit × code."""

    shared: np.ndarray
    base: np.ndarray
    delta: Any
    n_codes: int
    two: bool
    same_sets: bool  # every pairable unit is complete: the complete columns equal the pairable

    @property
    def n_features(self) -> int:
        return self.base.shape[1]

    def applied_any(self) -> np.ndarray:
        """[C] bool: someone applied the code on a pairable unit."""
        ones = self.delta[:, _ONES :: self.n_features]
        return np.asarray(ones.sum(axis=0)).ravel() > 0


def features(seen: np.ndarray, applied: np.ndarray) -> Features:
    """Per-unit sums for every unit some pair of coders coded (other units carry nothing)."""
    from scipy import sparse

    n_coders = seen.shape[1]
    m_all = seen.sum(axis=1)
    keep = m_all >= 2
    seen, applied = seen[keep], applied[keep]
    m = m_all[keep].astype(float)
    n_units, n_codes = len(m), applied.shape[2]
    complete = m == n_coders
    same_sets = bool(complete.all())
    two = n_coders == 2
    r_all = (applied & seen[:, :, None]).sum(axis=1)  # [U, C] coders who applied
    u, j = np.nonzero(r_all)
    r = r_all[u, j].astype(float)
    mm = m[u]
    agree = (r * (r - 1) + (mm - r) * (mm - r - 1)) / (mm * (mm - 1))
    share = r / mm
    columns = [agree - 1.0, share, 2 * r * (mm - r) / (mm - 1), r]
    base_columns = [1.0, 0.0, 0.0, 0.0]
    if not same_sets:
        c = complete[u].astype(float)
        columns += [(agree - 1.0) * c, share * c]
        base_columns += [complete.astype(float), 0.0]
    if two:
        columns += [applied[u, 0, j].astype(float), applied[u, 1, j].astype(float)]
        base_columns += [0.0, 0.0]
    n_feats = len(columns)
    base = np.zeros((n_units, n_feats))
    for f, value in enumerate(base_columns):
        base[:, f] = value
    data = np.stack(columns, axis=1)  # [nnz, F]
    rows = np.repeat(u, n_feats)
    cols = (j[:, None] * n_feats + np.arange(n_feats)[None, :]).ravel()
    delta = sparse.csr_matrix(
        (data.ravel(), (rows, cols)), shape=(n_units, n_codes * n_feats), dtype=float
    )
    shared = np.stack([np.ones_like(m), complete.astype(float), m], axis=1)
    return Features(shared, base, delta, n_codes, two, same_sets)


def with_pooled(f: Features, included: np.ndarray) -> Any:
    """delta with one more code block: the sum over the included codes (the pooled figures).
    Its base is ``included.sum()`` times the per-code base."""
    from scipy import sparse

    nf = f.n_features
    mask = np.repeat(included.astype(float), nf)  # [C * F]
    picked = f.delta @ sparse.diags(mask)
    fold = sparse.csr_matrix(
        (np.ones(f.n_codes * nf), (np.arange(f.n_codes * nf), np.tile(np.arange(nf), f.n_codes))),
        shape=(f.n_codes * nf, nf),
    )
    return sparse.hstack([f.delta, picked @ fold], format="csr")


def _weighted(f: Features, delta: Any, n_pooled: int, weights: np.ndarray | None) -> tuple:
    """(shared [..., 3], per_code [..., C + 1, F]) summed over units, each unit counted
    `weights` times ([U, S]; None: once)."""
    nf, cols = f.n_features, f.n_codes + 1
    scale = np.ones(cols)
    scale[-1] = n_pooled
    if weights is None:
        shared = f.shared.sum(axis=0)
        base = f.base.sum(axis=0)
        changed = np.asarray(delta.sum(axis=0)).reshape(cols, nf)
        return shared, base[None, :] * scale[:, None] + changed
    shared = weights.T @ f.shared
    base = weights.T @ f.base  # [S, F]
    changed = np.asarray((delta.T @ weights).T).reshape(weights.shape[1], cols, nf)
    return shared, base[:, None, :] * scale[None, :, None] + changed


def point_sums(f: Features, delta: Any, n_pooled: int) -> tuple[np.ndarray, np.ndarray]:
    """The per-code sums over all pairable units (for the point estimates)."""
    return _weighted(f, delta, n_pooled, None)


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
    """n_units x size resampling counts (how often each unit is drawn in each resample), laid
    out unit-major: the sparse product reads it that way, and transposing 100 x 80k costs more
    than the product itself."""
    draws = rng.integers(0, n_units, size=(size, n_units))
    flat = draws * size + np.arange(size)[:, None]
    return np.bincount(flat.ravel(), minlength=size * n_units).reshape(n_units, size)


def bootstrap(
    f: Features,
    per_code: Any,
    n_pooled: int,
    samples: int,
    seed: int,
    chunk: int = 100,
) -> dict[str, np.ndarray]:
    """Coefficients for `samples` resamples of the pairable units: name -> [samples, C + 1].
    `per_code` is :func:`with_pooled`'s delta."""
    rng = np.random.default_rng(seed)
    n_units = f.shared.shape[0]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in COEFFICIENTS}
    done = 0
    while done < samples and n_units:
        size = min(chunk, samples - done)
        w = _bootstrap_weights(n_units, size, rng).astype(float)
        shared, sums = _weighted(f, per_code, n_pooled, w)
        sums = coefficients(shared, sums, n_pooled, f.two, f.same_sets)
        for name in COEFFICIENTS:
            parts[name].append(sums[name])
        done += size
    return {name: np.concatenate(p) for name, p in parts.items() if p}
