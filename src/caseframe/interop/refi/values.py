"""Values as caseframe stores them and as REFI-QDA writes them: timestamps, colours, typed
variable values, and the deterministic GUIDs the mapping invents (same store, same file)."""

from __future__ import annotations

import bisect
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

# Deterministic GUIDs the mapping invents (selections, coding-memo notes): same store, same file.
_NS = uuid.UUID("6d1f3a52-8c0e-4f7b-9a1d-2b5e7c4f9e30")
_RGB6 = "0123456789abcdefABCDEF"

ATTRIBUTE_TO_REFI = {
    "text": "Text",
    "integer": "Integer",
    "float": "Float",
    "date": "Date",
    "boolean": "Boolean",
}
REFI_TO_ATTRIBUTE = {v: k for k, v in ATTRIBUTE_TO_REFI.items()} | {"DateTime": "text"}


def derived_guid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, ":".join(parts))).upper()


@lru_cache(maxsize=4096)  # codings made in one session share their timestamps
def timestamp(value: Any) -> str | None:
    """A stored datetime as xsd:dateTime in UTC, to the second ("2024-05-01T10:00:00Z")."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_timestamp(value)
        if value is None:
            return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they are stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def refi_color(color: str | None) -> str | None:
    """A colour REFI accepts (#RGB or #RRGGBB): an #RRGGBBAA colour loses its alpha."""
    if not color or not color.startswith("#"):
        return None
    digits = color[1:]
    if not all(c in _RGB6 for c in digits):
        return None
    if len(digits) in (3, 6):
        return color
    if len(digits) == 8:
        return "#" + digits[:6]
    return None


def attribute_value(text: str, kind: str) -> tuple[str, Any]:
    """A stored attribute value (text) as a typed REFI variable value."""
    from caseframe.util.values import parse_value

    refi_type = ATTRIBUTE_TO_REFI.get(kind, "Text")
    value = parse_value(text, kind) if kind in ATTRIBUTE_TO_REFI else text
    return refi_type, value


def value_text(value: Any) -> str:
    """A REFI variable value as the text caseframe stores."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        return repr(float(value)) if isinstance(value, float) else format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """Drop empty entries so the sidecar holds only what differs from the defaults."""
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def line_of(line_starts: list[int], offset: int) -> int:
    """The 0-based line an offset lies on, given the offsets where lines start."""
    return bisect.bisect_right(line_starts, offset) - 1


def line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts
