"""Reading a finished `batch suggest` folder: the summary files and the sample for review."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Summary:
    xlsx: Path
    html: Path
    rows: int
    table_rows: int
    has_cv: bool
    low_f1: list[str] = field(default_factory=list)


def suggest_model(folder: Path) -> dict[str, Any]:
    """The model block of a `batch suggest` output folder's manifest (id, method, codes, cv)."""
    from caseframe.batch.runner import manifest_of

    manifest = manifest_of(folder) or {}
    model = (manifest.get("settings") or {}).get("model")
    if manifest.get("kind") != "suggest" or not model:
        raise InvalidInput(
            "not the output folder of `batch suggest`",
            where=str(folder),
            hint="give the --out folder of a batch suggest run",
        )
    return model


def write_summary(
    folder: Path,
    by: list[str],
    min_f1: float,
    xlsx: Path | None = None,
    html: Path | None = None,
) -> Summary:
    """summary.xlsx and summary.html of a run (paths default to the folder)."""
    from caseframe.batch import charts, summary
    from caseframe.batch.runner import iter_parts
    from caseframe.interop.tables import write_xlsx
    from caseframe.util.atomic import atomic_write

    model = suggest_model(folder)
    counts = None
    for piece in iter_parts(folder, [*by, "codes"]):  # one partition in memory at a time
        counts = summary.add_counts(counts, summary.counts_of(piece, by))
    per_cv = (model.get("cv") or {}).get("per_code", {})
    table = summary.code_table(counts, by, model["codes"], per_cv, min_f1)
    per_code = summary.overall(table, by)
    n_rows = int(counts[0].sum())
    info = {
        "rows": n_rows,
        "model_version": model["id"],
        "method": model["method"],
        "cv folds": (model.get("cv") or {}).get("folds", "none"),
        "min_f1": min_f1,
        "by": ", ".join(by) or "nothing",
    }
    xlsx = xlsx or folder / "summary.xlsx"
    html = html or folder / "summary.html"
    sheets = {"by group": table, "codes": per_code, "about": summary.about_frame(info)}
    write_xlsx(sheets, xlsx, freeze_header=True)
    atomic_write(html, charts.page(table, per_code, by, info, summary.ABOUT, min_f1))
    low = per_code[per_code["low_f1"] == "yes"]["code"].tolist()
    return Summary(xlsx, html, n_rows, len(table), bool(per_cv), low)


def review_sample(folder: Path, n: int, by: list[str], seed: int = 0) -> pd.DataFrame:
    """A stratified sample of the run's rows: id, text, codes, scores, stratum."""
    from caseframe.batch.runner import part_names, read_part
    from caseframe.batch.sample import sample_parts

    suggest_model(folder)
    names = part_names(folder)
    return sample_parts(
        lambda i, columns: read_part(folder, names[i], columns),
        len(names),
        ["id", "text", "codes", "scores"],
        n,
        by,
        seed,
    )
