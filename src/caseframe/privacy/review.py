"""The review list: scan results as a CSV file the team reads, edits and hands back to apply.

One row per proposed replacement. The team sets `accept` to yes or no and may change
`pseudonym`. The file holds real names, so it is as confidential as the key file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from caseframe.errors import InvalidInput
from caseframe.privacy.detect import Detection
from caseframe.privacy.hit import CATEGORIES
from caseframe.privacy.pseudonyms import PseudonymBook

COLUMNS = (
    "accept",
    "document",
    "start",
    "end",
    "category",
    "source",
    "text",
    "value",
    "pseudonym",
    "context",
)
_YES = {"yes", "y", "1", "true", "x", "ja", "j"}
_NO = {"no", "n", "0", "false", "", "nej"}


@dataclass(frozen=True)
class ReviewItem:
    document: str
    detection: Detection
    accept: bool
    pseudonym: str


def propose(
    scans: Mapping[str, Iterable[Detection]], book: PseudonymBook, *, accept: bool = True
) -> list[ReviewItem]:
    """Review rows for {document: detections}, each with the pseudonym it would get.

    All documents are proposed together so that two new names never get the same number;
    `book` itself is not changed.
    """
    trial = book.copy()
    return [
        ReviewItem(
            document, d, accept, trial.assign(d.value or d.text, d.category, d.pseudonym_hint)
        )
        for document, detections in scans.items()
        for d in detections
    ]


def write_review(path: str | Path, items: Iterable[ReviewItem]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in items:
        d = item.detection
        writer.writerow(
            [
                "yes" if item.accept else "no",
                item.document,
                d.start,
                d.end,
                d.category,
                d.source,
                d.text,
                d.value or d.text,
                item.pseudonym,
                d.context,
            ]
        )
    _write_private(Path(path), buffer.getvalue())


def read_review(path: str | Path) -> list[ReviewItem]:
    """All rows (accepted or not), checked line by line; a bad line names file:line."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"review list {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read review list {path}: {exc}") from None
    reader = csv.reader(io.StringIO(raw, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"review list {path} is empty") from None
    if tuple(h.strip().casefold() for h in header) != COLUMNS:
        raise InvalidInput(
            "the first line is not the review list header",
            where=f"{path}:1",
            hint=f"expected {','.join(COLUMNS)}",
        )
    items = []
    line = reader.line_num
    for row in reader:
        first_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        items.append(_item(row, f"{path}:{first_line}"))
    return items


def accepted_by_document(items: Iterable[ReviewItem]) -> dict[str, list[Detection]]:
    """Accepted detections per document, each carrying its (possibly edited) pseudonym."""
    out: dict[str, list[Detection]] = {}
    for item in items:
        if item.accept:
            d = item.detection
            edited = Detection(
                d.start, d.end, d.text, d.category, d.source, item.pseudonym, d.context, d.value
            )
            out.setdefault(item.document, []).append(edited)
    return out


def _item(row: list[str], where: str) -> ReviewItem:
    if len(row) != len(COLUMNS):
        raise InvalidInput(
            f"expected {len(COLUMNS)} fields, found {len(row)}",
            where=where,
            hint="keep every column; quote text that contains commas",
        )
    cells = dict(zip(COLUMNS, row, strict=True))
    accept = cells["accept"].strip().casefold()
    if accept not in _YES | _NO:
        raise InvalidInput(f"accept must be yes or no, not {cells['accept']!r}", where=where)
    try:
        start, end = int(cells["start"]), int(cells["end"])
    except ValueError:
        raise InvalidInput(
            f"start and end must be whole numbers, not {cells['start']!r}, {cells['end']!r}",
            where=where,
        ) from None
    if not 0 <= start < end:
        raise InvalidInput(f"[{start}, {end}) is not a non-empty range", where=where)
    if end - start != len(cells["text"]):
        raise InvalidInput(
            f"text {cells['text']!r} does not fit [{start}, {end})",
            where=where,
            hint="edit only the accept and pseudonym columns",
        )
    category = cells["category"].strip()
    if category not in CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}", where=where)
    pseudonym = cells["pseudonym"].strip()
    if accept in _YES and not pseudonym:
        raise InvalidInput("an accepted row needs a pseudonym", where=where)
    detection = Detection(
        start,
        end,
        cells["text"],
        category,
        cells["source"].strip(),
        None,
        cells["context"],
        cells["value"] or cells["text"],
    )
    return ReviewItem(cells["document"], detection, accept in _YES, pseudonym)


def _write_private(path: Path, content: str) -> None:
    """Write atomically with mode 0600: the list holds real names."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
