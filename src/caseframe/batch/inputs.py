"""Input files cut into partitions that a worker reads on its own, in bounded memory.

CSV: the client scans each file once for record boundaries (a newline outside double quotes,
found with numpy over 16 MiB blocks, so quoted newlines inside comments are safe) and cuts it
every `rows` records or `max_bytes` bytes, whichever comes first. A worker reads its byte range,
parses it with the standard csv module and reports each row it cannot use with the file and
line: invalid UTF-8, a wrong number of fields, an empty text, an empty id. The rest goes on.

Parquet: partitions are runs of whole row groups (up to `rows` rows, one group at least); a
worker streams them in batches.

A row's id is the `--id-column` value, else `FILE_NAME:LINE` (CSV) or `FILE_NAME:ROW` (Parquet).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caseframe.errors import InvalidInput, NotFound

BLOCK = 16 * 1024 * 1024
ROWS = 50_000
MAX_BYTES = 64 * 1024 * 1024
BATCH = 5_000  # rows a worker turns into features at once
MAX_ERRORS = 1_000  # reported per partition (all are counted)


@dataclass(frozen=True)
class Partition:
    """One unit of work: a byte range of a CSV file or a run of Parquet row groups."""

    index: int
    path: str
    kind: str  # "csv" or "parquet"
    start: int  # CSV: first byte; Parquet: first row group
    end: int  # CSV: end byte (exclusive); Parquet: end row group (exclusive)
    first_line: int  # CSV: line of the first record; Parquet: 1-based number of the first row
    rows: int  # records in the range (CSV: blank lines included)
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"part-{self.index:06d}"


@dataclass
class Chunk:
    """Rows of a partition ready for work, and the ones that could not be used."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    extra: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    bad_rows: int = 0


def kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InvalidInput(
        f"cannot read '{path.suffix}' files", where=str(path), hint="give CSV or Parquet files"
    )


