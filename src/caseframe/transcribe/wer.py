"""Word error rate, for the transcription tests and bench.

WER = (substitutions + deletions + insertions) / reference words, from the word-level edit
distance (Levenshtein). Texts are compared after the usual normalisation: lower case, NFC,
punctuation dropped (apostrophes inside words kept), whitespace collapsed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_NOT_WORD = re.compile(r"[^\w']+")
_EDGE_APOSTROPHES = re.compile(r"(?<!\w)'|'(?!\w)")


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).casefold().replace("’", "'")
    text = _NOT_WORD.sub(" ", text.replace("_", " "))
    return _EDGE_APOSTROPHES.sub(" ", text).split()


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    if not ref:
        raise ValueError("the reference has no words")
    return edit_distance(ref, words(hypothesis)) / len(ref)


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Errors summed over all pairs divided by reference words summed (not a mean of WERs)."""
    errors = total = 0
    for reference, hypothesis in pairs:
        ref = words(reference)
        errors += edit_distance(ref, words(hypothesis))
        total += len(ref)
    if not total:
        raise ValueError("the references have no words")
    return errors / total
