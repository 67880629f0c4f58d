"""Printing tables and JSON; every list/show command offers --json."""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _pandas() -> Any:
    """pandas if something already loaded it: a DataFrame or pd.NA can only come from there, so
    output never imports it itself (it costs more than the rest of a quick command)."""
    return sys.modules.get("pandas")


def to_jsonable(obj: Any) -> Any:
    pd = _pandas()
    if pd is not None and isinstance(obj, pd.DataFrame):
        return [
            {k: to_jsonable(v) for k, v in row.items()} for row in obj.to_dict(orient="records")
        ]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if pd is not None and obj is pd.NA:
        return None
    return _plain(obj)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2) + "\n")


def print_frame(
    frame: pd.DataFrame,
    title: str | None = None,
    columns: list[str] | None = None,
    empty: str = "Nothing to show.",
) -> None:
    if frame.empty:
        console.print(empty)
        return
    cols = columns or list(frame.columns)
    table = Table(title=title, show_lines=False)
    for col in cols:
        table.add_column(str(col))
    for row in frame[cols].itertuples(index=False):
        table.add_row(*["" if _plain(v) is None else str(_plain(v)) for v in row])
    console.print(table)


def done(message: str) -> None:
    console.print(message)


def warn(message: str) -> None:
    err_console.print(f"warning: {message}", markup=False)
