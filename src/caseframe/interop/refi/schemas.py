"""Locating, loading and applying the REFI-QDA XML Schemas (never fetched from the network).

Search order for the folder holding Project-mrt2019.xsd and Codebook.xsd:
1. the environment variable CASEFRAME_REFI_SCHEMAS;
2. `xsd/` next to this module (for an installed package that ships them);
3. `shared/refi/` in a parent folder of this file (the development checkout: ../shared/refi).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from caseframe.errors import CaseframeError

if TYPE_CHECKING:
    import xmlschema

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_XSD = "Project-mrt2019.xsd"
CODEBOOK_XSD = "Codebook.xsd"
ENV_VAR = "CASEFRAME_REFI_SCHEMAS"

_NS_IN_TEXT = re.compile(r"\{[^}]*\}")


def schema_dir() -> Path | None:
    """The folder with both XSDs, or None when none is found."""
    candidates: list[Path] = []
    if os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    here = Path(__file__).resolve()
    candidates.append(here.parent / "xsd")
    candidates.extend(parent / "shared" / "refi" for parent in here.parents)
    for folder in candidates:
        if (folder / PROJECT_XSD).is_file() and (folder / CODEBOOK_XSD).is_file():
            return folder
    return None


def schemas_available() -> bool:
    return schema_dir() is not None


@cache
def _load(filename: str) -> xmlschema.XMLSchema:
    import xmlschema  # loaded when a file is first validated, not at start-up

    folder = schema_dir()
    if folder is None:
        raise CaseframeError(
            f"the REFI-QDA schema {filename} was not found",
            hint=f"set {ENV_VAR} to the folder holding {PROJECT_XSD} and {CODEBOOK_XSD}",
        )
    return xmlschema.XMLSchema(str(folder / filename))


def project_schema() -> xmlschema.XMLSchema:
    return _load(PROJECT_XSD)


def codebook_schema() -> xmlschema.XMLSchema:
    return _load(CODEBOOK_XSD)


@cache
def _fast_schema(filename: str) -> Any:
    """libxml2's validator for the same XSD (lxml, installed with python-docx), or None."""
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - lxml comes with python-docx
        return None
    folder = schema_dir()
    if folder is None:
        return None
    return etree.XMLSchema(etree.parse(str(folder / filename)))


def _fast_valid(xml: bytes, filename: str) -> bool:
    """True when libxml2 finds the document valid; False when it does not, or cannot tell."""
    schema = _fast_schema(filename)
    if schema is None:
        return False
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return bool(schema.validate(etree.fromstring(xml, parser)))
    except etree.Error:
        return False


def schema_errors(
    root: Element | None, kind: str, limit: int = 50, *, xml: bytes | None = None
) -> list[str]:
    """Schema violations of a parsed document as short lines ('path: reason'); [] when valid.

    kind is "project" or "codebook"; give the parsed `root`, or the document's bytes as `xml`,
    or both.
    At most `limit` lines are returned, plus a count line. The document is validated once:
    by libxml2 (C, fast); only a document it refuses is validated again by xmlschema, whose
    messages name the element and the reason (the answer is xmlschema's).
    """
    filename = PROJECT_XSD if kind == "project" else CODEBOOK_XSD
    if xml is None:
        xml = ElementTree.tostring(root)
    if _fast_valid(xml, filename):
        return []
    if root is None:
        root = ElementTree.fromstring(xml)
    schema = project_schema() if kind == "project" else codebook_schema()
    lines: list[str] = []
    extra = 0
    for error in schema.iter_errors(root):
        if len(lines) >= limit:
            extra += 1
            continue
        path = _NS_IN_TEXT.sub("", error.path or "")
        reason = _NS_IN_TEXT.sub("", error.reason or str(error.message)).rstrip(".")
        lines.append(f"{path}: {reason}" if path else reason)
    if extra:
        lines.append(f"... and {extra} more schema errors")
    return lines
