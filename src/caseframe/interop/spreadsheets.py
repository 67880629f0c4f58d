"""Codebook and coded-segment spreadsheets from MAXQDA, NVivo and Taguette (CSV or XLSX).

Pure functions: a file becomes a RefiCodebook (merged into the code tree like a .qdc) or a list
of coded segments, which `place_segments` locates in the project's documents by their text.
Columns are recognised by the names these tools write (case-insensitive):

- codebook: code path in `Code` (MAXQDA), `Tag` (Taguette), `Name` / `Hierarchical name`
  (NVivo), or `code`; optional `Parent`, `Description` / `Memo` / `Definition`, `Color`.
- coded segments: `Document name` / `Document` / `File`, `Code` / `Tag` / `Node`, and the segment
  text in `Segment` (MAXQDA), `Content` (Taguette), `Coded text` / `Text` / `Quote`; optional
  `Coder` / `Created by` / `User` and `Comment` / `Memo`.

Code paths use a separator: by default `\\` (MAXQDA, NVivo) or `>` (MAXQDA's codebook import)
when a value holds one, else `/`; `--separator` chooses another. Taguette has no hierarchy.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from caseframe.errors import InvalidInput, NotFound
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import RefiCode, RefiCodebook
from caseframe.interop.refi.values import derived_guid, refi_color
from caseframe.interop.tables import restore_cell
from caseframe.util.zipguard import OFFICE_LIMITS, check_archive

DOCUMENT_COLUMNS = ("document name", "document", "documents", "file", "file name", "source")
CODE_COLUMNS = ("code", "code path", "tag", "node", "hierarchical name", "name", "code name")
TEXT_COLUMNS = ("segment", "content", "coded text", "text", "quote", "highlight", "coded segment")
DESCRIPTION_COLUMNS = ("description", "memo", "definition", "code memo")
CODER_COLUMNS = ("coder", "created by", "user", "author")
COMMENT_COLUMNS = ("comment", "memo", "note")
ROOT_FOLDERS = ("nodes", "codes")  # NVivo prefixes hierarchical names with its root folder

Rows = list[tuple[int, dict[str, str]]]


@dataclass
class SheetCoding:
    line: int
    document: str
    code_path: tuple[str, ...]
    text: str
    coder: str | None = None
    memo: str | None = None


@dataclass
class PlacedCoding:
    line: int
    document_guid: str
    start: int
    end: int
    code_path: tuple[str, ...]
    coder: str
    memo: str | None = None


# --------------------------------------------------------------------------- reading tables


def read_table(path: str | Path) -> tuple[list[str], Rows]:
    """Header (lowercased) and (line, row) pairs of the first sheet of an XLSX or of a CSV."""
    path = Path(path)
    if not path.is_file():
        raise NotFound("no such file", where=str(path), hint="check the path")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw = _xlsx_rows(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        raw = _csv_rows(path)
    else:
        raise InvalidInput(
            f"cannot read {path.suffix or 'files without extension'} spreadsheets",
            where=str(path),
            hint="save it as .xlsx or .csv",
        )
    while raw and not any(raw[0][1]):
        raw.pop(0)
    if not raw:
        raise InvalidInput("the spreadsheet is empty", where=str(path), hint="add a header row")
    header_line, header_cells = raw[0]
    header = [(h or "").strip().casefold() for h in header_cells]
    rows: Rows = []
    for line, cells in raw[1:]:
        row = {h: _text(cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        if any(row.values()):
            rows.append((line, row))
    return header, rows


def _text(cell: str) -> str:
    """A cell's text: stripped, with the `'` our exports put before a formula start removed."""
    return restore_cell(cell.strip()).strip()


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:  # the one zip guard first: openpyxl trusts the archive's entry table
        check_archive(path, where=str(path), limits=OFFICE_LIMITS, kind="an .xlsx workbook")
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=str(path), hint=exc.hint) from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(
            f"not a readable .xlsx workbook ({type(exc).__name__})", where=str(path)
        ) from None
    try:
        sheet = book.worksheets[0]
        return [
            (i, [_cell(v) for v in values])
            for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    from caseframe.util.csvfile import read_text_file

    text = read_text_file(path, "spreadsheet")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InvalidInput(f"malformed CSV: {exc}", where=f"{path}:{reader.line_num}") from None
    return rows


def _column(header: list[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in header), None)


def _required(header: list[str], names: tuple[str, ...], what: str, path: Path) -> str:
    found = _column(header, names)
    if found is None:
        raise InvalidInput(
            f"no {what} column",
            where=f"{path}:1",
            hint=f"name it one of: {', '.join(names)}",
        )
    return found


def _separator(values: list[str], separator: str | None) -> str | None:
    if separator:
        return separator
    for candidate in ("\\", ">", "/"):
        if any(candidate in v for v in values):
            return candidate
    return None


def _split(value: str, separator: str | None) -> tuple[str, ...]:
    parts = value.split(separator) if separator else [value]
    return tuple(p.strip() for p in parts if p.strip())


def _strip_root(paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    firsts = {p[0].casefold() for p in paths if len(p) > 1}
    if (
        paths
        and len(firsts) == 1
        and firsts <= set(ROOT_FOLDERS)
        and all(len(p) > 1 for p in paths)
    ):
        return [p[1:] for p in paths]
    return paths


# --------------------------------------------------------------------------- codebooks


def read_codebook_sheet(
    path: str | Path, separator: str | None = None
) -> tuple[RefiCodebook, LossReport]:
    """A codebook spreadsheet as a RefiCodebook (GUIDs derived from the code paths)."""
    path = Path(path)
    report = LossReport()
    header, rows = read_table(path)
    code_col = _required(header, CODE_COLUMNS, "code", path)
    desc_col = _column(header, DESCRIPTION_COLUMNS)
    parent_col = "parent" if "parent" in header else None
    color_col = _column(header, ("color", "colour"))
    sep = _separator([r[code_col] for _l, r in rows], separator)
    paths: list[tuple[str, ...]] = []
    for line, row in rows:
        path_ = _split(row.get(code_col, ""), sep)
        if not path_:
            raise InvalidInput("empty code", where=f"{path}:{line}")
        if parent_col and row.get(parent_col):
            path_ = (*_split(row[parent_col], sep), *path_)
        paths.append(path_)
    paths = _strip_root(paths)
    book = RefiCodebook(origin=f"spreadsheet {path.name}")
    nodes: dict[tuple[str, ...], RefiCode] = {}

    def node(p: tuple[str, ...]) -> RefiCode:
        if p not in nodes:
            nodes[p] = RefiCode(derived_guid("code", *p), p[-1])
            (node(p[:-1]).children if len(p) > 1 else book.codes).append(nodes[p])
        return nodes[p]

    ignored = set(header) - {code_col, desc_col, parent_col, color_col, ""}
    for (_line, row), p in zip(rows, paths, strict=True):
        code = node(p)
        description = row.get(desc_col or "", "")
        if description and not code.description:
            code.description = description
        color = row.get(color_col or "", "")
        if color:
            code.color = refi_color(color if color.startswith("#") else f"#{color}")
            if code.color is None:
                report.warn("colours that are not #RRGGBB", "left out")
    for column in sorted(ignored):
        report.skipped(f"column '{column}'", "not part of a codebook")
    return book, report


# --------------------------------------------------------------------------- coded segments


def read_codings_sheet(
    path: str | Path, separator: str | None = None
) -> tuple[list[SheetCoding], LossReport]:
    """The coded segments of a spreadsheet, one per row (codes as paths)."""
    path = Path(path)
    report = LossReport()
    header, rows = read_table(path)
    doc_col = _required(header, DOCUMENT_COLUMNS, "document", path)
    code_col = _required(header, CODE_COLUMNS, "code", path)
    text_col = _required(header, TEXT_COLUMNS, "segment text", path)
    coder_col = _column(header, CODER_COLUMNS)
    memo_col = _column(header, COMMENT_COLUMNS)
    sep = _separator([r.get(code_col, "") for _l, r in rows], separator)
    paths = _strip_root([_split(r.get(code_col, ""), sep) for _l, r in rows])
    result = []
    for (line, row), code_path in zip(rows, paths, strict=True):
        if not code_path:
            raise InvalidInput("empty code", where=f"{path}:{line}")
        result.append(
            SheetCoding(
                line=line,
                document=row.get(doc_col, ""),
                code_path=tuple(p.replace("/", "-") for p in code_path),
                text=row.get(text_col, ""),
                coder=row.get(coder_col or "") or None,
                memo=row.get(memo_col or "") or None,
            )
        )
    used = {doc_col, code_col, text_col, coder_col, memo_col, ""}
    for column in sorted(set(header) - used):
        report.skipped(f"column '{column}'", "caseframe places segments by their text")
    return result, report


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def find_segment(text: str, segment: str) -> list[tuple[int, int]]:
    """Every place `segment` occurs in `text`: verbatim, else with any run of whitespace
    matching any other (spreadsheets rewrap lines and turn paragraph breaks into spaces)."""
    segment = _normal(segment).strip()
    if not segment:
        return []
    hits, at = [], text.find(segment)
    while at != -1:
        hits.append((at, at + len(segment)))
        at = text.find(segment, at + 1)
    if hits:
        return hits
    words = segment.split()
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def _document(name: str, docs: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    if name in docs:
        return docs[name]
    folded = {k.casefold(): v for k, v in docs.items()}
    if name.casefold() in folded:
        return folded[name.casefold()]
    stems = [v for k, v in docs.items() if Path(k).stem.casefold() == Path(name).stem.casefold()]
    return stems[0] if len(stems) == 1 else None


def place_segments(
    rows: list[SheetCoding], docs: dict[str, tuple[str, str]], default_coder: str | None = None
) -> tuple[list[PlacedCoding], list[str]]:
    """Locate each row's segment in its document (docs: name -> (guid, text)).

    A segment found more than once is placed at its n-th occurrence, n counting the rows with
    the same document, text and code (exports list segments in text order). Returns the placed
    codings and one problem line per row that could not be placed.
    """
    if any(r.coder is None for r in rows) and not default_coder:
        raise InvalidInput("some rows name no coder", hint="add a coder column or pass --coder")
    placed: list[PlacedCoding] = []
    problems: list[str] = []
    seen: dict[tuple, int] = {}
    for row in rows:
        doc = _document(row.document, docs)
        if doc is None:
            problems.append(f"line {row.line}: unknown document '{row.document}'")
            continue
        hits = find_segment(doc[1], row.text)
        if not hits:
            short = row.text if len(row.text) <= 50 else row.text[:49] + "…"
            problems.append(f"line {row.line}: segment not found in '{row.document}': \"{short}\"")
            continue
        key = (doc[0], _normal(row.text).strip(), row.code_path)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n >= len(hits):
            problems.append(
                f"line {row.line}: segment occurs {len(hits)} times in '{row.document}' "
                f"but is listed {n + 1} times with this code"
            )
            continue
        start, end = hits[n]
        placed.append(
            PlacedCoding(
                row.line, doc[0], start, end, row.code_path, row.coder or default_coder, row.memo
            )
        )
    return placed, problems
