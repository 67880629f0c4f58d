"""Zero-shot suggestions from the codebook: each unit is scored against every code's definition,
examples and keywords. Needs no human codings, so coding with a framework can start on day one.

Score per code = the highest of: cosine similarity (TF-IDF, word and character n-grams) to the
code's description (name + definition + keywords), to its closest example, and a fixed score when
one of its keywords occurs as a phrase in the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from caseframe.errors import InvalidInput
from caseframe.suggest.base import CodeSpec, SuggestionMethod, register
from caseframe.suggest.text import WordAnalyzer, detect_language, normalise, words


def describe(spec: CodeSpec) -> str:
    return " ".join(x for x in (spec.name, spec.code, spec.definition, *spec.keywords) if x)


def check_described(specs: list[CodeSpec], min_fraction: float) -> None:
    bare = [s.code for s in specs if not (s.definition or s.examples or s.keywords)]
    if bare and len(bare) > (1 - min_fraction) * len(specs):
        shown = ", ".join(bare[:10]) + (f" and {len(bare) - 10} more" if len(bare) > 10 else "")
        raise InvalidInput(
            f"{len(bare)} of {len(specs)} codes have no definition, examples or keywords: {shown}",
            hint="add definitions (or examples/keywords) to these codes, or use the 'supervised' "
            "method once there are human codings",
        )


def make_vectorizer(language: str, min_df: int = 1) -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer=WordAnalyzer(language, (1, 2)), sublinear_tf=True, min_df=min_df
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    preprocessor=normalise,
                ),
            ),
        ]
    )


@register("definitions")
@dataclass
class DefinitionsMethod(SuggestionMethod):
    min_score: float = 0.15  # zero-shot floor for the best code of a unit
    relative: float = 0.8  # other codes suggested when within this ratio of the best one
    keyword_score: float = 0.6
    min_described: float = 0.5  # fraction of codes that must have a description
    language: str | None = None
    name: str = field(default="definitions", init=False)

    def _fit(self, texts: list[str], Y: np.ndarray, specs: list[CodeSpec]) -> None:
        check_described(specs, self.min_described)
        self.specs_ = specs
        profiles = [describe(s) for s in specs]
        examples = [(j, ex) for j, s in enumerate(specs) for ex in s.examples]
        lang = self.language or detect_language(profiles + [e for _, e in examples] + texts[:500])
        self.language_ = lang
        self.vectorizer_ = make_vectorizer(lang)
        # unlabelled unit texts may inform the vocabulary weights; labels are never used here
        self.vectorizer_.fit(profiles + [e for _, e in examples] + texts)
        self.profile_matrix_ = self._embed(profiles)
        self.example_owner_ = np.array([j for j, _ in examples], dtype=int)
        self.example_matrix_ = self._embed([e for _, e in examples]) if examples else None
        self.keywords_ = [[" ".join(words(k)) for k in s.keywords if words(k)] for s in specs]
        self.thresholds_ = np.full(len(specs), self.min_score)
        if len(texts) and Y.any():
            self._tune_on_codings(texts, Y)

    def _embed(self, texts: Sequence[str]) -> sp.csr_matrix:
        return normalize(sp.csr_matrix(self.vectorizer_.transform(list(texts))))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        X = self._embed(texts)
        S = (X @ self.profile_matrix_.T).toarray()
        if self.example_matrix_ is not None:
            E = (X @ self.example_matrix_.T).toarray()
            for j in np.unique(self.example_owner_):
                S[:, j] = np.maximum(S[:, j], E[:, self.example_owner_ == j].max(axis=1))
        if any(self.keywords_):
            for i, text in enumerate(texts):
                padded = " " + " ".join(words(text)) + " "
                for j, kws in enumerate(self.keywords_):
                    if any(f" {k} " in padded for k in kws):
                        S[i, j] = max(S[i, j], self.keyword_score)
        return np.clip(S, 0.0, 1.0)

    def decide(self, P: np.ndarray) -> np.ndarray:
        if self.at_least_one_ or self.single_label_:
            return super().decide(P)
        # zero-shot: the best code if it clears the floor, and close runners-up
        best = P.max(axis=1, keepdims=True) if P.size else P
        return ((P >= self.thresholds_) & (P >= self.relative * best)).astype(np.int8)

    def _tune_on_codings(self, texts: list[str], Y: np.ndarray) -> None:
        """With codings at hand, pick the floor that maximises micro-F1 on them (training data)."""
        P = self.predict_proba(texts)
        best_f, best_t = -1.0, self.min_score
        for t in np.arange(0.05, 0.8, 0.025):
            self.thresholds_ = np.full(P.shape[1], t)
            D = self.decide(P)
            tp = int((D & Y).sum())
            f = 2 * tp / max(int(D.sum() + Y.sum()), 1)
            if f > best_f:
                best_f, best_t = f, t
        self.thresholds_ = np.full(P.shape[1], best_t)
