"""Co-occurrence of codes, as counts and as a normalised measure.

Two scopes:

- `unit`: two codes co-occur when one coder applied both within the same meaning unit. A coding
  belongs to the unit it was made on (`meaning_unit_id`) or else to every unit of the chosen
  segmentation that its range overlaps. `count` is the number of (coder, unit) pairs holding
  both codes; `jaccard` is |A ∩ B| / |A ∪ B| over those (coder, unit) sets.
- `overlap`: two codings co-occur when one coder's ranges in a document overlap. `count` is the
  number of overlapping coding pairs; the normalised measure is n_ab / (n_a + n_b − n_ab) with
  n_a, n_b the numbers of codings (the c-coefficient QDA tools report; it equals the Jaccard
  index when each coding overlaps at most one coding of the other code).

Everything is vectorised (numpy searchsorted over sorted keys); no loop over codings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCOPES = ("unit", "overlap")
MEASURES = ("count", "jaccard")
_SHIFT = np.int64(2**32)  # key = group index * 2^32 + offset; offsets stay below 2^32


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For row i, the run first[i], first[i]+1, ... (count[i] values): (row, value) arrays."""
    count = np.clip(count, 0, None)
    rows = np.repeat(np.arange(len(first)), count)
    starts = np.repeat(first, count)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return rows, starts + offsets


