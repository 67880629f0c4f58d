"""Agreement coefficients against reference implementations and published worked examples."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from caseframe.analysis.agreement_stats import (
    LANDIS_KOCH_CAVEAT,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha_counts,
    krippendorff_alpha_nominal,
    krippendorff_band,
    landis_koch,
    percent_agreement,
    ratings_to_counts,
)

nan = np.nan

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C: 4 observers x
# 12 units, values 1-5, missing data; published alpha (nominal) = 0.743. The same table is
# irrCAC's `cac.raw4raters` (units as rows), for which Gwet's irrCAC README prints
# AC1 = 0.77544 (pe 0.1903212), Fleiss' kappa = 0.76117 (pe 0.2387153),
# percent agreement = 0.8181818, Krippendorff's alpha = 0.74342.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)

# irrCAC `cont3x3abstractors` (Gwet, Handbook of Inter-Rater Reliability): two abstractors,
# 100 cases; README: Cohen 0.7964094, AC1 0.8493305, alpha 0.7972585, percent 0.89.
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])

# irrCAC `distrib.6raters`: 15 patients x 5 diagnoses, 6 psychiatrists (counts per category);
# README: AC1 0.4448007 (pa 0.5511111, pe 0.1914815), Fleiss 0.4139265, alpha 0.4204384.
SIX_RATERS = np.array(
    [
        [0, 0, 0, 6, 0],
        [0, 3, 0, 0, 3],
        [0, 1, 4, 0, 1],
        [0, 0, 0, 0, 6],
        [0, 3, 0, 3, 0],
        [2, 0, 4, 0, 0],
        [0, 0, 4, 0, 2],
        [2, 0, 3, 1, 0],
        [2, 0, 0, 4, 0],
        [0, 0, 0, 0, 6],
        [1, 0, 0, 5, 0],
        [1, 1, 0, 4, 0],
        [0, 3, 3, 0, 0],
        [1, 0, 0, 5, 0],
        [0, 2, 0, 3, 1],
    ]
)


def table_to_pairs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = [], []
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            a += [i] * int(table[i, j])
            b += [j] * int(table[i, j])
    return np.array(a, float), np.array(b, float)


def test_krippendorff_published_nominal_example():
    result = krippendorff_alpha_nominal(KRIPPENDORFF_2011)
    assert round(result.value, 3) == 0.743
    assert result.value == pytest.approx(
        krippendorff.alpha(reliability_data=KRIPPENDORFF_2011, level_of_measurement="nominal")
    )
    assert result.units == 11  # unit 12 has a single value and is not pairable


def test_gwet_irrcac_values_with_missing_data():
    counts, _ = ratings_to_counts(KRIPPENDORFF_2011)
    ac1 = gwet_ac1(counts)
    assert ac1.value == pytest.approx(0.77544, abs=5e-6)
    assert ac1.expected == pytest.approx(0.1903212, abs=5e-8)
    fk = fleiss_kappa(counts)
    assert fk.value == pytest.approx(0.76117, abs=5e-6)
    assert fk.expected == pytest.approx(0.2387153, abs=5e-8)
    assert percent_agreement(counts).value == pytest.approx(0.8181818, abs=5e-8)
    assert krippendorff_alpha_counts(counts).value == pytest.approx(0.74342, abs=5e-6)


def test_gwet_irrcac_two_rater_table():
    a, b = table_to_pairs(ABSTRACTORS)
    assert cohen_kappa(a, b).value == pytest.approx(0.7964094, abs=5e-8)
    counts, _ = ratings_to_counts(np.vstack([a, b]))
    assert gwet_ac1(counts).value == pytest.approx(0.8493305, abs=5e-8)
    assert krippendorff_alpha_counts(counts).value == pytest.approx(0.7972585, abs=5e-8)
    assert percent_agreement(counts).value == pytest.approx(0.89)


def test_gwet_irrcac_six_raters_distribution():
    ac1 = gwet_ac1(SIX_RATERS)
    assert ac1.value == pytest.approx(0.4448007, abs=5e-8)
    assert ac1.observed == pytest.approx(0.5511111, abs=5e-8)
    assert ac1.expected == pytest.approx(0.1914815, abs=5e-8)
    assert fleiss_kappa(SIX_RATERS).value == pytest.approx(0.4139265, abs=5e-8)
    assert fleiss_kappa(SIX_RATERS).value == pytest.approx(sm_fleiss_kappa(SIX_RATERS))
    assert krippendorff_alpha_counts(SIX_RATERS).value == pytest.approx(0.4204384, abs=5e-8)


def test_gwet_2008_kappa_paradox_hand_example():
    # 10 units, two raters: 8 yes/yes, 1 no/no, 1 yes/no. Gwet (2008): pe = 2 pi (1 - pi) with
    # pi = (17/20) -> pe = 2 * .85 * .15 = .255; AC1 = (.9 - .255) / (1 - .255) = .8658.
    a = np.array([1] * 8 + [0] + [1], float)
    b = np.array([1] * 8 + [0] + [0], float)
    counts, _ = ratings_to_counts(np.vstack([a, b]))
    ac1 = gwet_ac1(counts)
    assert ac1.expected == pytest.approx(0.255)
    assert ac1.value == pytest.approx(0.645 / 0.745)
    # kappa is pulled far below the 90% raw agreement: the paradox AC1 avoids
    assert cohen_kappa(a, b).value == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(a, b).value < 0.65 < ac1.value


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_match_libraries(seed):
    rng = np.random.default_rng(seed)
    coders, units, q = int(rng.integers(2, 6)), int(rng.integers(20, 200)), int(rng.integers(2, 5))
    data = rng.integers(0, q, size=(coders, units)).astype(float)
    # make coders agree more than chance
    data[1:, : units // 2] = data[0, : units // 2]
    complete = data.copy()
    data[rng.random(data.shape) < 0.15] = nan

    ours = krippendorff_alpha_nominal(data).value
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert ours == pytest.approx(ref, abs=1e-10)

    counts, _ = ratings_to_counts(complete, categories=list(range(q)))
    assert fleiss_kappa(counts).value == pytest.approx(sm_fleiss_kappa(counts), abs=1e-10)

    a, b = data[0], data[1]
    both = ~np.isnan(a) & ~np.isnan(b)
    assert cohen_kappa(a, b).value == pytest.approx(cohen_kappa_score(a[both], b[both]), abs=1e-10)


def qualcoder_kappa(coded_a: int, coded_b: int, both: int) -> float:
    """The chance term as QualCoder's coder comparison computes it (for contrast only):
    N = characters coded by either coder, Po = both / N, Pe = Pyes * Pno (a product)."""
    n = coded_a + coded_b - both
    po = both / n
    p_yes = (coded_a / n) * (coded_b / n)
    p_no = ((n - coded_a) / n) * ((n - coded_b) / n)
    pe = p_yes * p_no
    return (po - pe) / (1 - pe)


def test_qualcoder_product_formula_is_not_kappa():
    # 100 characters: coder A coded 0-40, coder B 20-50 -> A=40, B=30, both=20, neither=50.
    a = np.zeros(100)
    b = np.zeros(100)
    a[0:40] = 1
    b[20:50] = 1
    ours = cohen_kappa(a, b).value
    # chance = .4*.3 + .6*.7 = .54 (added); kappa = (.70 - .54) / (1 - .54) = .3478
    assert ours == pytest.approx(0.16 / 0.46)
    assert ours == pytest.approx(cohen_kappa_score(a, b))
    wrong = qualcoder_kappa(40, 30, 20)  # N=50, Po=.4, Pe=.48*.08=.0384 -> .3761
    assert wrong == pytest.approx((0.4 - 0.0384) / 0.9616)
    assert abs(wrong - ours) > 0.02


def test_no_variation_is_undefined_with_reason():
    never = np.zeros((3, 10))
    alpha = krippendorff_alpha_nominal(never)
    assert alpha.value is None and "undefined" in alpha.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(cohen_kappa_score(never[0], never[1]))  # sklearn: NaN, we: None
    assert cohen_kappa(never[0], never[1]).value is None
    counts = np.column_stack([np.full(10, 3), np.zeros(10)])  # everyone chose category 0
    assert fleiss_kappa(counts).value is None
    assert fleiss_kappa(counts).reason.startswith("chance agreement is 1")
    assert gwet_ac1(counts).value == 1.0  # AC1's chance term is 0 here, so AC1 = Pa = 1
    assert percent_agreement(counts).value == 1.0


def test_single_ratings_and_no_overlap():
    only_one = np.array([[1, nan, 0], [nan, 1, nan]])
    alpha = krippendorff_alpha_nominal(only_one)
    assert alpha.value is None and alpha.units == 0
    assert cohen_kappa(only_one[0], only_one[1]).reason == "the two coders share no rated unit"
    counts, _ = ratings_to_counts(only_one)
    assert gwet_ac1(counts).value is None
    assert percent_agreement(counts).value is None
    assert gwet_ac1(np.array([[2.0], [2.0]])).reason == "AC1 needs at least two categories"


def test_landis_koch_bands_and_caveat():
    assert [landis_koch(v) for v in (-0.1, 0.0, 0.2, 0.21, 0.4, 0.55, 0.61, 0.8, 0.81, 1.0)] == [
        "poor",
        "slight",
        "slight",
        "fair",
        "fair",
        "moderate",
        "substantial",
        "substantial",
        "almost perfect",
        "almost perfect",
    ]
    assert landis_koch(None) == "undefined"
    assert [krippendorff_band(v) for v in (0.8, 0.7, 0.5)] == [
        "reliable",
        "tentative",
        "unreliable",
    ]
    assert "rare" in LANDIS_KOCH_CAVEAT