def expand(inputs: Sequence[str | Path]) -> list[Path]:
    """Files named, and the CSV/Parquet files inside folders named (sorted), as absolute paths:
    workers on other machines read them by the same path."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item).resolve()
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".parquet", ".pq")
            )
            if not found:
                raise NotFound("no CSV or Parquet files in the folder", where=str(path))
            out.extend(found)
        elif path.is_file():
            kind_of(path)
            out.append(path)
        else:
            raise NotFound("no such input file", where=str(path), hint="check the path")
    if not out:
        raise InvalidInput("no input files given", hint="name CSV or Parquet files")
    return out


def fingerprint(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """What a resumed run checks has not changed: each input's path, size and change time."""
    out = []
    for p in paths:
        st = p.stat()
        out.append({"path": str(p), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def plan(paths: Sequence[Path], rows: int = ROWS, max_bytes: int = MAX_BYTES) -> list[Partition]:
    if rows < 1:
        raise InvalidInput(f"--partition-rows {rows} is not a positive number")
    parts: list[Partition] = []
    for path in paths:
        cut = _plan_csv if kind_of(path) == "csv" else _plan_parquet
        for p in cut(path, rows, max_bytes):
            parts.append(
                Partition(
                    len(parts), p.path, p.kind, p.start, p.end, p.first_line, p.rows, p.columns
                )
            )
    return parts


def columns_of(path: Path) -> tuple[str, ...]:
    """The header of a CSV file or the schema of a Parquet file, without reading the rows."""
    if kind_of(path) == "parquet":
        import pyarrow.parquet as pq

        return tuple(pq.read_schema(path).names)
    return _csv_header(path, next(_record_ends(path), (path.stat().st_size, 0))[0])


def check_columns(parts: Sequence[Partition], needed: Sequence[str]) -> None:
    for path, columns in {p.path: p.columns for p in parts}.items():
        missing = [c for c in needed if c and c not in columns]
        if missing:
            raise InvalidInput(
                f"no column {', '.join(repr(c) for c in missing)}",
                where=path,
                hint=f"the file has {', '.join(columns[:20])}",
            )


# -- CSV ---------------------------------------------------------------------------------------


def _record_ends(path: Path) -> Iterator[tuple[int, int]]:
    """(byte offset just after a record's newline, newlines so far) for each record end."""
    import numpy as np

    quotes = 0  # double quotes seen so far: odd means inside a quoted field
    newlines = 0
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            arr = np.frombuffer(block, dtype=np.uint8)
            nl = np.flatnonzero(arr == 10)
            if nl.size:
                q = np.cumsum(arr == 34, dtype=np.int64)
                outside = (q[nl] + quotes) % 2 == 0
                yield from zip(
                    (nl[outside] + 1 + offset).tolist(),
                    (np.flatnonzero(outside) + 1 + newlines).tolist(),
                    strict=True,
                )
                quotes += int(q[-1])
            else:
                quotes += int(np.count_nonzero(arr == 34))
            newlines += int(nl.size)
            offset += len(block)


def _plan_csv(path: Path, rows: int, max_bytes: int) -> list[Partition]:
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput("the CSV file is empty", where=str(path), hint="add a header row")
    ends = _record_ends(path)
    header_end, _ = next(ends, (size, 0))
    columns = _csv_header(path, header_end)
    parts: list[Partition] = []
    start, start_line, count, last = header_end, 2, 0, header_end
    for pos, lines in ends:
        count += 1
        last = pos
        if count >= rows or pos - start >= max_bytes:
            parts.append(
                Partition(0, str(path), "csv", start, pos, start_line, count, tuple(columns))
            )
            start, start_line, count = pos, lines + 1, 0
    if size > last:  # the last record, without a final newline
        count += 1
    if count:
        parts.append(Partition(0, str(path), "csv", start, size, start_line, count, tuple(columns)))
    return parts


def _csv_header(path: Path, end: int) -> tuple[str, ...]:
    with open(path, "rb") as fh:
        head = fh.read(end)
    try:
        columns = next(csv.reader(io.StringIO(head.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, StopIteration):
        raise InvalidInput(
            "cannot read the header row", where=f"{path}:1", hint="save the file as UTF-8 CSV"
        ) from None
    return tuple(c.strip() for c in columns)


def _read_csv(
    part: Partition, text_column: str, id_column: str | None, keep: Sequence[str], batch: int
) -> Iterator[Chunk]:
    with open(part.path, "rb") as fh:
        fh.seek(part.start)
        raw = fh.read(part.end - part.start)
    # surrogateescape keeps a bad byte visible as one odd character, so only its row is lost
    reader = csv.reader(io.StringIO(raw.decode("utf-8", "surrogateescape"), newline=""))
    columns = part.columns
    at = {c: i for i, c in enumerate(columns)}
    name = Path(part.path).name
    chunk = Chunk(extra={c: [] for c in keep})
    before = 0
    try:
        for fields in reader:
            line = part.first_line + before
            before = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            problem = None
            if len(fields) != len(columns):
                problem = f"{len(fields)} fields where the header has {len(columns)}"
            elif any(_has_bad_bytes(f) for f in fields):
                problem = "invalid UTF-8"
            else:
                text = fields[at[text_column]].strip()
                rid = fields[at[id_column]].strip() if id_column else f"{name}:{line}"
                if not text:
                    problem = f"empty text in column '{text_column}'"
                elif not rid:
                    problem = f"empty id in column '{id_column}'"
            if problem:
                _bad(chunk, part.path, line, problem)
                continue
            chunk.ids.append(rid)
            chunk.texts.append(text)
            for c in keep:
                chunk.extra[c].append(fields[at[c]])
            if len(chunk.ids) >= batch:
                yield chunk
                chunk = Chunk(extra={c: [] for c in keep})
    except csv.Error as exc:
        _bad(
            chunk,
            part.path,
            part.first_line + before,
            f"malformed CSV ({exc}); rest of the partition skipped",
        )
    yield chunk


def _has_bad_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _bad(chunk: Chunk, path: str, where: int, problem: str) -> None:
    chunk.bad_rows += 1
    if len(chunk.errors) < MAX_ERRORS:
        chunk.errors.append({"file": path, "line": where, "problem": problem})


# -- Parquet -----------------------------------------------------------------------------------


def _plan_parquet(path: Path, rows: int, max_bytes: int) -> list[Partition]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise InvalidInput(f"cannot read the Parquet file ({exc})", where=str(path)) from None
    columns = tuple(meta.schema.names)
    parts: list[Partition] = []
    first, first_row, count = 0, 1, 0
    for g in range(meta.num_row_groups):
        count += meta.row_group(g).num_rows
        if count >= rows or g == meta.num_row_groups - 1:
            parts.append(
                Partition(0, str(path), "parquet", first, g + 1, first_row, count, columns)
            )
            first, first_row, count = g + 1, first_row + count, 0
    return parts


def _read_parquet(
    part: Partition, text_column: str, id_column: str | None, keep: Sequence[str], batch: int
) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    wanted = list(dict.fromkeys([text_column, *([id_column] if id_column else []), *keep]))
    name = Path(part.path).name
    row = part.first_line
    pf = pq.ParquetFile(part.path)
    for record_batch in pf.iter_batches(
        batch_size=batch, row_groups=range(part.start, part.end), columns=wanted
    ):
        table = record_batch.to_pydict()
        chunk = Chunk(extra={c: [] for c in keep})
        for i in range(record_batch.num_rows):
            text = table[text_column][i]
            text = text.strip() if isinstance(text, str) else ""
            rid = table[id_column][i] if id_column else f"{name}:{row + i}"
            rid = "" if rid is None else str(rid).strip()
            if not text:
                _bad(chunk, part.path, row + i, f"empty text in column '{text_column}'")
            elif not rid:
                _bad(chunk, part.path, row + i, f"empty id in column '{id_column}'")
            else:
                chunk.ids.append(rid)
                chunk.texts.append(text)
                for c in keep:
                    chunk.extra[c].append(table[c][i])
        row += record_batch.num_rows
        yield chunk


def read_partition(
    part: Partition,
    text_column: str,
    id_column: str | None = None,
    keep: Sequence[str] = (),
    batch: int = BATCH,
) -> Iterator[Chunk]:
    """The usable rows of a partition in chunks of at most `batch`, with the unusable ones."""
    reader = _read_csv if part.kind == "csv" else _read_parquet
    yield from reader(part, text_column, id_column, list(keep), batch)


def plan_digest(parts: Sequence[Partition]) -> str:
    """Changes when the partition plan does (a resumed run must use the same one)."""
    text = "\n".join(f"{p.path}|{p.kind}|{p.start}|{p.end}|{p.rows}" for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
