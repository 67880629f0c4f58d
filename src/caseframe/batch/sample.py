"""A stratified sample of batch output for human review (the quality check of a run).

Strata: the `--by` columns if given, else the first code the model gave a row ("(none)" for
rows it gave none), so rare codes are checked as well as common ones. Each stratum gets at
least one row while `n` allows, the rest in proportion to its size (largest remainders); rows
are drawn at random with a fixed seed, so the same call gives the same sample.

Two passes over the output, one partition in memory at a time: the first counts the strata
(reading only the stratum columns), the second keeps the drawn rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

NO_CODE = "(none)"
ReadPart = Callable[[int, list[str]], "pd.DataFrame"]


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


def strata_of(rows: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    if by:
        return rows[list(by)].astype(str).agg(" / ".join, axis=1)
    return rows["codes"].map(lambda c: c[0] if len(c) else NO_CODE)


def sample_parts(
    read_part: ReadPart,
    parts: int,
    columns: list[str],
    n: int,
    by: Sequence[str] = (),
    seed: int = 0,
) -> pd.DataFrame:
    """`n` rows (fewer if there are fewer) of `parts` pieces read by `read_part(i, columns)`,
    with a `stratum` column."""
    import numpy as np
    import pandas as pd

    if n < 1:
        raise InvalidInput(f"--sample {n} is not a positive number")
    stratum_columns = list(by) or ["codes"]
    sizes: Counter[str] = Counter()
    for i in range(parts):
        sizes.update(strata_of(read_part(i, stratum_columns), by).tolist())
    names = sorted(sizes)
    take = allocate([sizes[s] for s in names], n)
    rng = np.random.default_rng(seed)
    wanted = {  # stratum -> positions (in output order) of its drawn rows
        s: set(rng.choice(sizes[s], size=k, replace=False).tolist())
        for s, k in zip(names, take, strict=True)
        if k
    }
    seen: Counter[str] = Counter()
    picked = []
    for i in range(parts):
        strata = strata_of(read_part(i, stratum_columns), by).tolist()
        keep = []
        for j, s in enumerate(strata):
            if seen[s] in wanted.get(s, ()):
                keep.append(j)
            seen[s] += 1
        if keep:
            rows = read_part(i, list(dict.fromkeys([*columns, *stratum_columns])))
            chosen = rows.iloc[keep].assign(stratum=[strata[j] for j in keep])
            picked.append(chosen)
    if not picked:
        return pd.DataFrame(columns=[*columns, "stratum"])
    return pd.concat(picked, ignore_index=True)


def stratified_sample(
    rows: pd.DataFrame, n: int, by: Sequence[str] = (), seed: int = 0
) -> pd.DataFrame:
    """The same sample drawn from rows already in memory."""
    return sample_parts(lambda _i, cols: rows[cols], 1, list(rows.columns), n, by, seed)