def place_in_units(codings: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """(coding row label, unit_id) for every unit a coding is in (see module doc)."""
    given = codings[codings["meaning_unit_id"].notna()]
    out = [pd.DataFrame({"row": given.index, "unit_id": given["meaning_unit_id"].astype(int)})]
    rest = codings[codings["meaning_unit_id"].isna()]
    if len(rest) and len(units):
        units = units.sort_values(["document_id", "start"])
        udoc = units["document_id"].to_numpy(np.int64)
        ustart = units["start"].to_numpy(np.int64)
        uend = units["end"].to_numpy(np.int64)
        ukey = udoc * _SHIFT + ustart
        doc = rest["document_id"].to_numpy(np.int64)
        start = rest["start"].to_numpy(np.int64)
        end = rest["end"].to_numpy(np.int64)
        first = np.searchsorted(ukey, doc * _SHIFT + start, side="right") - 1
        safe = np.clip(first, 0, len(ukey) - 1)
        inside = (first >= 0) & (udoc[safe] == doc) & (uend[safe] > start)
        first = np.where(inside, first, first + 1)
        last = np.searchsorted(ukey, doc * _SHIFT + end, side="left") - 1
        rows, idx = _expand(first, last - first + 1)
        out.append(
            pd.DataFrame(
                {
                    "row": rest.index.to_numpy()[rows],
                    "unit_id": units["id"].to_numpy()[idx],
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _pair_table(
    pairs: pd.DataFrame, totals: pd.DataFrame, labels: dict[int, str], measure: str, by: bool
) -> pd.DataFrame:
    """pairs: [group], code_a, code_b, count; totals: [group], code_id, n."""
    keys = ["group"] if by else []
    if measure == "jaccard":
        for side in ("a", "b"):
            named = totals.rename(columns={"code_id": f"code_{side}", "n": f"n_{side}"})
            pairs = pairs.merge(named, on=[*keys, f"code_{side}"], how="left")
        pairs["jaccard"] = pairs["count"] / (pairs["n_a"] + pairs["n_b"] - pairs["count"])
    pairs["code_a"] = pairs["code_a"].map(labels)
    pairs["code_b"] = pairs["code_b"].map(labels)
    columns = [*keys, "code_a", "code_b", "count", *(["jaccard"] if measure == "jaccard" else [])]
    return pairs[columns].reset_index(drop=True)


def unit_cooccurrence(
    codings: pd.DataFrame, placements: pd.DataFrame, labels: dict[int, str], measure: str, by: bool
) -> pd.DataFrame:
    """`codings` (with coder and, when `by`, group); `placements` from place_in_units()."""
    keys = ["group"] if by else []
    present = (
        placements.join(codings[[*keys, "coder_id", "code_id"]], on="row")
        .drop(columns="row")
        .drop_duplicates()
    )
    scope = [*keys, "coder_id", "unit_id"]
    both = present.merge(present, on=scope, suffixes=("_a", "_b"))
    both = both[both["code_id_a"] < both["code_id_b"]]
    pairs = (
        both.groupby([*keys, "code_id_a", "code_id_b"]).size().rename("count").reset_index()
    ).rename(columns={"code_id_a": "code_a", "code_id_b": "code_b"})
    totals = present.groupby([*keys, "code_id"]).size().rename("n").reset_index()
    return _pair_table(pairs, totals, labels, measure, by)


def overlap_cooccurrence(
    codings: pd.DataFrame, labels: dict[int, str], measure: str, by: bool
) -> pd.DataFrame:
    keys = ["group"] if by else []
    frame = codings.drop_duplicates([*keys, "id"]).sort_values(
        [*keys, "coder_id", "document_id", "start"]
    )
    grp = frame.groupby([*keys, "coder_id", "document_id"], sort=False).ngroup()
    grp = grp.to_numpy(np.int64)
    start = frame["start"].to_numpy(np.int64)
    end = frame["end"].to_numpy(np.int64)
    key = grp * _SHIFT + start
    order = np.argsort(key, kind="stable")
    key, start, end, grp = key[order], start[order], end[order], grp[order]
    codes = frame["code_id"].to_numpy(np.int64)[order]
    hi = np.searchsorted(key, grp * _SHIFT + end, side="left")
    i, j = _expand(np.arange(len(key)) + 1, hi - np.arange(len(key)) - 1)
    a, b = codes[i], codes[j]
    keep = a != b
    pairs = pd.DataFrame({"code_a": np.minimum(a, b)[keep], "code_b": np.maximum(a, b)[keep]})
    if by:
        pairs.insert(0, "group", frame["group"].to_numpy()[order][i[keep]])
    pairs = pairs.groupby([*keys, "code_a", "code_b"]).size().rename("count").reset_index()
    totals = frame.groupby([*keys, "code_id"]).size().rename("n").reset_index()
    return _pair_table(pairs, totals, labels, measure, by)


def cooccurrence_table(
    codings: pd.DataFrame,
    units: pd.DataFrame,
    codes: pd.DataFrame,
    groups: pd.DataFrame | None,
    scope: str,
    measure: str,
) -> pd.DataFrame:
    """The long table ([group], code_a, code_b, count, [jaccard]), most frequent pairs first
    (per group, groups in natural order). `groups`: document_id → group, or None."""
    from caseframe.analysis.frames import natural_sorted
    from caseframe.analysis.matrix import code_labels

    by = groups is not None
    if by:
        # group by integer codes; the names come back once the pairs are counted
        group_codes, group_names = pd.factorize(groups["group"])
        codings = codings.merge(groups.assign(group=group_codes), on="document_id")
    labels = code_labels(codes, [int(i) for i in codes["id"]])
    columns = [*(["group"] if by else []), "code_a", "code_b", "count"]
    columns += ["jaccard"] if measure == "jaccard" else []
    if codings.empty:
        return pd.DataFrame(columns=columns)
    codings = codings.reset_index(drop=True)
    if scope == "unit":
        placements = place_in_units(codings, units)
        result = unit_cooccurrence(codings, placements, labels, measure, by)
    else:
        result = overlap_cooccurrence(codings, labels, measure, by)
    sort = [*(["group"] if by else []), measure if measure == "jaccard" else "count"]
    result = result.sort_values(sort, ascending=[True] * by + [False], kind="stable")
    if by:
        names = np.asarray(group_names, dtype=object)[result["group"].to_numpy(np.int64)]
        result["group"] = pd.Categorical(names, natural_sorted(set(names)), ordered=True)
        result = result.sort_values("group", kind="stable")
        result["group"] = result["group"].astype(str)
    return result.reset_index(drop=True)
