"""The formula guard on spreadsheet cells (OWASP's rule against CSV/formula injection).

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula
in a spreadsheet program; caseframe writes it with a leading `'` (interop/tables.py) and its own
readers take that `'` off again (util/csvfile.py), so an export imports back unchanged.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """The inverse of `neutralise_cell` for what we wrote (a `'` before a formula start)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value
