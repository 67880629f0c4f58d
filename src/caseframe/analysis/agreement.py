"""Agreement between coders on meaning units: per-code tables, bootstrap CIs, readings,
disagreement lists and consensus rules.

Input is a :class:`CodingMatrix`: which coder applied which code to which unit
(``applied[unit, coder, code]``) and which coder saw which unit (``seen[unit, coder]``; a unit a
coder did not see is missing data, not "code not applied"). Each code is judged as a binary
decision per unit (applied / not applied) with the coefficients of
:mod:`caseframe.analysis.agreement_stats`; the formulas are restated here over per-unit sums so
that 1,000 bootstrap resamples of all codes are a handful of matrix products.

Overall figures: ``pooled`` treats every (unit, code) decision as one rating item (codes with
many decisions weigh more); ``mean_over_codes`` is the plain mean of the per-code values that are
defined. Both are resampled over units in the same bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from caseframe.analysis.agreement_stats import (
    KRIPPENDORFF_CAVEAT,
    LANDIS_KOCH_CAVEAT,
    krippendorff_band,
    landis_koch,
)
from caseframe.errors import InvalidInput, NotFound

COEFFICIENTS = (
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "gwet_ac1",
)
RARE = 0.10  # below this share of units a code counts as rare for the reading
_DEGENERATE = 1e-12


@dataclass(frozen=True)
class UnitInfo:
    id: str
    document: str | None = None
    text: str | None = None


@dataclass
class CodingMatrix:
    """units x coders x codes: ``applied`` (bool) and ``seen`` (units x coders, bool)."""

    units: list[UnitInfo]
    coders: list[str]
    codes: list[str]
    applied: np.ndarray
    seen: np.ndarray

    def __post_init__(self) -> None:
        self.applied = np.asarray(self.applied, dtype=bool)
        self.seen = np.asarray(self.seen, dtype=bool)
        shape = (len(self.units), len(self.coders), len(self.codes))
        if self.applied.shape != shape or self.seen.shape != shape[:2]:
            raise InvalidInput(
                f"coding matrix shapes do not match: applied {self.applied.shape}, "
                f"seen {self.seen.shape}, expected {shape} and {shape[:2]}"
            )
        if (self.applied & ~self.seen[:, :, None]).any():
            raise InvalidInput(
                "a coder applied a code to a unit marked as not seen",
                hint="mark every unit a coder coded as seen",
            )

    def select(
        self, coders: Sequence[str] | None = None, codes: Sequence[str] | None = None
    ) -> CodingMatrix:
        """The same matrix restricted to some coders and/or codes (NotFound for unknown names)."""
        ci = _indices(self.coders, coders, "coder")
        ki = _indices(self.codes, codes, "code")
        return CodingMatrix(
            self.units,
            [self.coders[i] for i in ci],
            [self.codes[i] for i in ki],
            self.applied[:, ci][:, :, ki],
            self.seen[:, ci],
        )


def _indices(names: list[str], wanted: Sequence[str] | None, kind: str) -> list[int]:
    if wanted is None:
        return list(range(len(names)))
    position = {n: i for i, n in enumerate(names)}
    unknown = [w for w in wanted if w not in position]
    if unknown:
        raise NotFound(
            f"unknown {kind}{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            hint=f"available {kind}s: {', '.join(names) or 'none'}",
        )
    return [position[w] for w in dict.fromkeys(wanted)]


def check_agreement_input(matrix: CodingMatrix) -> None:
    """Agreement needs two coders who saw at least one unit in common."""
    if len(matrix.coders) < 2:
        raise InvalidInput(
            f"agreement needs at least two coders; got {len(matrix.coders)}"
            + (f" ({matrix.coders[0]})" if matrix.coders else ""),
            hint="choose two or more coders who coded the same units",
        )
    if not len(matrix.codes):
        raise InvalidInput("no codes to compare", hint="choose at least one code")
    if not (matrix.seen.sum(axis=1) >= 2).any():
        raise InvalidInput(
            f"coders {', '.join(matrix.coders)} have no unit (document) in common",
            hint="agreement can only be computed on units that two or more coders coded",
        )


# --------------------------------------------------------------------------- the engine


def _features(matrix: CodingMatrix) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per-unit sums from which every coefficient follows.

    Returns (shared [U, 3], per_code [U, C + 1, F], two_coders); the extra code column is the
    pooled one (sum over codes). shared = (pairable, rated, values in pairable units);
    per-code F = (pair agreement, share applied, disagreeing pairs / (m - 1) * 2, applications
    in pairable units[, coder 1 applied, coder 2 applied]).
    """
    seen = matrix.seen
    m = seen.sum(axis=1).astype(float)  # coders who saw the unit
    r = (matrix.applied & seen[:, :, None]).sum(axis=1).astype(float)  # [U, C] who applied
    pairable = m >= 2
    rated = m >= 1
    mp = np.where(pairable, m, 2.0)  # safe denominators; masked out below
    mr = np.where(rated, m, 1.0)
    e = pairable.astype(float)[:, None]
    agree = (r * (r - 1) + (m[:, None] - r) * (m[:, None] - r - 1)) / (mp * (mp - 1))[:, None]
    feats = [
        agree * e,
        (r / mr[:, None]) * rated[:, None],
        2 * r * (m[:, None] - r) / (mp - 1)[:, None] * e,
        r * e,
    ]
    two = len(matrix.coders) == 2
    if two:
        feats += [matrix.applied[:, 0, :] * e, matrix.applied[:, 1, :] * e]
    per_code = np.stack(feats, axis=2)  # [U, C, F]
    per_code = np.concatenate([per_code, per_code.sum(axis=1, keepdims=True)], axis=1)
    shared = np.stack([pairable, rated, m * pairable], axis=1).astype(float)
    return shared, per_code, two


