"""The embeddings method with a fake encoder (no model download)."""

import numpy as np
import pytest

from caseframe.errors import InvalidInput, NotFound
from caseframe.suggest import get_method
from caseframe.suggest.base import CodeSpec
from caseframe.suggest.text import words

VOCAB = ["money", "budget", "grant", "supervision", "guidance", "coach", "rain", "sun"]


class FakeEncoder:
    """Bag-of-words over a fixed vocabulary: enough geometry to tell topics apart."""

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), len(VOCAB) + 1))
        for i, text in enumerate(texts):
            for w in words(text):
                if w in VOCAB:
                    out[i, VOCAB.index(w)] += 1
            out[i, -1] = 0.1
        return out


BOOK = [
    CodeSpec("funding", "money and budget", examples=("a grant paid for it",)),
    CodeSpec("supervision", "supervision and guidance", examples=("a coach helped",)),
]


def test_zero_shot_by_similarity():
    method = get_method("embeddings", encoder=FakeEncoder()).fit([], None, BOOK)
    P = method.predict_proba(["the budget and the grant", "guidance from a coach"])
    assert P[0].argmax() == 0 and P[1].argmax() == 1


def test_supervised_on_embeddings():
    rng = np.random.default_rng(0)
    texts, Y = [], []
    for _ in range(60):
        k = rng.integers(2)
        pool = ["money", "budget", "grant"] if k == 0 else ["supervision", "guidance", "coach"]
        texts.append(" ".join(rng.choice(pool, 2)) + " " + rng.choice(["rain", "sun"]))
        Y.append([k == 0, k == 1])
    method = get_method("embeddings", encoder=FakeEncoder()).fit(texts, np.array(Y), BOOK)
    assert not method.zero_shot_
    assert method.predict(["grant money", "coach guidance"]).tolist() == [[1, 0], [0, 1]]


def test_missing_model_path_is_explained(tmp_path):
    with pytest.raises(InvalidInput, match="local model path"):
        get_method("embeddings").fit([], None, BOOK)
    with pytest.raises(NotFound, match="nothing is downloaded"):
        get_method("embeddings", model_path=str(tmp_path / "nope")).fit([], None, BOOK)


def test_encoder_with_wrong_shape_is_rejected():
    class Broken:
        def encode(self, texts):
            return np.zeros((1, 3))

    with pytest.raises(InvalidInput, match="encoder returned shape"):
        get_method("embeddings", encoder=Broken()).fit([], None, BOOK)
