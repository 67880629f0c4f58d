"""Zero-shot suggestions from the codebook: each unit is scored against every code's definition,
examples and keywords. Needs no human codings, so coding with a framework can start on day one.

Similarity per code = the higher of the cosine similarities (TF-IDF, word and character n-grams)
to the code's description (name + definition + keywords) and to its closest example. Each
distinct keyword found in the unit (as a phrase; an acronym such as "IT" only in capitals) then
adds evidence: score = 1 − (1 − similarity) × Π (1 − w) over the keywords found, where w is
`keyword_score` divided by the number of codes sharing the keyword and lowered for words that
occur in many of the units (a keyword in half the units says little). The score is a similarity,
not a probability; it differs from unit to unit with the similarity.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from caseframe.errors import InvalidInput
from caseframe.suggest.base import CodeSpec, SuggestionMethod, register
from caseframe.suggest.text import detect_language, make_vectorizer, words

ZERO_SHOT_FLOOR = 0.15
_TOKEN = re.compile(r"\w+")


def _is_acronym(keyword: str) -> bool:
    """ "IT", "NSPH": matched in capitals only, so "it" the pronoun is not the IT department."""
    return keyword.isupper() and keyword.isalpha() and len(keyword) <= 6


def _keyword_key(keyword: str) -> str:
    return keyword if _is_acronym(keyword) else " ".join(words(keyword))


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


@register("definitions")
@dataclass
class DefinitionsMethod(SuggestionMethod):
    # floor for the best code of a unit: None = 0.15, or with codings the floor that fits them
    # best; a number given here is kept as it is
    min_score: float | None = None
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
        self.keywords_ = [[k for k in s.keywords if words(k)] for s in specs]
        self.keyword_weights_ = self._keyword_weights(texts)
        self.thresholds_ = np.full(
            len(specs), ZERO_SHOT_FLOOR if self.min_score is None else self.min_score
        )
        if len(texts) and Y.any():
            from caseframe.suggest.evaluate import kappa  # evaluate imports the registry

            if self.min_score is None:
                self._tune_on_codings(texts, Y)
            D = self.decide(self.predict_proba(texts))
            self.code_kappa_ = np.array(
                [
                    kappa(Y[:, j], D[:, j]) if Y[:, j].any() else float("nan")
                    for j in range(Y.shape[1])
                ]
            )

    def _keyword_weights(self, texts: list[str]) -> list[dict[str, float]]:
        """Evidence weight of each code's keywords: shared keywords and words common in the
        units count less."""
        owners = Counter(
            _keyword_key(k) for kws in self.keywords_ for k in set(map(_keyword_key, kws))
        )
        sample = texts[:5000]
        padded = [" " + " ".join(words(t)) + " " for t in sample]
        weights = []
        for kws in self.keywords_:
            mine = {}
            for k in kws:
                key = _keyword_key(k)
                w = self.keyword_score / owners[key]
                if len(sample) >= 20 and not _is_acronym(k):
                    share = sum(f" {key} " in p for p in padded) / len(sample)
                    w *= max(0.0, 1.0 - 2.0 * share)  # in half the units or more: no evidence
                mine[k] = w
            weights.append(mine)
        return weights

    def _keyword_hits(self, text: str) -> list[list[str]]:
        padded = " " + " ".join(words(text)) + " "
        raw = None
        hits = []
        for kws in self.keywords_:
            found = []
            for k in kws:
                if _is_acronym(k):
                    raw = raw if raw is not None else set(_TOKEN.findall(text))
                    if k in raw:
                        found.append(k)
                elif f" {_keyword_key(k)} " in padded:
                    found.append(k)
            hits.append(found)
        return hits

    def _embed(self, texts: Sequence[str]) -> sp.csr_matrix:
        return normalize(sp.csr_matrix(self.vectorizer_.transform(list(texts))))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        X = self._embed(texts)
        S = (X @ self.profile_matrix_.T).toarray()
        if self.example_matrix_ is not None:
            E = (X @ self.example_matrix_.T).toarray()
            for j in np.unique(self.example_owner_):
                S[:, j] = np.maximum(S[:, j], E[:, self.example_owner_ == j].max(axis=1))
        S = np.clip(S, 0.0, 1.0)
        if any(self.keywords_):
            weights = getattr(self, "keyword_weights_", None) or [
                dict.fromkeys(kws, self.keyword_score) for kws in self.keywords_
            ]
            for i, text in enumerate(texts):
                for j, found in enumerate(self._keyword_hits(text)):
                    if found:
                        miss = np.prod([1.0 - weights[j][k] for k in found])
                        S[i, j] = 1.0 - (1.0 - S[i, j]) * miss
        return S

    def explain(
        self, texts: Sequence[str], pairs: Sequence[tuple[int, int]], top: int = 3
    ) -> list[list[tuple[int, int, str]]]:
        """Keywords of the code found in the unit, then the words the unit shares with the
        code's description that weigh most."""
        from caseframe.suggest.reasons import phrase_spans, top_terms

        word = self.vectorizer_.transformer_list[0][1]
        names = word.get_feature_names_out()
        profiles = word.transform([describe(s) for s in self.specs_])
        out = []
        for i, j in pairs:
            text = texts[i]
            found = self._keyword_hits(text)[j]
            spans = phrase_spans(text, [" ".join(words(k)) for k in found], self.language_, True)
            row = word.transform([text])
            weights = np.asarray(profiles[j].todense()).ravel()
            for span in phrase_spans(text, top_terms(row, weights, names, top), self.language_):
                if len(spans) < top and all(span[0] >= e or span[1] <= s for s, e, _ in spans):
                    spans.append(span)
            out.append(spans[:top])
        return out

    def decide(self, P: np.ndarray) -> np.ndarray:
        if self.at_least_one_ or self.single_label_:
            return super().decide(P)
        # zero-shot: the best code if it clears the floor, and close runners-up
        best = P.max(axis=1, keepdims=True) if P.size else P
        return ((P >= self.thresholds_) & (P >= self.relative * best)).astype(np.int8)

    def _tune_on_codings(self, texts: list[str], Y: np.ndarray) -> None:
        """With codings at hand, pick the floor that maximises micro-F1 on them (training data)."""
        P = self.predict_proba(texts)
        best_f, best_t = -1.0, ZERO_SHOT_FLOOR
        for t in np.arange(0.05, 0.8, 0.025):
            self.thresholds_ = np.full(P.shape[1], t)
            D = self.decide(P)
            tp = int((D & Y).sum())
            f = 2 * tp / max(int(D.sum() + Y.sum()), 1)
            if f > best_f:
                best_f, best_t = f, t
        self.thresholds_ = np.full(P.shape[1], best_t)
