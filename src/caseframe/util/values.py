"""Typed attribute values: inference from text columns and validation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from caseframe.errors import InvalidInput

TRUE = {"true", "yes", "1"}
FALSE = {"false", "no", "0"}


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return len(text) == 10
    except ValueError:
        return False


def infer_type(values: Iterable[str]) -> str:
    """The narrowest type all non-empty values fit: integer, float, date, boolean, else text."""
    present = [v.strip() for v in values if v is not None and v.strip() != ""]
    if not present:
        return "text"
    if all(v.lower() in TRUE | FALSE for v in present) and not all(
        v in {"0", "1"} for v in present
    ):
        return "boolean"
    if all(_is_int(v) for v in present):
        return "integer"
    if all(_is_float(v) for v in present):
        return "float"
    if all(_is_date(v) for v in present):
        return "date"
    return "text"


def parse_value(text: str, kind: str, what: str = "value") -> Any:
    if text is None or text == "":
        return None
    try:
        if kind == "integer":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "boolean":
            low = text.strip().lower()
            if low in TRUE:
                return True
            if low in FALSE:
                return False
            raise ValueError(text)
    except ValueError:
        raise InvalidInput(
            f"{what}: '{text}' is not a valid {kind}", hint=f"give a {kind} value"
        ) from None
    return text
