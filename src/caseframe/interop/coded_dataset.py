"""Reader of the coded-segment dataset format (shared/FORMATS.md).

A folder with `codebook.csv`, `segments.csv` and `codings.csv`: texts already cut into units,
with codes from one or more coders. Used by `import-coded`, `agreement DIR` and `bench suggest`.
Every problem is reported with the file, the line and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from caseframe.errors import InvalidInput, NotFound
from caseframe.util.csvfile import read_csv_rows

REQUIRED_COLUMNS = {
    "codebook.csv": ("code",),
    "segments.csv": ("id", "text"),
    "codings.csv": ("segment_id", "coder", "code"),
}
SPLITS = {"", "train", "test"}
CONSENSUS = "consensus"


@dataclass(frozen=True)
class CodebookEntry:
    code: str
    definition: str = ""
    examples: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(frozen=True)
class DatasetSegment:
    id: str
    text: str
    document: str | None = None
    speaker: str | None = None
    split: str | None = None  # "train", "test" or None


@dataclass(frozen=True)
class DatasetCoding:
    segment_id: str
    coder: str
    code: str


@dataclass
class CodedDataset:
    path: Path
    codebook: list[CodebookEntry]
    segments: list[DatasetSegment]
    codings: list[DatasetCoding]
    coders: list[str] = field(default_factory=list)

    @property
    def code_names(self) -> list[str]:
        return [c.code for c in self.codebook]

    def labels(self, coder: str) -> dict[str, set[str]]:
        """segment id -> set of codes applied by `coder` (every segment present, maybe empty)."""
        out: dict[str, set[str]] = {s.id: set() for s in self.segments}
        for c in self.codings:
            if c.coder == coder:
                out[c.segment_id].add(c.code)
        return out

    def reference_coder(self, given: str | None = None) -> str:
        """The reference coder: `given`, else `consensus`, else the only coder."""
        if given:
            if given not in self.coders:
                raise NotFound(
                    f"coder '{given}' is not in codings.csv",
                    where=str(self.path),
                    hint=f"choose one of: {', '.join(self.coders) or 'none'}",
                )
            return given
        if CONSENSUS in self.coders:
            return CONSENSUS
        if len(self.coders) == 1:
            return self.coders[0]
        raise InvalidInput(
            "no reference coder: the dataset has several coders and none is named 'consensus'",
            where=str(self.path),
            hint="pass --reference CODER",
        )

    def split(self, name: str) -> list[DatasetSegment]:
        return [s for s in self.segments if s.split == name]


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of one of the dataset's CSV files, its required columns checked."""
    if not path.is_file():
        raise NotFound(
            f"required file {path.name} is missing",
            where=str(path.parent),
            hint="a coded-segment dataset needs codebook.csv, segments.csv and codings.csv",
        )
    return read_csv_rows(path, required=REQUIRED_COLUMNS[path.name])[1]


def read_coded_dataset(folder: str | Path) -> CodedDataset:
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound("no such dataset folder", where=str(folder), hint="give a folder path")

    codebook: list[CodebookEntry] = []
    seen_codes: dict[str, int] = {}
    for line, row in _rows(folder / "codebook.csv"):
        name = row["code"]
        where = f"{folder / 'codebook.csv'}:{line}"
        if not name:
            raise InvalidInput("empty code name", where=where, hint="give every code a name")
        if name in seen_codes:
            raise InvalidInput(
                f"duplicate code '{name}' (first on line {seen_codes[name]})",
                where=where,
                hint="code names must be unique",
            )
        seen_codes[name] = line
        examples = tuple(e.strip() for e in row.get("examples", "").split(" | ") if e.strip())
        codebook.append(
            CodebookEntry(name, row.get("definition", ""), examples, row.get("parent") or None)
        )
    for entry in codebook:
        if entry.parent and entry.parent not in seen_codes:
            raise InvalidInput(
                f"parent '{entry.parent}' of code '{entry.code}' is not in the codebook",
                where=f"{folder / 'codebook.csv'}:{seen_codes[entry.code]}",
                hint="add the parent code or leave the parent empty",
            )

    segments: list[DatasetSegment] = []
    seen_segments: dict[str, int] = {}
    for line, row in _rows(folder / "segments.csv"):
        where = f"{folder / 'segments.csv'}:{line}"
        sid = row["id"]
        if not sid:
            raise InvalidInput("empty segment id", where=where, hint="give every segment an id")
        if sid in seen_segments:
            raise InvalidInput(
                f"duplicate segment id '{sid}' (first on line {seen_segments[sid]})",
                where=where,
                hint="segment ids must be unique",
            )
        seen_segments[sid] = line
        if not row["text"]:
            raise InvalidInput(
                f"segment '{sid}' has an empty text", where=where, hint="remove it or add its text"
            )
        split = row.get("split", "").lower()
        if split not in SPLITS:
            raise InvalidInput(
                f"split '{row.get('split')}' is not train, test or empty", where=where
            )
        segments.append(
            DatasetSegment(
                sid,
                row["text"],
                row.get("document") or None,
                row.get("speaker") or None,
                split or None,
            )
        )

    codings: list[DatasetCoding] = []
    coders: list[str] = []
    for line, row in _rows(folder / "codings.csv"):
        where = f"{folder / 'codings.csv'}:{line}"
        if row["segment_id"] not in seen_segments:
            raise InvalidInput(
                f"coding names unknown segment '{row['segment_id']}'",
                where=where,
                hint="every segment_id must be an id in segments.csv",
            )
        if row["code"] not in seen_codes:
            raise InvalidInput(
                f"coding names unknown code '{row['code']}'",
                where=where,
                hint="every code must be in codebook.csv",
            )
        if not row["coder"]:
            raise InvalidInput("empty coder name", where=where)
        if row["coder"] not in coders:
            coders.append(row["coder"])
        codings.append(DatasetCoding(row["segment_id"], row["coder"], row["code"]))

    return CodedDataset(folder, codebook, segments, codings, coders)
