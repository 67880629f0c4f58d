"""Character-level kappa (NVivo) and Krippendorff's unitized alpha family, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from caseframe.analysis.unitized import character_kappa, unitized_alpha
from caseframe.errors import InvalidInput


def test_character_kappa_nvivo_formula():
    # N = 100; A coded [0, 40), B coded [20, 50): A = 40, B = 30, both = 20, neither = 50.
    # agree = 70; ΣEF = (40*30 + 60*70) / 100 = 54; kappa = (70 - 54) / (100 - 54) = 16/46.
    result = character_kappa(100, [(0, 40)], [(20, 50)])
    assert (result.coded_a, result.coded_b, result.both, result.neither) == (40, 30, 20, 50)
    assert result.percent_agreement == pytest.approx(0.70)
    assert result.kappa == pytest.approx(16 / 46)


@pytest.mark.parametrize("seed", range(4))
def test_character_kappa_matches_sklearn_on_characters(seed):
    rng = np.random.default_rng(seed)
    length = 500
    spans_a = [(s, s + int(rng.integers(1, 40))) for s in rng.integers(0, 450, 6)]
    spans_b = [(s, s + int(rng.integers(1, 40))) for s in rng.integers(0, 450, 6)]
    a = np.zeros(length, int)
    b = np.zeros(length, int)
    for s, e in spans_a:
        a[s:e] = 1  # overlapping spans of one coder merge
    for s, e in spans_b:
        b[s:e] = 1
    result = character_kappa(length, spans_a, spans_b)
    assert result.kappa == pytest.approx(cohen_kappa_score(a, b))
    assert result.percent_agreement == pytest.approx((a == b).mean())


def test_character_kappa_undefined_when_nothing_coded():
    result = character_kappa(50, [], [])
    assert result.kappa is None and result.percent_agreement == 1.0
    assert "undefined" in result.reason
    with pytest.raises(InvalidInput, match="outside the document"):
        character_kappa(50, [(40, 60)], [])


def test_unitized_alpha_hand_example_same_values():
    # L = 10, two coders (m - 1 = 1). A: x [0,4), y [6,8). B: x [0,4), y [5,8).
    # Pieces: [0,4) x|x, [4,5) ∅|∅, [5,6) ∅|y, [6,8) y|y, [8,10) ∅|∅.
    # Coincidences (both orders): l_xx = 8, l_yy = 4, l_∅∅ = 6, l_∅y = l_y∅ = 1; l.. = 20.
    # Margins: l_x = 8, l_y = 5, l_∅ = 7. Self mass: x 4²+4² = 32, y 2²+3² = 13, gaps 4+3 = 7;
    # Σ = 52, so l..² − Σ = 348. e_xx = 20(64−32)/348, e_yy = 20(25−13)/348,
    # e_∅∅ = 20(49−7)/348 -> Σ e_cc = 1720/348.
    # uα = 1 − (20 − 18) / (20 − 1720/348) = 1 − 696/5240.
    # |uα: observed ∅-vs-unit = 1, expected = 20·7·13/348 = 1820/348 -> 1 − 348/1820.
    # |cuα: where both identified a unit the values agree -> 1.
    r = unitized_alpha(10, {"A": [(0, 4, "x"), (6, 8, "y")], "B": [(0, 4, "x"), (5, 8, "y")]})
    assert r.observed.sum() == pytest.approx(20)
    assert r.u_alpha == pytest.approx(1 - 696 / 5240)
    assert r.binary_u_alpha == pytest.approx(1 - 348 / 1820)
    assert r.cu_alpha == pytest.approx(1.0)
    assert r.per_value == {"x": pytest.approx(1.0), "y": pytest.approx(1.0)}
    assert r.cu_coverage == pytest.approx(12 / 20)


def test_unitized_alpha_hand_example_different_values():
    # As above but B's second unit is x [5,8): pieces [5,6) ∅|x, [6,8) y|x.
    # l_xx = 8, l_∅∅ = 6, l_∅x = l_x∅ = 1, l_xy = l_yx = 2, l_yy = 0.
    # Margins l_x = 11, l_y = 2, l_∅ = 7; self mass x 16+16+9 = 41, y 4, gaps 7 (Σ 52).
    # e_xx = 20(121−41)/348, e_yy = 0, e_∅∅ = 840/348 -> Σ = 2440/348.
    # uα = 1 − 6 / (20 − 2440/348) = 1 − 2088/4520.
    # |cuα: values-only matrix l_xx = 8, l_xy = l_yx = 2 -> l_x = 10, l_y = 2, l = 12.
    # T (squared unit-in-unit overlaps): x: 4² + 4² + 2² = 36, y: 2² = 4; Σ 40.
    # denominator = 12 − 40/12 = 26/3; e_xx = (100 − 36)/(26/3) = 192/26, e_yy = 0.
    # |cuα = 1 − (12 − 8)/(12 − 192/26) = 1 − 104/120 = 2/15.
    # (x)uα: e_x = 192/26 + 20·3/26 = 252/26; 1 − (e_x/10)·2/(60/26) = 1 − 0.84 = 0.16.
    # (y)uα: l_y = 2, l_yy = 0, e_y = e_yx = 60/26 -> 1 − (e_y/2)·2/e_y = 0.
    r = unitized_alpha(10, {"A": [(0, 4, "x"), (6, 8, "y")], "B": [(0, 4, "x"), (5, 8, "x")]})
    assert r.u_alpha == pytest.approx(1 - 2088 / 4520)
    assert r.binary_u_alpha == pytest.approx(1 - 348 / 1820)  # same unitizing as above
    assert r.cu_alpha == pytest.approx(2 / 15)
    assert r.per_value["x"] == pytest.approx(0.16)
    assert r.per_value["y"] == pytest.approx(0.0, abs=1e-12)


def test_unitized_alpha_properties():
    same = [(0, 4, "x"), (6, 8, "y"), (12, 20, "x")]
    r = unitized_alpha(25, {"A": same, "B": same, "C": same})
    assert (r.u_alpha, r.binary_u_alpha, r.cu_alpha) == pytest.approx((1.0, 1.0, 1.0))
    # spans given in any order, coder names arbitrary
    r2 = unitized_alpha(25, {"z": list(reversed(same)), "y": same, "w": same})
    assert r2.u_alpha == pytest.approx(1.0)
    # disjoint unitizing: A marks [0,10), B marks [10,20) -> agreement below chance
    r3 = unitized_alpha(20, {"A": [(0, 10, "x")], "B": [(10, 20, "x")]})
    assert r3.binary_u_alpha < 0 and r3.cu_alpha is None
    assert "cu_alpha" in r3.reasons
    # a single value: |cuα is undefined (nothing to disagree on), uα and |uα still defined
    r4 = unitized_alpha(20, {"A": [(0, 10, "x")], "B": [(2, 10, "x")]})
    assert r4.cu_alpha is None and r4.u_alpha is not None
    assert r4.u_alpha == pytest.approx(r4.binary_u_alpha)  # one value: uα is |uα


def test_unitized_alpha_bad_input():
    with pytest.raises(InvalidInput, match="at least two coders"):
        unitized_alpha(10, {"A": [(0, 4, "x")]})
    with pytest.raises(InvalidInput, match="overlap"):
        unitized_alpha(10, {"A": [(0, 4, "x"), (3, 6, "y")], "B": []})
    with pytest.raises(InvalidInput, match="outside"):
        unitized_alpha(10, {"A": [(0, 14, "x")], "B": []})
