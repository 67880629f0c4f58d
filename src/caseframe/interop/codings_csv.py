"""Codings CSV files: reading the rows `codings import` takes, and placing a row in its text.

A row names its document, code and coder and gives either `start,end` offsets or the exact
`quote` (with `occurrence` for the n-th of a repeated quote). Cells our own exports neutralised
against spreadsheet formulas (a leading `'`) are restored, so an exported file reads back as it
was written.
"""

from __future__ import annotations

from pathlib import Path

from caseframe.errors import InvalidInput, NotFound
from caseframe.interop.tables import restore_cell
from caseframe.util.csvfile import read_csv_rows

Row = dict[str, str]


def read_codings_csv(path: str | Path, coder: str | None = None) -> list[tuple[int, Row]]:
    """(line, row) pairs of a codings CSV, after checking its header."""
    header, rows = read_csv_rows(path, required=("document", "code"))
    if "coder" not in header and not coder:
        raise InvalidInput(
            "no coder column", where=f"{path}:1", hint="add a coder column or pass --coder"
        )
    if "quote" not in header and not {"start", "end"} <= set(header):
        raise InvalidInput(
            "codings need start and end columns or a quote column", where=f"{path}:1"
        )
    return [(line, {k: restore_cell(v) for k, v in row.items()}) for line, row in rows]


def locate(row: Row, text: str, name: str) -> tuple[int, int]:
    """A coding's range from its offsets, or from its quote found verbatim in the text."""
    if row.get("start") and row.get("end"):
        try:
            return int(row["start"]), int(row["end"])
        except ValueError:
            raise InvalidInput(
                f"offsets '{row['start']}', '{row['end']}' are not numbers"
            ) from None
    quote = row.get("quote", "")
    if not quote:
        raise InvalidInput("neither offsets nor a quote given")
    hits = []
    at = text.find(quote)
    while at != -1:
        hits.append(at)
        at = text.find(quote, at + 1)
    if not hits:
        raise NotFound(f"quote not found in '{name}': \"{short(quote)}\"")
    occurrence = row.get("occurrence")
    if occurrence:
        n = int(occurrence) if occurrence.isdigit() else 0
        if not 1 <= n <= len(hits):
            raise InvalidInput(f"occurrence {occurrence} of a quote found {len(hits)} times")
        return hits[n - 1], hits[n - 1] + len(quote)
    if len(hits) > 1:
        raise InvalidInput(
            f"quote occurs {len(hits)} times in '{name}': \"{short(quote)}\"",
            hint="add an occurrence column or give offsets",
        )
    return hits[0], hits[0] + len(quote)


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
