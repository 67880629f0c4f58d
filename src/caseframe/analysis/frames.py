"""Small helpers the analyses share over the frames `store/queries/analysis.py` reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseframe.util.natural import natural_key, natural_sorted

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["descendants", "natural_key", "natural_sorted"]


def descendants(codes: pd.DataFrame, code_id: int, exact: bool = False) -> list[int]:
    """The code and every code below it (just the code when `exact`)."""
    if exact:
        return [code_id]
    return [
        int(i) for i, anc in zip(codes["id"], codes["ancestors"], strict=True) if code_id in anc
    ]
