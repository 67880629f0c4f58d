"""Looking for a found name elsewhere without turning ordinary words into names.

A name that a pattern or NER found once ("Hi, Mark") is looked for in the rest of the text and
in every other scanned text. Two rules keep that from hiding ordinary words:

- **case**: in prose only a capitalised occurrence is taken ("Mark's brother", "MARK"), never
  the lower-case word ("mark the form");
- **dictionary words**: a name whose words the corpus itself also writes in lower case
  ("learning", "will", "mark") is a dictionary word *here*. Such a name is taken only where
  its capital cannot come from the sentence: mid-sentence and not beside another capitalised
  word ("said Mark yesterday", not "Learning is hard." nor "Machine Learning"), or written in
  capitals.

The dictionary is the corpus being scanned, not a word list: it needs nothing at run time, it
speaks the transcripts' languages (Swedish and English alike) and their jargon ("learning" in a
machine-learning study), and a name that really is only a name is never written in lower case
in running text. The cost: in a small corpus a rare word may be missing from it.

Names in identifiers (file names, code and set names) are matched on a spaced view of the
identifier, so "Karin_Lindqvist_2.txt", "karin-lindqvist.docx" and "KarinLindqvist.txt" all
hold "Karin Lindqvist".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from caseframe.privacy.hit import Hit
from caseframe.privacy.registry import Registry, normalise_value

# A running-text word: letters, with inner hyphens or apostrophes ("well-known", "don't").
_PLAIN_WORD = re.compile(r"^[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*$")
_EDGE_PUNCT = "\"'“”‘’«»()[]{}.,;:!?…"
_WORDS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = ".!?:;…\n"
_OPENERS = "\"'“‘«([-–—"
# Camel-case joins and the separators file names use instead of spaces.
_CAMEL = re.compile(r"(?<=[a-zåäöéü])(?=[A-ZÅÄÖÉÜ])")
_SEPARATORS = str.maketrans("_-.+~", "     ")


class Vocabulary:
    """The words a corpus writes in lower case, in running text (not in e-mails, URLs, ids)."""

    def __init__(self, texts: Iterable[str] = ()):
        self.lower: set[str] = set()
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        for chunk in text.split():
            word = chunk.strip(_EDGE_PUNCT)
            if word and word.islower() and _PLAIN_WORD.match(word):
                self.lower.add(word)
                self.lower.update(_WORDS.findall(word))

    def is_common(self, value: str) -> bool:
        """Whether every word of `value` occurs in lower case: a dictionary word here."""
        words = _WORDS.findall(value)
        return bool(words) and all(w.lower() in self.lower for w in words)


def capitalised(text: str) -> bool:
    """Every word starts with a capital ("Anna Berg", "MARK"); "mark", "anna Berg" do not."""
    words = _WORDS.findall(text)
    return bool(words) and all(w[0].isupper() for w in words)


def _all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def sentence_initial(text: str, start: int) -> bool:
    """Whether the word at `start` opens a sentence, a line or a speaker's turn."""
    i = start - 1
    while i >= 0 and (text[i] in " \t\u00a0" or text[i] in _OPENERS):
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _beside_capitalised(text: str, start: int, end: int) -> bool:
    """A capitalised word right before (not opening the sentence) or right after the span:
    the span is then part of a longer proper noun ("Machine Learning", "Learning Analytics")."""
    after = re.match(r"[ \u00a0]+([^\W\d_]+)", text[end:])
    if after and after.group(1)[0].isupper():
        return True
    before = re.search(r"([^\W\d_]+)[ \u00a0]+$", text[max(0, start - 60) : start])
    if before and before.group(1)[0].isupper():
        word_start = start - len(before.group(0))
        return not sentence_initial(text, word_start)
    return False


def takes_occurrence(text: str, start: int, end: int, common: bool, *, prose: bool) -> bool:
    """Whether a found name may replace the occurrence text[start:end] (see the module doc)."""
    found = text[start:end]
    if not prose:  # an identifier: any case, but a dictionary word only capitalised
        return capitalised(found) if common else True
    if not capitalised(found):
        return False
    if not common or _all_caps(found):
        return True
    return not sentence_initial(text, start) and not _beside_capitalised(text, start, end)


@dataclass
class FoundNames:
    """Names found by a pattern or NER (or held in the key's book), to look for elsewhere."""

    registry: Registry
    common: dict[str, bool]  # normalised value -> is a dictionary word
    origin: dict[str, tuple[str, str | None]]  # normalised value -> (detector, text found in)

    @classmethod
    def build(
        cls, names: Iterable[tuple[str, str, str, str | None]], vocabulary: Vocabulary
    ) -> FoundNames:
        """From (value, category, detector, text it was found in) tuples; the first of each
        value counts. Only capitalised values are names."""
        found = cls(Registry(), {}, {})
        for value, category, source, home in names:
            key = normalise_value(value)
            if not key or key in found.origin or not value[:1].isupper():
                continue
            found.registry.add(value, category)
            found.common[key] = vocabulary.is_common(value)
            found.origin[key] = (source, home)
        return found

    def find(self, text: str, home: str | None = None, *, prose: bool = True) -> list[Hit]:
        """Occurrences the rules allow. Source: "propagated:<detector>" in the text the name
        was found in, "propagated:project" in any other."""
        out = []
        for hit in self.registry.find(text):
            key = normalise_value(hit.value)
            if takes_occurrence(text, hit.start, hit.end, self.common[key], prose=prose):
                source, found_in = self.origin[key]
                where = source if home is not None and home == found_in else "project"
                out.append(hit._replace(source=f"propagated:{where}"))
        return out

    def __len__(self) -> int:
        return len(self.origin)


def spaced_view(identifier: str) -> tuple[str, list[int]]:
    """The identifier with separators as spaces and camel-case joins split, and for each
    character of the view the index of the identifier's character (-1 for an added space)."""
    view: list[str] = []
    index: list[int] = []
    cuts = {m.start() for m in _CAMEL.finditer(identifier)}
    for i, ch in enumerate(identifier.translate(_SEPARATORS)):
        if i in cuts:
            view.append(" ")
            index.append(-1)
        view.append(ch)
        index.append(i)
    return "".join(view), index


def hits_in_identifier(identifier: str, find) -> list[Hit]:
    """`find(text)` run on the identifier and on its spaced view, spans mapped back."""
    hits = list(find(identifier))
    view, index = spaced_view(identifier)
    if view != identifier:
        for hit in find(view):
            start, end = index[hit.start], index[hit.end - 1] + 1
            if start >= 0 and end > start:
                hits.append(hit._replace(start=start, end=end))
    return hits
