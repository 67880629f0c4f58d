"""`batch summarise`: counts and shares of codes per group, with the model's uncertainty.

For each group (the `--by` columns, e.g. site and month) and code:

- `rows`: coded rows in the group; `count`: rows the model gave the code; `share` = count/rows
  with a Wilson 95 % interval (`share_low`, `share_high`) for the sampling error alone;
- `corrected_share` = share × precision ÷ recall, the cross-validated figures of the code: the
  expected true share if the model's errors on these rows are like those in cross-validation
  (a first-order correction of counting classified rows; capped at 1, blank when recall is 0);
- `cv_precision`, `cv_recall`, `cv_f1`, `cv_kappa` from the model file, and `low_f1` ("yes")
  where the cross-validated F1 is below `min_f1`: read such a code's trend with care.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

MIN_F1 = 0.5
ALL = "(all)"  # the one group when there are no --by columns
Z95 = 1.959964


def wilson(count, n, z: float = Z95):
    """Wilson score interval (low, high) for count/n, elementwise over arrays."""
    import numpy as np

    count = np.asarray(count, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = count / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def counts_of(rows: pd.DataFrame, by: Sequence[str]) -> tuple[pd.Series, pd.Series]:
    """(rows per group, rows per group and code) of one piece of output; pieces add up."""
    missing = [c for c in by if c not in rows.columns]
    if missing:
        raise InvalidInput(
            f"the batch output has no column {', '.join(repr(c) for c in missing)}",
            hint="carry it through with `batch suggest --keep COLUMN`; the output has "
            + ", ".join(c for c in rows.columns if c not in ("codes", "scores")),
        )
    keys = rows[list(by)].astype(str) if by else rows[[]].assign(**{ALL: ALL})
    names = list(keys.columns)
    sizes = keys.value_counts(sort=False).rename("rows")
    exploded = keys.assign(code=rows["codes"].to_numpy()).explode("code").dropna(subset=["code"])
    counts = exploded.groupby([*names, "code"], sort=False).size().rename("count")
    return sizes, counts


def add_counts(
    total: tuple[pd.Series, pd.Series] | None, piece: tuple[pd.Series, pd.Series]
) -> tuple[pd.Series, pd.Series]:
    if total is None:
        return piece
    return total[0].add(piece[0], fill_value=0), total[1].add(piece[1], fill_value=0)


def code_table(
    rows: pd.DataFrame | tuple[pd.Series, pd.Series],
    by: Sequence[str],
    codes: Sequence[str],
    cv: dict[str, dict[str, Any]],
    min_f1: float = MIN_F1,
) -> pd.DataFrame:
    """The long table: one row per group and code (codes never given in a group count 0).
    `rows` is batch output, or the summed `counts_of` of its pieces."""
    import numpy as np
    import pandas as pd

    sizes, counts = counts_of(rows, by) if isinstance(rows, pd.DataFrame) else rows
    keys = list(by) or [ALL]
    grid = sizes.astype(int).reset_index().merge(pd.DataFrame({"code": list(codes)}), how="cross")
    found = counts.astype(int).reset_index()
    table = grid.merge(found, on=[*keys, "code"], how="left").fillna({"count": 0})
    table["count"] = table["count"].astype(int)
    table["share"] = table["count"] / table["rows"]
    table["share_low"], table["share_high"] = wilson(table["count"], table["rows"])
    for k in ("precision", "recall", "f1", "kappa"):
        table[f"cv_{k}"] = table["code"].map(lambda c, k=k: (cv.get(c) or {}).get(k, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        corrected = table["share"] * table["cv_precision"] / table["cv_recall"]
    table["corrected_share"] = corrected.where(table["cv_recall"] > 0).clip(upper=1.0)
    table["low_f1"] = np.where(table["cv_f1"].fillna(0) < min_f1, "yes", "")
    order = {c: i for i, c in enumerate(codes)}
    table = table.sort_values(
        [*keys, "code"], key=lambda s: s.map(order) if s.name == "code" else s
    )
    if not by:
        table = table.drop(columns=[ALL])
    return table.reset_index(drop=True)


def overall(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """One row per code over all groups, with its figures and the low-F1 mark."""
    rows = table.drop_duplicates(list(by))["rows"].sum() if by else table["rows"].iloc[0]
    per = table.groupby("code", sort=False).agg(
        count=("count", "sum"),
        cv_precision=("cv_precision", "first"),
        cv_recall=("cv_recall", "first"),
        cv_f1=("cv_f1", "first"),
        cv_kappa=("cv_kappa", "first"),
        low_f1=("low_f1", "first"),
    )
    per.insert(1, "share", per["count"] / rows)
    return per.reset_index().sort_values("count", ascending=False, kind="stable")


ABOUT = [
    ("share", "rows the model gave the code ÷ rows in the group"),
    ("share_low / share_high", "Wilson 95 % interval of the share (sampling error only)"),
    (
        "corrected_share",
        "share × cross-validated precision ÷ cross-validated recall (capped at 1)",
    ),
    ("cv_*", "k-fold cross-validated figures of the code on the model's training units"),
    ("low_f1", "yes where the cross-validated F1 is below the threshold"),
]


def about_frame(info: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    items = [(k, str(v)) for k, v in info.items()] + ABOUT
    return pd.DataFrame(items, columns=["item", "value"])
