"""Choosing the next units to code: uncertain units and scarce codes first, no duplicates."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from caseframe.suggest import get_method
from caseframe.suggest.active import next_units
from caseframe.suggest.base import CodeSpec

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="module")
def fitted():
    path = SHARED / "data/nhs-patient-experience/neas_comments.csv"
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests need ../shared beside the repository")
    frame = pd.read_csv(path)
    frame = frame[frame["FFT answer"].fillna("").str.strip() != ""]
    codes = list(frame.columns[11:])
    coded, pool = frame.iloc[:800], frame.iloc[800:1400]
    Y = coded[codes].fillna(0).to_numpy(dtype=np.int8)
    method = get_method("supervised").fit(
        list(coded["FFT answer"]), Y, [CodeSpec(c) for c in codes]
    )
    return method, list(pool["FFT answer"]), Y.sum(axis=0)


def test_most_uncertain_units_come_first(fitted):
    method, pool, counts = fitted
    picked = next_units(method, pool, n=20)
    assert len(picked) == 20
    idx = [i for i, _ in picked]
    assert len(set(idx)) == 20
    texts = [" ".join(pool[i].lower().split()) for i in idx]
    assert "did not answer" not in texts  # the model is sure about those
    P = method.predict_proba(pool)
    margin = np.abs(P - method.thresholds_).min(axis=1)
    assert margin[idx].mean() < np.median(margin)
    priorities = [p for _, p in picked]
    assert priorities == sorted(priorities, reverse=True)


def test_duplicate_texts_are_listed_once(fitted):
    method, _, _ = fitted
    picked = next_units(method, ["Staff were late.", "staff were late", "Good"], n=3)
    assert len(picked) == 2


def test_scarce_codes_pull_units_up(fitted):
    method, pool, counts = fitted
    plain = [i for i, _ in next_units(method, pool, n=50)]
    steered = [i for i, _ in next_units(method, pool, coded_counts=counts, n=50, coverage_weight=2)]
    P = method.predict_proba(pool)
    scarcity = 1 / (1 + counts)
    assert (P[steered] * scarcity).max(axis=1).mean() > (P[plain] * scarcity).max(axis=1).mean()
    assert next_units(method, [], n=5) == []
