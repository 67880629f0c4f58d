"""Every CSV and XLSX caseframe writes goes through here, so no cell can become a live formula.

Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula (CSV/formula injection). Following OWASP's rule, such a text cell is written with a
leading `'`; `restore_cell` takes it off again, and caseframe's own importers call it, so a memo
that starts with "=" comes back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from caseframe.util.atomic import atomic_write
from caseframe.util.cells import neutralise_cell, restore_cell  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    import pandas as pd


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells, column names and index labels cannot run as formulas."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(neutralise_cell)
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(neutralise_cell)
    return out


def write_csv(frame: pd.DataFrame, out: str | Path, *, index: bool = False) -> Path:
    safe = neutralise_frame(frame)
    # RFC 4180 line ends: the writer then quotes every field holding \r or \n, so a stray
    # carriage return in a memo cannot split a row.
    return atomic_write(out, lambda tmp: safe.to_csv(tmp, index=index, lineterminator="\r\n"))


def write_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    out: str | Path,
    *,
    index: bool | Mapping[str, bool] = False,
    index_label: str | None = None,
    widths: Mapping[str, int] | None = None,
    freeze_header: bool = False,
) -> Path:
    """One workbook, a sheet per frame (names cut to Excel's 31 characters)."""
    import pandas as pd

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                sheet = name[:31]
                with_index = index.get(name, False) if isinstance(index, Mapping) else index
                neutralise_frame(frame).to_excel(
                    writer,
                    sheet_name=sheet,
                    index=with_index,
                    index_label=index_label if with_index else None,
                )
                ws = writer.sheets[sheet]
                if freeze_header:
                    ws.freeze_panes = "A2"
                for i, column in enumerate(frame.columns, start=2 if with_index else 1):
                    if widths and column in widths:
                        letter = ws.cell(row=1, column=i).column_letter
                        ws.column_dimensions[letter].width = widths[column]

    return atomic_write(out, write)
