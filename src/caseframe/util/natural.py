"""Natural order for keys people read: A2 before A10 (digits compare as numbers)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=65536)
def _natural_key(text: str) -> tuple:
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in parts if p)


def natural_key(value: object) -> tuple:
    """Sort key that puts A2 before A10 (digits compare as numbers)."""
    return _natural_key(str(value))


def natural_sorted(values: Iterable) -> list:
    return sorted(values, key=natural_key)
