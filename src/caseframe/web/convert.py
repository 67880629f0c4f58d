"""Turning API results (dataclasses, DataFrames) into plain JSON values for responses."""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd


def plain(value: Any) -> Any:
    if value is None:
        return None
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def table(frame: pd.DataFrame, index: bool = True) -> dict[str, Any]:
    """A frame as columns + rows (index first when it carries labels), for templates and JSON."""
    frame = frame.reset_index() if index and not isinstance(frame.index, pd.RangeIndex) else frame
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[plain(v) for v in row] for row in frame.itertuples(index=False, name=None)],
    }
