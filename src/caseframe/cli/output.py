"""Printing tables and JSON; every list/show command offers --json.

List commands print records (a list of dicts, one per row) with `print_rows`: building a pandas
DataFrame only to print it would load pandas and numpy, more than the rest of a quick command
costs. `print_frame` stays for the commands whose results are DataFrames anyway.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    console: Console
    err_console: Console


# The consoles are made on first use (module __getattr__): importing rich's console and table
# modules costs a quick command about a tenth of its time, and JSON output needs neither.
CONSOLES = {
    "console": {"highlight": False, "soft_wrap": False},
    "err_console": {"stderr": True, "highlight": False, "soft_wrap": True},
}


def __getattr__(name: str) -> Any:
    if name in CONSOLES:
        from rich.console import Console

        made = globals()[name] = Console(**CONSOLES[name])
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _made(name: str) -> Console:
    """The console `name`, made if this is its first use (a bare global name inside this module
    does not reach the module's __getattr__)."""
    return globals().get(name) or __getattr__(name)


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
    """`obj` as JSON: records, dataclasses, dicts and lists (and DataFrames where one exists)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2) + "\n")


def print_frame(
    frame: pd.DataFrame,
    title: str | None = None,
    columns: list[str] | None = None,
    empty: str = "Nothing to show.",
) -> None:
    if frame.empty:
        _made("console").print(empty)
        return
    cols = columns or list(frame.columns)
    _print_table(title, cols, frame[cols].itertuples(index=False))


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    title: str | None = None,
    columns: Sequence[str] | None = None,
    empty: str = "Nothing to show.",
) -> None:
    """A table of records, like `print_frame` of the DataFrame built from them: `columns` (by
    default the first record's keys) in that order, None printed as an empty cell."""
    if not rows:
        _made("console").print(empty)
        return
    cols = list(columns or rows[0])
    _print_table(title, cols, ([row.get(c) for c in cols] for row in rows))


def _print_table(title: str | None, columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(str(col))
    for row in rows:
        table.add_row(*["" if _plain(v) is None else str(_plain(v)) for v in row])
    _made("console").print(table)


def done(message: str) -> None:
    _made("console").print(message)


def warn(message: str) -> None:
    _made("err_console").print(f"warning: {message}", markup=False)
