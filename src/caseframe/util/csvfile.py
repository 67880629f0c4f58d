"""Reading user CSV files with one clear error per problem (file, line, what to do)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from caseframe.errors import InvalidInput, NotFound


def read_text_file(path: str | Path, what: str = "file") -> str:
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no such {what}", where=str(path), hint="check the path")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what}: {exc.strerror}", where=str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            "invalid UTF-8", where=f"{path}:{line}", hint="save the file as UTF-8"
        ) from None


def read_csv_rows(
    path: str | Path, required: Sequence[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; values stripped; required columns checked."""
    text = read_text_file(path, "CSV file")
    if not text.strip():
        raise InvalidInput("the CSV file is empty", where=str(path), hint="add a header row")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"missing required column(s): {', '.join(missing)}",
            where=f"{path}:1",
            hint=f"the header must include {', '.join(required)}",
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if None in row:
                raise InvalidInput(
                    "the row has more fields than the header", where=f"{path}:{reader.line_num}"
                )
            cleaned = {k: (v or "").strip() for k, v in row.items()}
            if any(cleaned.values()):
                rows.append((reader.line_num, cleaned))
    except csv.Error as exc:
        raise InvalidInput(f"malformed CSV: {exc}", where=f"{path}:{reader.line_num}") from None
    return header, rows
