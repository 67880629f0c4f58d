"""Agreement on where coders put their codes in a text (unitized data).

* :func:`character_kappa`: every character of a document is a unit, coded or not coded with one
  code by each of two coders; percent agreement and Cohen's kappa over characters, as NVivo's
  coding comparison reports them per code per document.
* :func:`unitized_alpha`: Krippendorff's alpha family for unitized continua (Krippendorff,
  Mathet, Bouvry & Widlöcher 2016, as ATLAS.ti reports it): uα over units and gaps, |uα on
  relevant vs irrelevant matter, |cuα on the values given unitization, (k)uα per value.

Spans are ``[start, end)`` in code points (the REFI-QDA convention).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from caseframe.errors import InvalidInput

_EPS = 1e-12


def _check_span(length: int, start: int, end: int, who: str) -> None:
    if not (0 <= start < end <= length):
        raise InvalidInput(
            f"span [{start}, {end}) of {who} is outside the document or empty",
            hint=f"spans need 0 <= start < end <= {length}",
        )


def _mask(length: int, spans: Iterable[Sequence[int]], who: str) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    for span in spans:
        start, end = int(span[0]), int(span[1])
        _check_span(length, start, end, who)
        mask[start:end] = True
    return mask


@dataclass(frozen=True)
class CharacterAgreement:
    length: int
    coded_a: int  # characters coder A coded
    coded_b: int
    both: int
    neither: int
    percent_agreement: float | None
    kappa: float | None
    reason: str | None = None


def character_kappa(
    length: int, spans_a: Iterable[Sequence[int]], spans_b: Iterable[Sequence[int]]
) -> CharacterAgreement:
    """Percent agreement and Cohen's kappa over the characters of one document for one code.

    N characters; A, B coded by each coder; agree = both + neither;
    ΣEF = (A·B + (N−A)(N−B)) / N; κ = (agree − ΣEF) / (N − ΣEF). Overlapping spans of one coder
    are merged. κ is None when ΣEF = N (both coded nothing, or both coded everything).
    """
    if length <= 0:
        return CharacterAgreement(length, 0, 0, 0, 0, None, None, "empty document")
    a = _mask(length, spans_a, "coder A")
    b = _mask(length, spans_b, "coder B")
    n_a, n_b = int(a.sum()), int(b.sum())
    both = int((a & b).sum())
    neither = int((~a & ~b).sum())
    agree = both + neither
    chance = (n_a * n_b + (length - n_a) * (length - n_b)) / length
    if length - chance <= _EPS * length:
        return CharacterAgreement(
            length,
            n_a,
            n_b,
            both,
            neither,
            agree / length,
            None,
            "no variation: both coders coded nothing or everything, kappa is undefined",
        )
    kappa = (agree - chance) / (length - chance)
    return CharacterAgreement(length, n_a, n_b, both, neither, agree / length, kappa)


@dataclass(frozen=True)
class UnitizedAlpha:
    """Krippendorff's unitized alpha family for one continuum (document).

    ``observed`` is the coincidence matrix of lengths (rows/cols: ``values``, where ``None`` is
    the gap between units). ``cu_coverage`` is the share of all paired length on which both
    coders of a pair identified a unit (what |cuα is computed on).
    """

    u_alpha: float | None
    binary_u_alpha: float | None
    cu_alpha: float | None
    per_value: dict[str, float | None]
    values: list[str | None]
    observed: np.ndarray
    expected: np.ndarray
    cu_coverage: float
    reasons: dict[str, str]


def _coder_layout(
    length: int, spans: Sequence[Sequence], who: str, value_index: dict[str, int]
) -> list[tuple[int, int, int]]:
    """Sorted non-overlapping (start, end, value index) of one coder, gaps left out."""
    units = []
    for span in spans:
        start, end, value = int(span[0]), int(span[1]), str(span[2])
        _check_span(length, start, end, who)
        units.append((start, end, value_index[value]))
    units.sort()
    for (_, e1, _), (s2, _, _) in zip(units, units[1:], strict=False):
        if s2 < e1:
            raise InvalidInput(
                f"units of {who} overlap at [{s2}, {min(e1, s2 + 1)})",
                hint="unitized alpha needs mutually exclusive units per coder "
                "(one semantic domain: codes that never overlap)",
            )
    return units


def unitized_alpha(length: int, coder_spans: Mapping[str, Sequence[Sequence]]) -> UnitizedAlpha:
    """uα, |uα, |cuα and (k)uα for coders' ``(start, end, value)`` units on ``[0, length)``.

    Definitions (Krippendorff et al. 2016; nominal values). Each coder's units and the gaps
    between them partition the continuum. For coders i != j, each overlap of i's segment of
    value c with j's segment of value k adds its length / (m − 1) to the coincidence l_ck
    (gaps are the value ∅); l.. = m·L. Expected coincidences treat units as indivisible and gaps
    as divisible: e_ck = l.. (l_c. l_.k − [c=k] Σ ℓ) / (l..² − Σ ℓ) with ℓ = length² per unit
    and length per gap. uα = 1 − (l.. − Σ l_cc) / (l.. − Σ e_cc). |uα is the same on the
    collapse to {∅, any value}. |cuα keeps the coincidences between values only (both coders
    identified a unit) with e_ck = (l_c l_k − [c=k] T_c/(m−1)) / (l − T/(l (m−1))), where T sums
    over every unit g of coder i and other coder j the squared length of g that j also put in
    a unit. (k)uα = 1 − (e_k / l_k) (l_k − l_kk) / (e_k − e_kk) on the |cuα matrices.
    """
    coders = list(coder_spans)
    if len(coders) < 2:
        raise InvalidInput(
            f"unitized alpha needs at least two coders; got {len(coders)}",
            hint="give the spans of two or more coders for the same document",
        )
    if length <= 0:
        raise InvalidInput("the continuum (document) is empty", hint="give its length > 0")
    names = sorted({str(s[2]) for spans in coder_spans.values() for s in spans})
    value_index = {v: i + 1 for i, v in enumerate(names)}  # 0 is the gap
    q = len(names) + 1
    layouts = [_coder_layout(length, coder_spans[c], f"coder {c}", value_index) for c in coders]

    cuts = {0, length}
    for units in layouts:
        for start, end, _ in units:
            cuts.update((start, end))
    bounds = np.array(sorted(cuts))
    piece = np.diff(bounds).astype(float)  # elementary pieces between all boundaries
    m = len(coders)
    value = np.zeros((m, piece.size), dtype=int)  # value per coder per piece
    unit_of = np.full((m, piece.size), -1, dtype=int)  # unit number per coder per piece
    for i, units in enumerate(layouts):
        for u, (start, end, v) in enumerate(units):
            lo, hi = np.searchsorted(bounds, [start, end])
            value[i, lo:hi] = v
            unit_of[i, lo:hi] = u

    observed = np.zeros((q, q))
    for i in range(m):
        for j in range(m):
            if i != j:
                np.add.at(observed, (value[i], value[j]), piece)
    observed /= m - 1
    total = float(m * length)

    # self-pairing mass: length^2 per unit, length per gap character
    self_mass = np.zeros(q)
    for units in layouts:
        covered = 0
        for start, end, v in units:
            self_mass[v] += float(end - start) ** 2
            covered += end - start
        self_mass[0] += length - covered
    margin = observed.sum(axis=1)
    expected = total * (np.outer(margin, margin) - np.diag(self_mass))
    expected /= total**2 - self_mass.sum()

    reasons: dict[str, str] = {}
    de = total - np.trace(expected)
    if de <= _EPS * total:
        u_alpha = None
        reasons["u_alpha"] = "no variation: every coder made the same single segment"
    else:
        u_alpha = 1 - (total - np.trace(observed)) / de

    gap_vs_unit = expected[0].sum() - expected[0, 0]
    if margin[0] <= _EPS or margin[1:].sum() <= _EPS or gap_vs_unit <= _EPS:
        binary = None
        reasons["binary_u_alpha"] = "no variation: no unit or no gap in the continuum"
    else:
        binary = 1 - (margin[0] - observed[0, 0]) / gap_vs_unit

    cu_alpha, per_value, coverage = _coding_given_unitizing(
        observed, value, unit_of, piece, layouts, m, reasons
    )
    return UnitizedAlpha(
        _float(u_alpha),
        _float(binary),
        _float(cu_alpha),
        {names[k - 1]: _float(per_value.get(k)) for k in range(1, q)},
        [None, *names],
        observed,
        expected,
        coverage / total if total else 0.0,
        reasons,
    )


def _float(x: float | None) -> float | None:
    return None if x is None else float(x)


def _coding_given_unitizing(
    observed: np.ndarray,
    value: np.ndarray,
    unit_of: np.ndarray,
    piece: np.ndarray,
    layouts: list[list[tuple[int, int, int]]],
    m: int,
    reasons: dict[str, str],
) -> tuple[float | None, dict[int, float | None], float]:
    q = observed.shape[0]
    sub = observed[1:, 1:]
    margin = sub.sum(axis=1)
    total = float(margin.sum())
    if total <= _EPS:
        reasons["cu_alpha"] = "no stretch of text was put in a unit by two coders"
        return None, {}, 0.0
    # T_c: for each unit g of coder i and each other coder j, (|g ∩ units of j|)^2
    squares = np.zeros(q)
    for i, units in enumerate(layouts):
        for j in range(m):
            if j == i or not units:
                continue
            inside = (unit_of[i] >= 0) & (value[j] > 0)
            overlap = np.bincount(unit_of[i][inside], weights=piece[inside], minlength=len(units))
            for u, (_, _, v) in enumerate(units):
                squares[v] += overlap[u] ** 2
    t = squares[1:] / (m - 1)
    denominator = total - t.sum() / total
    if denominator <= _EPS:
        reasons["cu_alpha"] = "too little overlap to estimate chance"
        return None, {}, total
    expected = (np.outer(margin, margin) - np.diag(t)) / denominator
    de = total - np.trace(expected)
    if (margin > _EPS).sum() < 2 or de <= _EPS * total:
        cu = None
        reasons["cu_alpha"] = "fewer than two values on the jointly identified units"
    else:
        cu = 1 - (total - np.trace(sub)) / de
    per_value: dict[int, float | None] = {}
    exp_margin = expected.sum(axis=1)
    for k in range(q - 1):
        spread = exp_margin[k] - expected[k, k]
        if margin[k] <= _EPS or spread <= _EPS:
            per_value[k + 1] = None
        else:
            per_value[k + 1] = 1 - (exp_margin[k] / margin[k]) * (margin[k] - sub[k, k]) / spread
    return cu, per_value, total
