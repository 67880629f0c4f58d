"""Optional named-entity recognition with a spaCy pipeline the user has installed.

spaCy is not a dependency of caseframe (extra `ner`), and nothing is downloaded here: a
pipeline is loaded from an installed package name or a folder on disk, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from caseframe.errors import InvalidInput
from caseframe.privacy.hit import Hit

NerFunction = Callable[[str], list[Hit]]

# Entity labels of the common schemes (OntoNotes in English pipelines; PER/LOC/ORG in the
# WikiNER-trained ones, Swedish included; PRS in KB's Swedish models) -> our categories.
LABEL_CATEGORIES = {
    "PERSON": "person",
    "PER": "person",
    "PRS": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "ORG": "organisation",
}


def load_ner(name_or_path: str | Path) -> NerFunction:
    """A detector backed by an installed spaCy pipeline (package name or folder)."""
    try:
        import spacy
    except ImportError:
        raise InvalidInput(
            "named-entity recognition needs spaCy, which is not installed",
            hint="install it with pip install 'caseframe[ner]', or scan without --ner",
        ) from None
    source = str(name_or_path)
    path = Path(source)
    looks_like_path = path.is_absolute() or source.startswith(".") or "/" in source
    if looks_like_path and not path.is_dir():
        raise InvalidInput(f"spaCy pipeline folder {source} does not exist")
    try:
        # spacy.load reads a folder or an installed package; it never downloads.
        nlp = spacy.load(path if path.is_dir() else source)
    except (OSError, ValueError, ImportError) as exc:
        raise InvalidInput(
            f"cannot load spaCy pipeline {source!r}: {str(exc).splitlines()[0]}",
            hint="give the name of an installed pipeline package or the path of a saved "
            "pipeline folder; caseframe does not download models",
        ) from None
    return ner_from_pipeline(nlp, name=source)


def ner_from_pipeline(nlp: Any, *, name: str = "pipeline") -> NerFunction:
    """Wrap a loaded spaCy `Language` as a detector."""
    if not ({"ner", "entity_ruler", "span_ruler"} & set(nlp.pipe_names)):
        raise InvalidInput(
            f"spaCy pipeline {name!r} has no entity recogniser",
            hint="use a pipeline with an 'ner' or 'entity_ruler' component",
        )

    def detect(text: str) -> list[Hit]:
        hits = []
        for offset, chunk in _chunks(text, nlp.max_length):
            for ent in nlp(chunk).ents:
                category = LABEL_CATEGORIES.get(ent.label_)
                if category is None:
                    continue
                start, end = offset + ent.start_char, offset + ent.end_char
                hits.append(Hit(start, end, category, f"ner:{ent.label_}", None, ent.text))
        return hits

    return detect


def _chunks(text: str, limit: int) -> list[tuple[int, str]]:
    """Pieces under spaCy's length limit, cut at line breaks where possible."""
    pieces = []
    start = 0
    while len(text) - start > limit:
        cut = text.rfind("\n", start, start + limit)
        if cut <= start:
            cut = start + limit
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces
