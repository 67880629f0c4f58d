"""Supervised suggestions learned from the project's human codings.

One-vs-rest logistic regression on TF-IDF word and character n-grams (class-weighted, because rare
codes are the norm), optionally with the zero-shot definition scores as extra features. Internal
cross-validation on the training codings only gives out-of-fold scores, from which each code gets a
Platt calibration and a decision threshold (F1-optimal, shrunk towards the shared threshold for
codes with few examples). Nothing about the units to be predicted is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from caseframe.errors import InvalidInput
from caseframe.suggest.base import CodeSpec, SuggestionMethod, register
from caseframe.suggest.definitions import DefinitionsMethod
from caseframe.suggest.text import WordAnalyzer, detect_language, normalise

_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of p >= threshold against y, over a fixed grid."""
    pos = y.astype(bool)
    decided = p[None, :] >= _GRID[:, None]
    tp = (decided & pos).sum(axis=1)
    f1 = 2 * tp / np.maximum(decided.sum(axis=1) + pos.sum(), 1)
    k = int(f1.argmax())
    return float(_GRID[k]), float(f1[k])


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept mapping decision scores to calibrated probabilities."""
    if y.min() == y.max():
        return 0.0, -8.0 if y.max() == 0 else 8.0
    lr = LogisticRegression(C=100.0).fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@register("supervised")
@dataclass
class SupervisedMethod(SuggestionMethod):
    model: str = "svm"  # "svm" (linear SVM) or "logreg"
    C: float = 0.3
    min_positives: int = 3  # codes with fewer human codings are not learned (and reported)
    folds: int = 3
    use_definitions: bool = True  # add zero-shot scores as features when the codebook has them
    definition_weight: float = 1.0
    shrink: float = 20.0  # pseudo-count pulling thresholds of rare codes to the shared one
    char_ngrams: tuple[int, int] = (3, 5)
    max_features: int = 50_000
    stack: bool = False  # a second stage over all codes' first-stage probabilities
    stack_weight: float = 1.0
    keep_stopwords: bool = False
    language: str | None = None
    seed: int = 0
    name: str = field(default="supervised", init=False)

    def _fit(self, texts: list[str], Y: np.ndarray, specs: list[CodeSpec]) -> None:
        positives = Y.sum(axis=0)
        self.trained_ = positives >= self.min_positives
        if not self.trained_.any():
            need = [
                f"{s.code} ({self.min_positives - int(n)} more)"
                for s, n in zip(specs, positives, strict=True)
            ]
            raise InvalidInput(
                "too few human codings to learn any code: each code needs at least "
                f"{self.min_positives} coded units; "
                + ", ".join(need[:15])
                + (f" and {len(need) - 15} more codes" if len(need) > 15 else ""),
                hint="code more units, or use the zero-shot 'definitions' method",
            )
        self.untrained_codes_ = {
            s.code: self.min_positives - int(n)
            for s, n in zip(specs, positives, strict=True)
            if n < self.min_positives
        }
        self.language_ = self.language or detect_language(texts[:2000])
        self.vectorizer_ = FeatureUnion(
            [
                (
                    "word",
                    TfidfVectorizer(
                        analyzer=WordAnalyzer(self.language_, (1, 2), self.keep_stopwords),
                        sublinear_tf=True,
                        min_df=2,
                        max_features=self.max_features,
                    ),
                ),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=self.char_ngrams,
                        sublinear_tf=True,
                        min_df=2,
                        max_features=self.max_features,
                        preprocessor=normalise,
                    ),
                ),
            ]
        )
        self.vectorizer_.fit(texts)
        self.definitions_ = None
        if self.use_definitions and any(s.definition or s.examples or s.keywords for s in specs):
            self.definitions_ = DefinitionsMethod(min_described=0.0).fit(texts, None, specs)
        X = self._features(texts)

        self.models_, self.calibration_, probs = self._stage(X, Y)
        self.stage2_ = None
        if self.stack:
            # second stage sees every code's first-stage probability: label correlations, and
            # "none of the others" codes such as a catch-all
            X2 = sp.hstack([X, sp.csr_matrix(probs * self.stack_weight)]).tocsr()
            self.stage2_ = self._stage(X2, Y)
            probs = self.stage2_[2]
        self.thresholds_ = self._choose_thresholds(probs, Y)
        if self.single_label_:
            self.single_label_rule_ = self._choose_single_rule(probs, Y)
        self.code_kappa_ = self._code_kappa(probs, Y)

    def _code_kappa(self, probs: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Cohen's κ per code of the out-of-fold decisions (the models never saw those units;
        thresholds were chosen on the same scores, so the figure leans a little high)."""
        from caseframe.suggest.evaluate import kappa

        D = self.decide(probs)
        return np.array(
            [
                kappa(Y[:, j], D[:, j]) if self.trained_[j] else float("nan")
                for j in range(Y.shape[1])
            ]
        )

    def _choose_single_rule(self, probs: np.ndarray, Y: np.ndarray) -> str:
        """The single-label rule with the higher mean per-code κ on out-of-fold scores."""
        from caseframe.suggest.evaluate import score  # evaluate imports the methods

        best, best_kappa = "max", -np.inf
        for rule in ("max", "ratio"):
            self.single_label_rule_ = rule
            kappa = score(Y, self.decide(probs), self.codes_)["mean_kappa"]
            if kappa > best_kappa + 1e-9:
                best, best_kappa = rule, kappa
        return best

    def _stage(self, X: sp.csr_matrix, Y: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
        """Out-of-fold scores -> per-code Platt calibration; then models on all rows."""
        n, m = Y.shape
        oof = np.zeros((n, m))
        folds = KFold(min(self.folds, n), shuffle=True, random_state=self.seed)
        for train, held in folds.split(X):
            oof[held] = self._decision(self._train(X[train], Y[train]), X[held])
        calibration = np.tile([0.0, -30.0], (m, 1))
        probs = np.zeros((n, m))
        for j in np.flatnonzero(self.trained_):
            calibration[j] = platt(oof[:, j], Y[:, j])
            probs[:, j] = sigmoid(oof[:, j] * calibration[j, 0] + calibration[j, 1])
        return self._train(X, Y), calibration, probs

    def _features(self, texts: Sequence[str]) -> sp.csr_matrix:
        X = self.vectorizer_.transform(list(texts))
        if self.definitions_ is not None:
            D = self.definitions_.predict_proba(texts) * self.definition_weight
            X = sp.hstack([X, sp.csr_matrix(D)])
        return sp.csr_matrix(X)

    def _classifier(self) -> LinearSVC | LogisticRegression:
        # liblinear shuffles with the global random state unless given a seed
        if self.model == "svm":
            return LinearSVC(C=self.C, class_weight="balanced", random_state=self.seed)
        return LogisticRegression(
            C=self.C, class_weight="balanced", solver="liblinear", random_state=self.seed
        )

    def _train(self, X: sp.csr_matrix, Y: np.ndarray) -> list:
        models: list = []
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if not self.trained_[j] or y.min() == y.max():
                models.append(None)
                continue
            models.append(self._classifier().fit(X, y))
        return models

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The feature rows of `texts` (for `refit_codes`, which then needs no re-reading)."""
        return self._features(texts)

    def refit_codes(self, X: sp.csr_matrix, Y: np.ndarray, codes: Sequence[int]) -> list[int]:
        """Retrain the classifiers of `codes` (indices) on feature rows X and 0/1 labels Y.

        Quick enough to follow a reviewer: the vocabulary stays; a code already learned keeps
        its calibration and threshold and only its weights change; a code that now reaches
        `min_positives` is learned with out-of-fold calibration of its own. Returns the codes
        retrained. (With `stack`, the second stage is not retrained.)
        """
        Y = (np.asarray(Y) > 0).astype(np.int8)
        done = []
        for j in codes:
            y = Y[:, j]
            if y.sum() < self.min_positives or y.min() == y.max():
                continue
            if not self.trained_[j]:
                self._learn_new_code(X, y, j)
            self.models_[j] = self._classifier().fit(X, y)
            done.append(int(j))
        return done

    def _learn_new_code(self, X: sp.csr_matrix, y: np.ndarray, j: int) -> None:
        oof = np.full(len(y), -30.0)
        folds = KFold(min(self.folds, len(y)), shuffle=True, random_state=self.seed)
        for train, held in folds.split(X):
            if y[train].min() != y[train].max():
                clf = self._classifier().fit(X[train], y[train])
                oof[held] = np.asarray(X[held] @ clf.coef_[0]).ravel() + clf.intercept_[0]
        self.calibration_[j] = platt(oof, y)
        p = sigmoid(oof * self.calibration_[j, 0] + self.calibration_[j, 1])
        t, _ = best_f1_threshold(y, p)
        k = y.sum()
        self.thresholds_[j] = (k * t + self.shrink * self.shared_threshold_) / (k + self.shrink)
        self.trained_[j] = True
        self.untrained_codes_.pop(self.codes_[j], None)
        if self.code_kappa_ is not None:
            from caseframe.suggest.evaluate import kappa

            self.code_kappa_[j] = kappa(y, (p >= self.thresholds_[j]).astype(int))

    def explain(
        self, texts: Sequence[str], pairs: Sequence[tuple[int, int]], top: int = 3
    ) -> list[list[tuple[int, int, str]]]:
        """The word n-grams of each unit with the largest weight × TF-IDF for the code."""
        from caseframe.suggest.reasons import phrase_spans, top_terms

        word = self.vectorizer_.transformer_list[0][1]
        names = word.get_feature_names_out()
        rows = sorted({i for i, _ in pairs})
        where = {i: r for r, i in enumerate(rows)}
        W = word.transform([texts[i] for i in rows]) if rows else None
        out = []
        for i, j in pairs:
            model = self.models_[j]
            if model is None or W is None:
                out.append([])
                continue
            terms = top_terms(W[where[i]], model.coef_[0][: len(names)], names, top)
            out.append(phrase_spans(texts[i], terms, self.language_))
        return out

    @staticmethod
    def _decision(models: list, X: sp.csr_matrix) -> np.ndarray:
        out = np.full((X.shape[0], len(models)), -30.0)
        live = [j for j, mdl in enumerate(models) if mdl is not None]
        if live:
            W = np.vstack([models[j].coef_[0] for j in live])
            b = np.array([models[j].intercept_[0] for j in live])
            out[:, live] = np.asarray(X @ W.T) + b
        return out

    def _choose_thresholds(self, probs: np.ndarray, Y: np.ndarray) -> np.ndarray:
        live = np.flatnonzero(self.trained_)
        shared, _ = best_f1_threshold(Y[:, live].ravel(), probs[:, live].ravel())
        thresholds = np.ones(Y.shape[1])
        for j in live:
            t, _ = best_f1_threshold(Y[:, j], probs[:, j])
            k = Y[:, j].sum()
            thresholds[j] = (k * t + self.shrink * shared) / (k + self.shrink)
        self.shared_threshold_ = shared
        return thresholds

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.thresholds_ is None:
            raise InvalidInput("method 'supervised' is not fitted", hint="call fit() first")
        return self.predict_proba_features(self._features(texts))

    def predict_proba_features(self, X: sp.csr_matrix) -> np.ndarray:
        """Scores of feature rows made by `features`."""
        Z = self._decision(self.models_, X)
        P = sigmoid(Z * self.calibration_[:, 0] + self.calibration_[:, 1])
        if self.stage2_ is not None:
            models, calibration, _ = self.stage2_
            X2 = sp.hstack([X, sp.csr_matrix(P * self.stack_weight)]).tocsr()
            P = sigmoid(self._decision(models, X2) * calibration[:, 0] + calibration[:, 1])
        return P


@register("baseline")
@dataclass
class BaselineMethod(SuggestionMethod):
    """The plain reference point: word TF-IDF, one-vs-rest logistic regression, threshold 0.5."""

    name: str = field(default="baseline", init=False)

    def _fit(self, texts: list[str], Y: np.ndarray, specs: list[CodeSpec]) -> None:
        if not len(texts):
            raise InvalidInput("the baseline needs human codings", hint="use 'definitions'")
        self.vectorizer_ = TfidfVectorizer()
        X = self.vectorizer_.fit_transform(texts)
        self.models_ = [
            LogisticRegression(max_iter=1000).fit(X, Y[:, j])
            if Y[:, j].min() != Y[:, j].max()
            else None
            for j in range(Y.shape[1])
        ]
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        self.at_least_one_ = self.single_label_ = False
        self.exclusive_ = None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        X = self.vectorizer_.transform(list(texts))
        out = np.zeros((X.shape[0], len(self.models_)))
        for j, mdl in enumerate(self.models_):
            if mdl is not None:
                out[:, j] = mdl.predict_proba(X)[:, 1]
        return out
