"""Reading user CSV files: the one reader for every CSV caseframe reads.

Cases, codes, codings, the document registry, assessments and coded-segment datasets all come
through `read_csv_rows`, so they share one behaviour:

- the encoding is detected as for documents (`caseframe.util.encoding`: UTF-8 with or without a
  BOM, UTF-16, cp1252);
- the delimiter is found with `csv.Sniffer` among comma, semicolon, tab and pipe (what
  spreadsheet programs write in different locales); a file separated by anything else is
  refused naming what separates it;
- quoting is strict: an unclosed quote, a quote in the middle of a value, or a quoted value that
  swallowed following rows is an error naming the file and the line where the value starts;
- values are stripped and pass through `restore_cell`, so a cell our exports guarded against
  formula injection (`'=…`) reads back as written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from caseframe.errors import InvalidInput, NotFound

DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_SNIFF_CHARS = 64 * 1024
_CSV_HINT = "save it as CSV (UTF-8) from your spreadsheet program"


def read_text_file(path: str | Path, what: str = "file") -> str:
    """The text of a user's file, its encoding detected (BOM, UTF-16, UTF-8, cp1252)."""
    from caseframe.util.encoding import decode_bytes

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no such {what}", where=str(path), hint="check the path")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what}: {exc.strerror}", where=str(path)) from None
    try:
        text, _encoding, _warnings = decode_bytes(raw, str(path))
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=exc.where, hint=_CSV_HINT) from None
    return text[1:] if text.startswith("\ufeff") else text


def sniff_delimiter(text: str, where: str = "") -> str:
    """The delimiter of a CSV text: comma, semicolon, tab or pipe.

    The header line decides when only one of them occurs in it (outside quotes); when several
    do, `csv.Sniffer` weighs how consistently each splits the first rows. A header with none of
    them is one column, unless the Sniffer finds another separator in it (a colon, spaces),
    which is refused by name.
    """
    header = _first_line(text)
    counts = {d: n for d, n in _unquoted_counts(header).items() if n}
    if len(counts) == 1:
        return next(iter(counts))
    sample = _sample(text)
    if counts:
        try:
            found = csv.Sniffer().sniff(sample, delimiters="".join(counts)).delimiter
        except csv.Error:
            found = ""
        return found if found in counts else max(counts, key=lambda d: counts[d])
    try:
        other = csv.Sniffer().sniff(sample).delimiter
    except csv.Error:
        return ","
    if other and other in header and not other.isalnum() and other not in "\"'":
        name = "spaces" if other == " " else f"'{other}'"
        raise InvalidInput(
            f"the columns are separated by {name}, which caseframe does not read",
            where=f"{where}:1" if where else None,
            hint="save the file with commas, semicolons, tabs or pipes between the columns",
        )
    return ","


def read_csv_records(path: str | Path, what: str = "CSV file") -> list[tuple[int, list[str]]]:
    """Every record of a CSV as (line where it starts, raw fields), blank lines skipped.

    Strict: a quoting error raises InvalidInput with the file and the record's first line.
    """
    text = read_text_file(path, what)
    if not text.strip():
        raise InvalidInput(f"the {what} is empty", where=str(path), hint="add a header row")
    delimiter = sniff_delimiter(text, str(path))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _quoting_error(str(exc), f"{path}:{start}") from None
        if fields:
            if reader.line_num > start:
                _check_not_swallowed(fields, records, delimiter, f"{path}:{start}")
            records.append((start, fields))
        start = reader.line_num + 1
    return records


def read_csv_rows(
    path: str | Path, required: Sequence[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; values stripped; required columns checked.

    The line number is where the row starts in the file; rows with no value are skipped.
    """
    from caseframe.util.cells import restore_cell

    records = read_csv_records(path)
    header_line, raw_header = records[0]
    header = [h.strip() for h in raw_header]
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name and name in seen:
            raise InvalidInput(
                f"column '{name}' appears twice (columns {seen[name] + 1} and {i + 1})",
                where=f"{path}:{header_line}",
                hint="give every column its own name",
            )
        seen[name] = i
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"missing required column(s): {', '.join(missing)}",
            where=f"{path}:{header_line}",
            hint=f"the header must include {', '.join(required)}",
        )
    rows: list[tuple[int, dict[str, str]]] = []
    width = len(header)
    for line, fields in records[1:]:
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            raise InvalidInput(
                f"the row has more fields than the header ({len(fields)}, not {width})",
                where=f"{path}:{line}",
                hint="quote values that contain the delimiter",
            )
        values = [f.strip() for f in fields[:width]]
        values = [restore_cell(v) if v[:1] == "'" else v for v in values]
        if any(values):
            values += [""] * (width - len(values))
            rows.append((line, dict(zip(header, values, strict=True))))
    return header, rows


def _first_line(text: str) -> str:
    end = len(text)
    for newline in ("\r", "\n"):
        pos = text.find(newline)
        if pos != -1:
            end = min(end, pos)
    return text[:end]


def _sample(text: str) -> str:
    if len(text) <= _SNIFF_CHARS:
        return text
    cut = text.rfind("\n", 0, _SNIFF_CHARS)
    return text[: cut if cut > 0 else _SNIFF_CHARS]


def _unquoted_counts(line: str) -> dict[str, int]:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return counts


def _quoting_error(message: str, where: str) -> InvalidInput:
    if "end of data" in message or "field larger" in message:
        what = "a quote opened in this row is never closed"
    elif "expected after" in message:
        what = "a quote ends in the middle of a value"
    elif "new-line character seen in unquoted field" in message:
        what = "a line break inside a value that is not quoted"
    else:
        what = f"malformed CSV ({message})"
    return InvalidInput(
        what, where=where, hint='close the quote; write a quote inside a quoted value as ""'
    )


def _check_not_swallowed(
    fields: list[str], records: list[tuple[int, list[str]]], delimiter: str, where: str
) -> None:
    """Refuse a quoted value that spans lines which are themselves whole rows.

    A quote left open by mistake and closed again by a later stray quote makes one value of
    everything between. Line breaks inside a value are fine (memos, quotes); what gives the
    mistake away is a line inside the value that splits into exactly a row's number of fields,
    written as the rows are (prose puts a space after its commas, rows usually do not).
    """
    if not records or len(records[0][1]) < 2:
        return
    width = len(records[0][1])
    spaced = delimiter + " " in delimiter.join(records[0][1])
    for value in fields:
        if "\n" not in value and "\r" not in value:
            continue
        for inner in value.splitlines()[1:]:
            if inner.count(delimiter) == width - 1 and (spaced or delimiter + " " not in inner):
                raise InvalidInput(
                    "a quoted value runs over lines that look like rows of their own",
                    where=where,
                    hint="a quote is probably not closed; close it, or quote the whole value",
                )
