"""Optional: suggestions from sentence embeddings (the `embeddings` extra).

The model is loaded from a local path the user gives; nothing is downloaded at run time. Units and
code descriptions are embedded; with codings, a class-weighted logistic regression per code is
trained on the embeddings (thresholds as in `supervised`); without, the score is the cosine
similarity to the code's description and examples. `encoder` may be any object with
`encode(list[str]) -> array`, which is how tests run without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from caseframe.errors import InvalidInput, NotFound
from caseframe.suggest.base import CodeSpec, SuggestionMethod, register
from caseframe.suggest.definitions import check_described, describe
from caseframe.suggest.supervised import best_f1_threshold, platt, sigmoid
from caseframe.util.extras import missing_extra


def load_encoder(model_path: str | Path) -> Any:
    path = Path(model_path)
    if not path.is_dir():
        raise NotFound(
            "no sentence-transformers model folder",
            where=str(path),
            hint="give the path of a model saved on this machine (nothing is downloaded)",
        )
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise missing_extra(
            "the 'embeddings' suggestion method", "embeddings", "sentence-transformers"
        ) from None
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


@register("embeddings")
@dataclass
class EmbeddingsMethod(SuggestionMethod):
    model_path: str | None = None
    encoder: Any = None
    C: float = 1.0
    min_positives: int = 3
    folds: int = 3
    zero_shot_floor: float = 0.3
    name: str = field(default="embeddings", init=False)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.encoder is None:
            if not self.model_path:
                raise InvalidInput(
                    "the 'embeddings' method needs a local model path",
                    hint="pass model_path=... (a folder with a sentence-transformers model)",
                )
            self.encoder = load_encoder(self.model_path)
        E = np.asarray(self.encoder.encode(list(texts)), dtype=float)
        if E.ndim != 2 or E.shape[0] != len(texts):
            raise InvalidInput(f"the encoder returned shape {E.shape} for {len(texts)} texts")
        return E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)

    def _fit(self, texts: list[str], Y: np.ndarray, specs: list[CodeSpec]) -> None:
        m = len(specs)
        self.models_: list[Any] = [None] * m
        self.calibration_ = np.tile([0.0, -30.0], (m, 1))
        if len(texts) and (Y.sum(axis=0) >= self.min_positives).any():
            X = self._encode(texts)
            oof = np.full(Y.shape, -30.0)
            live = [j for j in range(m) if Y[:, j].sum() >= self.min_positives]
            for tr, te in KFold(min(self.folds, len(texts)), shuffle=True, random_state=0).split(X):
                for j in live:
                    if Y[tr, j].min() != Y[tr, j].max():
                        lr = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
                        oof[te, j] = lr.fit(X[tr], Y[tr, j]).decision_function(X[te])
            self.thresholds_ = np.ones(m)
            for j in live:
                self.calibration_[j] = platt(oof[:, j], Y[:, j])
                p = sigmoid(oof[:, j] * self.calibration_[j, 0] + self.calibration_[j, 1])
                self.thresholds_[j] = best_f1_threshold(Y[:, j], p)[0]
                lr = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
                self.models_[j] = lr.fit(X, Y[:, j])
            self.zero_shot_ = False
            return
        check_described(specs, 0.5)
        self.zero_shot_ = True
        self.owner_ = [j for j, s in enumerate(specs) for _ in range(1 + len(s.examples))]
        refs = [t for s in specs for t in (describe(s), *s.examples)]
        self.refs_ = self._encode(refs)
        self.thresholds_ = np.full(m, self.zero_shot_floor)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        X = self._encode(texts)
        if self.zero_shot_:
            sims = X @ self.refs_.T
            owner = np.asarray(self.owner_)
            out = np.zeros((len(texts), len(self.thresholds_)))
            for j in range(out.shape[1]):
                out[:, j] = sims[:, owner == j].max(axis=1)
            return np.clip(out, 0.0, 1.0)
        Z = np.full((len(texts), len(self.models_)), -30.0)
        for j, mdl in enumerate(self.models_):
            if mdl is not None:
                Z[:, j] = mdl.decision_function(X)
        return sigmoid(Z * self.calibration_[:, 0] + self.calibration_[:, 1])
