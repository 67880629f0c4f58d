"""A stratified sample of batch output for human review (the quality check of a run).

Strata: the `--by` columns if given, else the first code the model gave a row ("(none)" for
rows it gave none), so rare codes are checked as well as common ones. Each stratum gets at
least one row while `n` allows, the rest in proportion to its size (largest remainders); rows
are drawn at random with a fixed seed, so the same call gives the same sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

NO_CODE = "(none)"


def allocate(sizes: Sequence[int], n: int) -> list[int]:
    """Rows per stratum: one each while n allows (largest strata first), rest proportional."""
    import numpy as np

    sizes_arr = np.asarray(sizes, dtype=int)
    n = min(n, int(sizes_arr.sum()))
    take = np.zeros(len(sizes_arr), dtype=int)
    order = np.argsort(-sizes_arr, kind="stable")
    for i in order[: min(n, len(sizes_arr))]:
        take[i] = 1
    left = n - int(take.sum())
    if left > 0:
        room = sizes_arr - take
        quota = left * room / max(int(room.sum()), 1)
        extra = np.floor(quota).astype(int)
        remainder = left - int(extra.sum())
        for i in np.argsort(-(quota - extra), kind="stable")[:remainder]:
            extra[i] += 1
        take += np.minimum(extra, room)
    return take.tolist()


def stratified_sample(
    rows: pd.DataFrame, n: int, by: Sequence[str] = (), seed: int = 0
) -> pd.DataFrame:
    """`n` rows (fewer if there are fewer) with a `stratum` column."""
    import numpy as np

    if n < 1:
        raise InvalidInput(f"--sample {n} is not a positive number")
    if by:
        stratum = rows[list(by)].astype(str).agg(" / ".join, axis=1)
    else:
        stratum = rows["codes"].map(lambda c: c[0] if len(c) else NO_CODE)
    rows = rows.assign(stratum=stratum.to_numpy())
    groups = rows.groupby("stratum", sort=True)
    names = list(groups.groups)
    take = allocate([len(groups.get_group(g)) for g in names], n)
    rng = np.random.default_rng(seed)
    picked = []
    for name, k in zip(names, take, strict=True):
        if k:
            group = groups.get_group(name)
            picked.append(group.iloc[np.sort(rng.choice(len(group), size=k, replace=False))])
    import pandas as pd

    return pd.concat(picked, ignore_index=True) if picked else rows.iloc[:0]
