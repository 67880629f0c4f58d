"""Confidentiality: find identifying text, replace it with consistent pseudonyms, keep the key.

Store-independent core; the project store and CLI call it (`privacy scan`, `privacy apply`,
`import --pseudonymise`). See docs/privacy.md.

The names below are loaded on first use, so importing one submodule (say
`caseframe.privacy.propagate`) does not load the key file's cryptography.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "OffsetMap": "apply",
    "Replacement": "apply",
    "apply_replacements": "apply",
    "pseudonymise": "apply",
    "Detection": "detect",
    "scan": "detect",
    "CATEGORIES": "hit",
    "NAME_CATEGORIES": "hit",
    "PATTERN_CATEGORIES": "hit",
    "KeyFile": "keyfile",
    "load_ner": "ner",
    "PATTERN_NAMES": "patterns",
    "PseudonymBook": "pseudonyms",
    "Registry": "registry",
    "RegistryEntry": "registry",
    "ReviewItem": "review",
    "accepted_by_document": "review",
    "propose": "review",
    "read_review": "review",
    "write_review": "review",
}
__all__ = [
    "CATEGORIES",
    "Detection",
    "KeyFile",
    "NAME_CATEGORIES",
    "OffsetMap",
    "PATTERN_CATEGORIES",
    "PATTERN_NAMES",
    "PseudonymBook",
    "Registry",
    "RegistryEntry",
    "Replacement",
    "ReviewItem",
    "accepted_by_document",
    "apply_replacements",
    "load_ner",
    "propose",
    "pseudonymise",
    "read_review",
    "scan",
    "write_review",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'caseframe.privacy' has no attribute {name!r}")
    value = getattr(import_module(f"caseframe.privacy.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from caseframe.privacy.apply import OffsetMap, Replacement, apply_replacements, pseudonymise
    from caseframe.privacy.detect import Detection, scan
    from caseframe.privacy.hit import CATEGORIES, NAME_CATEGORIES, PATTERN_CATEGORIES
    from caseframe.privacy.keyfile import KeyFile
    from caseframe.privacy.ner import load_ner
    from caseframe.privacy.patterns import PATTERN_NAMES
    from caseframe.privacy.pseudonyms import PseudonymBook
    from caseframe.privacy.registry import Registry, RegistryEntry
    from caseframe.privacy.review import (
        ReviewItem,
        accepted_by_document,
        propose,
        read_review,
        write_review,
    )
