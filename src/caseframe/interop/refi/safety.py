"""Hardened reading of untrusted REFI-QDA XML; archives go through caseframe.util.zipguard.

XML is parsed with defusedxml with DOCTYPEs forbidden, which rules out external entities (XXE)
and entity expansion (billion laughs) in one rule; REFI files never need a DOCTYPE. Elements
nested deeper than MAX_XML_DEPTH are refused before anything walks the tree (schema validation
and the readers would otherwise exhaust Python's recursion limit).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from caseframe.errors import InvalidInput
from caseframe.util.zipguard import DEFAULT_LIMITS, Limits, SafeArchive, check_entry_name

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_CODE_DEPTH",
    "MAX_XML_DEPTH",
    "Limits",
    "SafeArchive",
    "check_depth",
    "check_entry_name",
    "parse_xml",
]

#: Levels of codes below the top level a file may hold (real code trees have fewer than 10).
MAX_CODE_DEPTH = 100
#: Element nesting a REFI file may hold: the code levels plus the elements around them.
MAX_XML_DEPTH = MAX_CODE_DEPTH + 28


def parse_xml(data: bytes, *, where: str, limits: Limits = DEFAULT_LIMITS) -> Element:
    """Parse untrusted XML: no DOCTYPE, no entities, no external references."""
    if len(data) > limits.max_xml_bytes:
        raise InvalidInput(
            f"the XML is {len(data)} bytes, more than the limit of {limits.max_xml_bytes}",
            where=where,
        )
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        raise InvalidInput(
            "the XML has a DOCTYPE, which is refused (it could define external or expanding "
            "entities)",
            where=where,
            hint="REFI-QDA files never need one",
        ) from exc
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise InvalidInput("the XML defines entities, which is refused", where=where) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        spot = f"{where}:{line}" if line else where
        raise InvalidInput(
            f"the XML cannot be parsed ({_parse_reason(exc)}, column {column})", where=spot
        ) from exc
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput(f"the XML cannot be parsed ({exc})", where=where) from exc
    check_depth(root, where=where)
    return root


def check_depth(root: Element, *, where: str, limit: int = MAX_XML_DEPTH) -> None:
    """Refuse a tree nested deeper than `limit` elements (iterative: no recursion)."""
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > limit:
            raise InvalidInput(
                f"the XML nests elements more than {limit} levels deep, which is refused",
                where=where,
                hint=f"REFI-QDA files exchanged with caseframe hold at most {MAX_CODE_DEPTH} "
                "levels of codes",
            )
        stack.extend((child, depth + 1) for child in el)


def _parse_reason(exc: ParseError) -> str:
    # expat messages end with ": line N, column M"; the location goes into `where` instead
    return str(exc).split(":")[0]