def _coefficients(
    shared: np.ndarray, per_code: np.ndarray, n_codes: int, two: bool
) -> dict[str, np.ndarray]:
    """Coefficients from weighted sums; shared [..., 3], per_code [..., C + 1, F] -> [..., C + 1].

    Undefined values are NaN here (turned into None with a reason by the caller).
    """
    scale = np.ones(per_code.shape[-2])
    scale[-1] = n_codes  # the pooled column counts every code's decisions
    pairable = shared[..., 0:1] * scale
    rated = shared[..., 1:2] * scale
    values = shared[..., 2:3] * scale
    agree, share, disagree, ones = (per_code[..., f] for f in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = np.where(pairable > 0, agree / pairable, np.nan)
        pi = np.where(rated > 0, share / rated, np.nan)

        def corrected(pe: np.ndarray) -> np.ndarray:
            return np.where(pe < 1 - _DEGENERATE, (pa - pe) / (1 - pe), np.nan)

        out = {
            "percent_agreement": pa,
            "fleiss_kappa": corrected(pi**2 + (1 - pi) ** 2),
            "gwet_ac1": corrected(2 * pi * (1 - pi)),
        }
        n, n1 = values, ones
        expected_pairs = 2 * n1 * (n - n1)
        out["krippendorff_alpha"] = np.where(
            expected_pairs > _DEGENERATE * n * n, 1 - (n - 1) * disagree / expected_pairs, np.nan
        )
        if two:
            p1 = per_code[..., 4] / pairable
            p2 = per_code[..., 5] / pairable
            out["cohen_kappa"] = corrected(p1 * p2 + (1 - p1) * (1 - p2))
        else:
            out["cohen_kappa"] = np.full_like(pa, np.nan)
    return out


def _bootstrap_weights(n_units: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """size x n_units resampling counts (how often each unit is drawn)."""
    draws = rng.integers(0, n_units, size=(size, n_units))
    flat = draws + (np.arange(size) * n_units)[:, None]
    return np.bincount(flat.ravel(), minlength=size * n_units).reshape(size, n_units)


def _bootstrap(
    shared: np.ndarray,
    per_code: np.ndarray,
    n_codes: int,
    two: bool,
    samples: int,
    seed: int,
    chunk: int = 100,
) -> dict[str, np.ndarray]:
    """Coefficients for `samples` resamples of units: name -> [samples, C + 1]."""
    rng = np.random.default_rng(seed)
    n_units, cols, nf = per_code.shape
    flat = per_code.reshape(n_units, cols * nf)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in COEFFICIENTS}
    parts["mean_over_codes"] = []
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        w = _bootstrap_weights(n_units, size, rng).astype(float)
        sums = _coefficients(w @ shared, (w @ flat).reshape(size, cols, nf), n_codes, two)
        for name in COEFFICIENTS:
            parts[name].append(sums[name])
        done += size
    return {name: np.concatenate(p) for name, p in parts.items() if p}


# --------------------------------------------------------------------------- the report


@dataclass
class CodeAgreement:
    code: str
    units: int  # units seen by two or more coders
    applied: dict[str, int]  # how many units each coder applied the code to
    prevalence: dict[str, float]  # ... as a share of the units that coder saw
    values: dict[str, float | None]  # COEFFICIENTS -> value
    ci: dict[str, tuple[float, float] | None]
    notes: list[str] = field(default_factory=list)
    reading: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "units": self.units}
        out.update(self.values)
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

    def to_json(self) -> dict[str, Any]:
        return {"per_code": [c.to_json() for c in self.per_code], "overall": self.overall}

    def code(self, name: str) -> CodeAgreement:
        for c in self.per_code:
            if c.code == name:
                return c
        raise NotFound(f"code '{name}' is not in this report")


