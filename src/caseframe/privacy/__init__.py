"""Confidentiality: find identifying text, replace it with consistent pseudonyms, keep the key.

Store-independent core; the project store and CLI call it (`privacy scan`, `privacy apply`,
`import --pseudonymise`). See docs/privacy.md.
"""

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

__all__ = [
    "CATEGORIES",
    "NAME_CATEGORIES",
    "PATTERN_CATEGORIES",
    "PATTERN_NAMES",
    "Detection",
    "KeyFile",
    "OffsetMap",
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
