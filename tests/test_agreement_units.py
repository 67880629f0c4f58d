"""One stated unit set per statistic (issue 14), checked against irrCAC and the `krippendorff`
package on random designs with missing ratings, and on published worked values.

Conventions: percent agreement, Gwet's AC1 and Krippendorff's alpha on the units coded by two
or more of the selected coders (pairable); Fleiss' and Cohen's kappa on the units coded by
every selected coder (complete). The references are run on exactly those units.
"""

from __future__ import annotations

import os
import re
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from caseframe.analysis.agreement import CodingMatrix, UnitInfo, per_code_agreement
from caseframe.analysis.agreement_multiclass import multiclass
from caseframe.analysis.agreement_readings import agreement_methods_sentence
from caseframe.analysis.agreement_stats import gwet_ac1, percent_agreement

try:
    import irrCAC.raw as irr
except ImportError:  # its metadata pins pandas<3 and scipy==1.12, so it is installed apart
    if os.environ.get("CI"):
        raise RuntimeError("CI needs irrCAC: pip install --no-deps irrcac==0.4.4") from None
    pytest.skip("irrCAC missing: pip install --no-deps irrcac==0.4.4", allow_module_level=True)
nan = np.nan

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C: 4 observers x
# 12 units, values 1-5, with missing values; published nominal alpha = 0.743.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)


def irrcac(rows: np.ndarray, categories: list) -> object:
    """irrCAC on units x raters (NaN = missing), full precision, categories given (pandas 3
    would otherwise count NaN as a category)."""
    frame = pd.DataFrame(rows.astype(float))
    return irr.CAC(frame, categories=categories, digits=14)


def coefficient(fn) -> float:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(fn()["est"]["coefficient_value"])


def reference(rows: np.ndarray, categories: list, name: str) -> float:
    """irrCAC's figure on these units; with a single unit irrCAC's variance divides by zero,
    so there Fleiss' kappa comes from statsmodels and AC1 / % agreement from the counts."""
    if len(rows) >= 2:
        ref = irrcac(rows, categories)
        if name == "pa":
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return float(ref.gwet()["est"]["pa"])
        return coefficient(getattr(ref, name))
    counts = np.stack([(rows == c).sum(axis=1) for c in categories], axis=1)
    if name == "fleiss":
        return float(sm_fleiss_kappa(counts))
    if name == "conger":
        return float(cohen_kappa_score(rows[:, 0], rows[:, 1]))
    return {"gwet": gwet_ac1, "pa": percent_agreement}[name](counts).value


def matrix_of(labels: np.ndarray, codes: list) -> CodingMatrix:
    """coders x units labels (NaN = not coded) -> a CodingMatrix, one code per label."""
    seen = ~np.isnan(labels.T)
    applied = np.stack([labels.T == c for c in codes], axis=2) & seen[:, :, None]
    return CodingMatrix(
        [UnitInfo(str(i)) for i in range(labels.shape[1])],
        [f"c{k}" for k in range(labels.shape[0])],
        [str(c) for c in codes],
        applied,
        seen,
    )