def _none(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float] | None:
    ok = samples[~np.isnan(samples)]
    # when more than half of the resamples leave the figure undefined, an interval misleads
    if ok.size == 0 or ok.size < samples.size / 2:
        return None
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(ok, [tail, 100 - tail])
    return float(lo), float(hi)


def _undefined_notes(applied_any: bool, all_applied: bool) -> list[str]:
    notes = []
    if not applied_any:
        notes.append(
            "no coder applied this code to any shared unit: kappa and alpha are undefined "
            "(chance agreement is 1); percent agreement and AC1 are 1 by construction"
        )
    elif all_applied:
        notes.append(
            "every coder applied this code to every shared unit: kappa and alpha are undefined "
            "(chance agreement is 1); percent agreement and AC1 are 1 by construction"
        )
    return notes


def reading(values: dict[str, float | None], ci: dict, prevalence: dict[str, float]) -> str:
    """A plain-language sentence on one row of figures (alpha first, then kappa and AC1)."""
    alpha = values.get("krippendorff_alpha")
    kappa = values.get("cohen_kappa")
    if kappa is None:
        kappa = values.get("fleiss_kappa")
    ac1 = values.get("gwet_ac1")
    pa = values.get("percent_agreement")
    if alpha is None:
        text = "Alpha and kappa are undefined here (no variation to correct for)"
        if pa is not None:
            text += f"; coders agree on {pa:.0%} of unit pairs"
        return text + "."
    interval = ci.get("krippendorff_alpha")
    span = f" (95% CI {interval[0]:.2f} to {interval[1]:.2f})" if interval else ""
    text = (
        f"alpha = {alpha:.2f}{span}: {landis_koch(alpha)} agreement on Landis & Koch's bands; "
        f"{krippendorff_band(alpha)} by Krippendorff's thresholds (.800 / .667)."
    )
    if not prevalence:  # pooled over codes: no single prevalence to speak of
        return text
    low, high = min(prevalence.values()), max(prevalence.values())
    if ac1 is not None and (high < RARE or low > 1 - RARE) and ac1 - alpha > 0.2:
        text += (
            f" The code is {'rare' if high < RARE else 'near-universal'} "
            f"({low:.1%}-{high:.1%} of units), which depresses kappa and alpha: "
            f"coders agree on {pa:.0%} of pairs and AC1 = {ac1:.2f}."
        )
    elif kappa is not None and abs(kappa - alpha) > 0.1:
        text += f" Kappa = {kappa:.2f} differs: the coders use the code at different rates."
    return text


