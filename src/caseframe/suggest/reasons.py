"""Why a unit got a code: the phrases that weighed most, and passages people coded alike.

Phrases come from a linear method's weights: for code j and unit i, each word n-gram present in
the unit contributes (its TF-IDF value in the unit) × (the code's weight for it); the largest
positive contributions are the reasons, shown where they occur in the unit. Similar passages are
the units a person coded with the same code whose TF-IDF vectors (word and character n-grams,
so "nothing" finds "nothing at all") are closest (cosine) to the unit's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from caseframe.suggest.text import token_spans

if TYPE_CHECKING:
    import scipy.sparse as sp

Span = tuple[int, int, str]


def phrase_spans(
    text: str, phrases: Sequence[str], language: str, keep_stopwords: bool = False
) -> list[Span]:
    """Where each n-gram (tokens joined by spaces, as `WordAnalyzer` makes them) first occurs in
    `text`: (start, end, the text there). N-grams not found are left out."""
    tokens = token_spans(text, language, keep_stopwords=keep_stopwords)
    keys = [t for t, _, _ in tokens]
    out: list[Span] = []
    for phrase in phrases:
        parts = phrase.split(" ")
        n = len(parts)
        for i in range(len(keys) - n + 1):
            if keys[i : i + n] == parts:
                start, end = tokens[i][1], tokens[i + n - 1][2]
                out.append((start, end, text[start:end]))
                break
    return out


def top_terms(
    row: sp.csr_matrix, weights: np.ndarray, names: np.ndarray, top: int = 3
) -> list[str]:
    """The `top` features of a one-row sparse matrix with the largest positive value × weight."""
    row = row.tocsr()
    if not row.nnz:
        return []
    contrib = row.data * weights[row.indices]
    order = np.argsort(-contrib, kind="stable")
    return [str(names[row.indices[k]]) for k in order[:top] if contrib[k] > 0]


def similar_passages(
    train_texts: Sequence[str],
    Y: np.ndarray,
    texts: Sequence[str],
    pairs: Sequence[tuple[int, int]],
    language: str,
    k: int = 2,
) -> list[list[int]]:
    """For each (unit index, code index) pair, the indices of the `k` training units coded with
    that code whose TF-IDF vectors are most similar to the unit's (best first)."""
    from sklearn.preprocessing import normalize

    from caseframe.suggest.text import make_vectorizer

    out: list[list[int]] = [[] for _ in pairs]
    if not len(train_texts) or not pairs or not np.asarray(Y).any():
        return out
    vectorizer = make_vectorizer(language)
    try:
        T = normalize(vectorizer.fit_transform(list(train_texts)))
    except ValueError:  # no words at all in the training units
        return out
    X = normalize(vectorizer.transform(list(texts)))
    by_code: dict[int, list[int]] = {}
    for n, (_, j) in enumerate(pairs):
        by_code.setdefault(j, []).append(n)
    for j, members in by_code.items():
        coded = np.flatnonzero(np.asarray(Y)[:, j])
        if not coded.size:
            continue
        rows = [pairs[n][0] for n in members]
        S = (X[rows] @ T[coded].T).toarray()
        for r, n in enumerate(members):
            order = np.argsort(-S[r], kind="stable")[:k]
            out[n] = [int(coded[o]) for o in order if S[r, o] > 0]
    return out
