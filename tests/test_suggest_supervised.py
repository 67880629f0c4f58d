"""Supervised suggestions on small real subsets: NHS patient comments and AnnoMI turns."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from caseframe.errors import InvalidInput
from caseframe.suggest import get_method
from caseframe.suggest.base import CodeSpec
from caseframe.suggest.evaluate import score

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests need ../shared beside the repository")
    return path


@pytest.fixture(scope="module")
def nhs():
    """NEAS comments split by respondent (fixed seed): train/test texts and label matrices."""
    frame = pd.read_csv(_need(SHARED / "data/nhs-patient-experience/neas_comments.csv"))
    frame = frame[frame["FFT answer"].fillna("").str.strip() != ""]
    codes = list(frame.columns[11:])
    respondents = np.random.default_rng(1).permutation(frame["Respondent ID"].unique())
    train = frame[frame["Respondent ID"].isin(respondents[:700])]
    test = frame[frame["Respondent ID"].isin(respondents[700:1000])]
    Y = lambda f: f[codes].fillna(0).to_numpy(dtype=np.int8)  # noqa: E731
    book = [CodeSpec(c) for c in codes]
    return list(train["FFT answer"]), Y(train), list(test["FFT answer"]), Y(test), book


def test_supervised_beats_a_trivial_baseline_clearly(nhs):
    tx, ty, ex, ey, book = nhs
    method = get_method("supervised").fit(tx, ty, book)
    got = score(ey, method.predict(ex), [c.code for c in book])
    # trivial: every comment gets the training set's most frequent code
    trivial = np.zeros_like(ey)
    trivial[:, ty.sum(axis=0).argmax()] = 1
    base = f1_score(ey, trivial, average="micro")
    assert got["micro_f1"] > base + 0.3, (got["micro_f1"], base)
    assert got["mean_kappa"] > 0.25


def test_thresholds_come_from_training_data_only(nhs):
    tx, ty, ex, ey, book = nhs
    a = get_method("supervised").fit(tx, ty, book)
    b = get_method("supervised").fit(tx, ty, book)
    np.testing.assert_array_equal(a.thresholds_, b.thresholds_)
    assert np.all((a.thresholds_ > 0) & (a.thresholds_ <= 1))
    # untrained codes (too rare) are never suggested
    rare = ty.sum(axis=0) < a.min_positives
    assert np.all(a.predict_proba(ex)[:, rare] < a.thresholds_[rare])
    assert set(a.untrained_codes_) == {book[j].code for j in np.flatnonzero(rare)}


def test_calibrated_probabilities_track_frequencies(nhs):
    tx, ty, ex, ey, book = nhs
    P = get_method("supervised").fit(tx, ty, book).predict_proba(ex)
    assert P.shape == ey.shape and np.all((P >= 0) & (P <= 1))
    # Platt scaling on out-of-fold scores: expected and observed code counts are close
    assert abs(P.sum() - ey.sum()) < 0.25 * ey.sum()


def test_too_few_codings_says_how_many_more_per_code():
    book = [CodeSpec("a"), CodeSpec("b")]
    Y = np.array([[1, 0], [0, 1], [0, 0], [0, 0]])
    with pytest.raises(InvalidInput) as err:
        get_method("supervised").fit(["x y", "y z", "z w", "w x"], Y, book)
    assert "a (2 more)" in err.value.line() and "b (2 more)" in err.value.line()


def test_annomi_therapist_behaviour_single_label():
    """Held-out conversations; single-label data are decided by argmax."""
    frame = pd.read_csv(_need(SHARED / "data/annomi/AnnoMI-full.csv"))
    frame = frame[(frame.interlocutor == "therapist") & (frame.annotator_id == frame.annotator_id)]
    frame = frame.drop_duplicates(["transcript_id", "utterance_id"])
    codes = ["reflection", "question", "therapist_input", "other"]
    conv = sorted(frame.transcript_id.unique())
    train = frame[frame.transcript_id.isin(conv[:60])]
    test = frame[frame.transcript_id.isin(conv[60:80])]
    Y = lambda f: np.array([[x == c for c in codes] for x in f.main_therapist_behaviour])  # noqa: E731
    method = get_method("supervised").fit(list(train.utterance_text), Y(train), codes)
    assert method.single_label_
    D = method.predict(list(test.utterance_text))
    assert (D.sum(axis=1) == 1).all()
    got = score(Y(test), D, codes)
    assert got["mean_kappa"] > 0.4