def per_code_agreement(
    matrix: CodingMatrix, bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> AgreementReport:
    """Agreement per code (binary: applied or not) with percentile bootstrap CIs over units.

    Cohen's kappa is given only with exactly two coders. Units a coder did not see are missing
    for that coder. ``bootstrap=0`` skips the intervals.
    """
    check_agreement_input(matrix)
    n_codes = len(matrix.codes)
    shared, per_code, two = _features(matrix)
    point = _coefficients(shared.sum(axis=0), per_code.sum(axis=0), n_codes, two)
    # keep only units some pair of coders saw; others carry no pairable information, but
    # they do enter the category shares of Fleiss and AC1 (Gwet), so keep rated units.
    keep = shared[:, 1] > 0
    boot = (
        _bootstrap(shared[keep], per_code[keep], n_codes, two, bootstrap, seed)
        if bootstrap > 0
        else None
    )
    shared_units = matrix.seen.sum(axis=1) >= 2
    units = int(shared_units.sum())
    r_shared = (matrix.applied & shared_units[:, None, None]).any(axis=1)  # [U, C]
    all_shared = (
        (matrix.applied | ~matrix.seen[:, :, None]).all(axis=1) & shared_units[:, None]
    ).sum(axis=0) == units

    per: list[CodeAgreement] = []
    names = [c for c in COEFFICIENTS if two or c != "cohen_kappa"]
    seen_count = matrix.seen.sum(axis=0)
    for j, code in enumerate(matrix.codes):
        values = {name: _none(point[name][j]) for name in COEFFICIENTS}
        ci: dict[str, tuple[float, float] | None] = {name: None for name in COEFFICIENTS}
        if boot is not None:
            for name in names:
                ci[name] = _interval(boot[name][:, j], confidence)
        applied = {c: int(matrix.applied[:, i, j].sum()) for i, c in enumerate(matrix.coders)}
        prevalence = {
            c: (applied[c] / int(seen_count[i]) if seen_count[i] else 0.0)
            for i, c in enumerate(matrix.coders)
        }
        notes = _undefined_notes(bool(r_shared[:, j].any()), bool(all_shared[j]))
        per.append(
            CodeAgreement(
                code, units, applied, prevalence, values, ci, notes, reading(values, ci, prevalence)
            )
        )

    pooled = {name: _none(point[name][-1]) for name in COEFFICIENTS}
    pooled_ci = {
        name: (_interval(boot[name][:, -1], confidence) if boot is not None else None)
        for name in COEFFICIENTS
    }
    mean = {name: _mean_defined([c.values[name] for c in per]) for name in COEFFICIENTS}
    mean_ci: dict[str, Any] = {}
    for name in COEFFICIENTS:
        if boot is None:
            mean_ci[name] = None
            continue
        with np.errstate(all="ignore"), _quiet():
            samples = np.nanmean(boot[name][:, :-1], axis=1)
        mean_ci[name] = _interval(samples, confidence)
    overall: dict[str, Any] = {
        "units": units,
        "codes": n_codes,
        "coders": list(matrix.coders),
        "decisions": units * n_codes,
        **pooled,
        "ci": {k: (list(v) if v else None) for k, v in pooled_ci.items()},
        "method": "pooled: every (unit, code) decision is one rating item",
        "mean_over_codes": {
            **mean,
            "ci": {k: (list(v) if v else None) for k, v in mean_ci.items()},
            "codes_defined": {
                name: sum(c.values[name] is not None for c in per) for name in COEFFICIENTS
            },
        },
        "reading": reading(pooled, pooled_ci, {}),
        "caveat": f"{LANDIS_KOCH_CAVEAT} {KRIPPENDORFF_CAVEAT}",
        "bootstrap": {
            "samples": bootstrap,
            "seed": seed,
            "confidence": confidence,
            "over": "units",
        },
    }
    return AgreementReport(list(matrix.coders), per, overall, bootstrap, seed, confidence)


def _mean_defined(values: Iterable[float | None]) -> float | None:
    ok = [v for v in values if v is not None]
    return float(np.mean(ok)) if ok else None


class _quiet:
    """Silence numpy's 'mean of empty slice' warnings for all-undefined resamples."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


# --------------------------------------------------------------------------- disagreements


@dataclass(frozen=True)
class Disagreement:
    code: str
    unit: str
    document: str | None
    text: str | None
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]


def disagreements(matrix: CodingMatrix, codes: Sequence[str] | None = None) -> list[Disagreement]:
    """Per code, the units where the coders who saw the unit did not all decide alike."""
    check_agreement_input(matrix)
    if codes is not None:
        matrix = matrix.select(codes=codes)
    seen = matrix.seen
    r = (matrix.applied & seen[:, :, None]).sum(axis=1)
    m = seen.sum(axis=1)[:, None]
    split = (r > 0) & (r < m)
    out: list[Disagreement] = []
    for j, code in enumerate(matrix.codes):
        for u in np.nonzero(split[:, j])[0]:
            unit = matrix.units[u]
            yes = tuple(c for i, c in enumerate(matrix.coders) if matrix.applied[u, i, j])
            no = tuple(
                c for i, c in enumerate(matrix.coders) if seen[u, i] and not matrix.applied[u, i, j]
            )
            out.append(Disagreement(code, unit.id, unit.document, unit.text, yes, no))
    return out


# --------------------------------------------------------------------------- consensus

Rule = Literal["unanimous", "majority", "union"]
RULES = ("unanimous", "majority", "union")


@dataclass(frozen=True)
class Unresolved:
    code: str
    unit: str
    document: str | None
    text: str | None
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]
    reason: str


def consensus(
    matrix: CodingMatrix, coders: Sequence[str] | None = None, rule: Rule = "majority"
) -> tuple[dict[tuple[str, str], bool], list[Unresolved]]:
    """A consensus coder from several coders' decisions.

    * ``unanimous``: decided where every coder who saw the unit agrees (applied or not);
    * ``majority``: decided by more than half of the coders who saw the unit; ties unresolved;
    * ``union``: applied when any coder applied it, else not applied.

    Units seen by none of the coders, and (for unanimous/majority) units seen by only one coder,
    are unresolved: one coder's decision is not a consensus. Returns ({(unit id, code): applied},
    unresolved units listed for manual resolution).
    """
    if rule not in RULES:
        raise InvalidInput(
            f"unknown consensus rule '{rule}'", hint=f"use one of {', '.join(RULES)}"
        )
    sub = matrix.select(coders=coders)
    check_agreement_input(sub)
    seen = sub.seen
    m = seen.sum(axis=1)[:, None]
    r = (sub.applied & seen[:, :, None]).sum(axis=1)
    if rule == "union":
        settled = np.broadcast_to(m >= 1, r.shape)
        value = r > 0
    elif rule == "unanimous":
        settled = (m >= 2) & ((r == 0) | (r == m))
        value = r == m
    else:
        settled = (m >= 2) & (2 * r != m)
        value = 2 * r > m
    decided: dict[tuple[str, str], bool] = {}
    unresolved: list[Unresolved] = []
    for u, unit in enumerate(sub.units):
        for j, code in enumerate(sub.codes):
            if settled[u, j]:
                decided[(unit.id, code)] = bool(value[u, j])
                continue
            n_seen = int(m[u, 0])
            if n_seen == 0:
                reason = "no chosen coder saw this unit"
            elif n_seen == 1:
                reason = "only one chosen coder saw this unit"
            elif rule == "majority":
                reason = "tie"
            else:
                reason = "coders disagree"
            yes = tuple(c for i, c in enumerate(sub.coders) if sub.applied[u, i, j])
            no = tuple(
                c for i, c in enumerate(sub.coders) if seen[u, i] and not sub.applied[u, i, j]
            )
            unresolved.append(Unresolved(code, unit.id, unit.document, unit.text, yes, no, reason))
    return decided, unresolved


# --------------------------------------------------------------------------- datasets


def matrix_from_dataset(
    dataset: Any,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    documents: Sequence[str] | None = None,
) -> CodingMatrix:
    """A CodingMatrix from a coded-segment dataset (caseframe.interop.coded_dataset).

    Per FORMATS.md every coder in codings.csv coded every segment, so ``seen`` is all true.
    """
    all_coders = list(dataset.coders)
    if not all_coders:
        raise InvalidInput(
            "the dataset has no codings, so no coders to compare",
            where=str(getattr(dataset, "path", "")) or None,
        )
    chosen_coders = [all_coders[i] for i in _indices(all_coders, coders, "coder")]
    if len(chosen_coders) < 2:
        raise InvalidInput(
            f"agreement needs at least two coders; "
            f"{'the dataset has' if coders is None else 'you chose'} only "
            f"'{chosen_coders[0]}'",
            where=str(getattr(dataset, "path", "")) or None,
            hint="add a second coder's codings to codings.csv or choose two coders",
        )
    all_codes = list(dataset.code_names)
    chosen_codes = [all_codes[i] for i in _indices(all_codes, codes, "code")]
    segments = list(dataset.segments)
    if documents is not None:
        known = list(dict.fromkeys(s.document for s in segments if s.document))
        _indices(known, documents, "document")
        wanted = set(documents)
        segments = [s for s in segments if s.document in wanted]
    if not segments:
        raise InvalidInput("no segments to compare", hint="check the dataset or the documents")
    unit_index = {s.id: i for i, s in enumerate(segments)}
    coder_index = {c: i for i, c in enumerate(chosen_coders)}
    code_index = {c: i for i, c in enumerate(chosen_codes)}
    applied = np.zeros((len(segments), len(chosen_coders), len(chosen_codes)), dtype=bool)
    for coding in dataset.codings:
        u = unit_index.get(coding.segment_id)
        i = coder_index.get(coding.coder)
        k = code_index.get(coding.code)
        if u is not None and i is not None and k is not None:
            applied[u, i, k] = True
    units = [UnitInfo(s.id, s.document, s.text) for s in segments]
    seen = np.ones((len(segments), len(chosen_coders)), dtype=bool)
    return CodingMatrix(units, chosen_coders, chosen_codes, applied, seen)