def test_published_alpha_with_missing_values_through_the_unit_sets():
    result = multiclass(matrix_of(KRIPPENDORFF_2011, [1, 2, 3, 4, 5]))
    assert round(result["krippendorff_alpha"], 3) == 0.743  # Krippendorff (2011), section C
    stats = result["statistics"]
    assert stats["krippendorff_alpha"]["units"] == 11  # unit 12 has one value: not pairable
    assert stats["krippendorff_alpha"]["convention"] == "pairable"
    assert stats["fleiss_kappa"]["units"] == 8  # units 2-9: every observer rated them
    rows = KRIPPENDORFF_2011.T
    pairable = (~np.isnan(rows)).sum(axis=1) >= 2
    complete = (~np.isnan(rows)).all(axis=1)
    ref = irrcac(rows[pairable], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert result["gwet_ac1"] == pytest.approx(coefficient(ref.gwet), abs=1e-12)
    assert result["krippendorff_alpha"] == pytest.approx(coefficient(ref.krippendorff))
    full = irrcac(rows[complete], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert result["fleiss_kappa"] == pytest.approx(coefficient(full.fleiss), abs=1e-12)
    # with every unit pairable the AC1 convention is Gwet's own: irrCAC's README prints
    # AC1 = 0.77544 for this table (it keeps unit 12 for the category shares)
    assert coefficient(irrcac(rows, [1.0, 2.0, 3.0, 4.0, 5.0]).gwet) == pytest.approx(
        0.77544, abs=5e-6
    )


def test_irrcac_five_observers_per_code():
    """Gwet's Handbook `raw_5observers` (shipped in irrCAC): 5 observers, 15 units, missing
    ratings; each score as a yes/no code, checked on its unit sets."""
    from irrCAC.datasets import raw_5observers

    rows = raw_5observers().to_numpy(dtype=float)
    report = per_code_agreement(matrix_of(rows.T, [0, 1, 2, 3]), bootstrap=0)
    present = ~np.isnan(rows)
    for row in report.per_code:
        value = float(row.code)
        binary = np.where(present, (rows == value).astype(float), nan)
        pairable = present.sum(axis=1) >= 2
        complete = present.all(axis=1)
        gwet = reference(binary[pairable], [0.0, 1.0], "gwet")
        assert row.values["gwet_ac1"] == pytest.approx(gwet, abs=1e-12)
        assert row.values["krippendorff_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=binary.T, level_of_measurement="nominal")
        )
        assert row.statistics["fleiss_kappa"]["units"] == int(complete.sum()) == 1
        if row.values["fleiss_kappa"] is not None:
            fleiss = reference(binary[complete], [0.0, 1.0], "fleiss")
            assert row.values["fleiss_kappa"] == pytest.approx(fleiss)


designs = st.tuples(
    st.integers(2, 5),  # coders
    st.integers(3, 40),  # units
    st.floats(0.0, 0.6),  # share of missing ratings
    st.floats(0.02, 0.6),  # how often the code is applied
    st.integers(0, 2**31 - 1),  # seed
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs)
def test_random_designs_match_irrcac_and_krippendorff(design):
    coders, units, missing, rate, seed = design
    rng = np.random.default_rng(seed)
    labels = (rng.random((coders, units)) < rate).astype(float)
    labels[rng.random((coders, units)) < missing] = nan
    matrix = matrix_of(labels, [1.0])
    if not (matrix.seen.sum(axis=1) >= 2).any():
        return  # no unit two coders coded: refused elsewhere
    report = per_code_agreement(matrix, bootstrap=0)
    rows = labels.T
    present = ~np.isnan(rows)
    pairable = present.sum(axis=1) >= 2
    complete = present.all(axis=1)
    if not report.per_code:  # nobody applied the code on a pairable unit
        assert report.not_applied == ["1.0"]
        assert np.nansum(rows[pairable]) == 0
        return
    row = report.per_code[0]
    for name, stat in row.statistics.items():
        assert stat["convention"] in ("pairable", "complete")
        expected_units = complete if stat["convention"] == "complete" else pairable
        assert stat["units"] == int(expected_units.sum()), name
        if stat["value"] is None:
            assert stat["reason"], name
        else:
            assert -1 <= stat["value"] <= 1, name
    on_pairs = rows[pairable]
    assert row.values["percent_agreement"] == pytest.approx(
        reference(on_pairs, [0.0, 1.0], "pa"), abs=1e-12
    )
    assert row.values["gwet_ac1"] == pytest.approx(
        reference(on_pairs, [0.0, 1.0], "gwet"), abs=1e-12
    )
    alpha = row.values["krippendorff_alpha"]
    if alpha is None:
        assert len(np.unique(rows[pairable][present[pairable]])) == 1  # no variation
    else:
        assert alpha == pytest.approx(
            krippendorff.alpha(reliability_data=labels, level_of_measurement="nominal"),
            abs=1e-10,
        )
        if len(on_pairs) >= 2:
            alpha_irr = coefficient(irrcac(on_pairs, [0.0, 1.0]).krippendorff)
            assert alpha == pytest.approx(alpha_irr, abs=1e-10)
    fleiss = row.values["fleiss_kappa"]
    if fleiss is not None:
        on_all = rows[complete]
        assert fleiss == pytest.approx(reference(on_all, [0.0, 1.0], "fleiss"), abs=1e-10)
        if coders == 2:
            cohen = reference(on_all, [0.0, 1.0], "conger")
            assert row.values["cohen_kappa"] == pytest.approx(cohen, abs=1e-10)
    elif complete.any():
        assert len(np.unique(rows[complete])) == 1  # no variation on the complete units
    assert_reading_matches(row)


def assert_reading_matches(row) -> None:
    """Every figure a reading quotes is one of the row's figures (two decimals), and it calls
    alpha undefined exactly when alpha is None."""
    figures = {f"{v:.2f}" for v in row.values.values() if v is not None}
    for bounds in row.ci.values():
        figures |= {f"{b:.2f}" for b in bounds or ()}
    quoted = re.findall(r"(?<![\d.])-?\d\.\d\d(?!\d)", row.reading)
    assert set(quoted) <= figures, (row.reading, figures)
    assert row.reading.startswith("Alpha is undefined") == (
        row.values["krippendorff_alpha"] is None
    )


def test_partial_overlap_rare_code_stays_bounded_and_readable():
    """Issue 14's case: a second coder codes part of one transcript; a rare code. Gwet's
    missing-data Fleiss (chance over all units, agreement over pairable ones) went to -21."""
    units, shared = 400, 30
    applied = np.zeros((units, 2, 2), dtype=bool)
    seen = np.zeros((units, 2), dtype=bool)
    seen[:, 0] = True
    seen[:shared, 1] = True
    applied[[3, 50, 120, 200, 310], 0, 0] = True  # rare code, coder A
    applied[[3, 7], 1, 0] = True  # coder B on the shared part
    applied[:, 0, 1] = np.arange(units) % 3 == 0
    applied[:shared, 1, 1] = np.arange(shared) % 3 == 0
    applied &= seen[:, :, None]
    matrix = CodingMatrix(
        [UnitInfo(str(i)) for i in range(units)], ["A", "B"], ["rare", "common"], applied, seen
    )
    report = per_code_agreement(matrix, bootstrap=200, seed=1)
    rare = report.code("rare")
    assert rare.units == shared
    for stat in rare.statistics.values():
        assert stat["value"] is None or -1 <= stat["value"] <= 1
    assert rare.statistics["fleiss_kappa"]["units"] == shared
    assert rare.values["fleiss_kappa"] == pytest.approx(rare.values["cohen_kappa"], abs=0.05)
    assert "differs" not in rare.reading
    assert_reading_matches(rare)
    assert report.code("common").values["krippendorff_alpha"] == pytest.approx(1.0)


def test_methods_sentence_names_coders_units_and_conventions():
    summary = {
        "coders": ["Ann", "Bo", "Cy"],
        "not_counted": {"Team (consensus)": "consensus"},
        "units": 120,
        "units_complete": 80,
        "codes": 7,
        "codes_not_applied": ["Other"],
        "schemes": ["turn"],
        "krippendorff_alpha": 0.71,
        "krippendorff_alpha_ci": [0.64, 0.78],
        "kappa": 0.69,
        "kappa_kind": "fleiss",
        "gwet_ac1": 0.88,
    }
    text = agreement_methods_sentence(summary)
    assert "3 independent coders (Ann, Bo and Cy)" in text
    assert "120 meaning units (turn) that two or more of them coded" in text
    assert "Fleiss' kappa = 0.69 on the 80 units every coder coded" in text
    assert "1 further code that no selected coder applied" in text
    assert "Not counted as independent coders: Team (consensus) (consensus)" in text
    assert agreement_methods_sentence(None) == ""
