"""Span arithmetic for agreement: which codings count for which meaning unit, the code groups
a named category stands for, and the unit scheme each document is compared on.

Rules (docs/agreement.md explains why):

* a coder applied code c to unit u when one of their codings of c overlaps u by at least half of
  the shorter of the two (the unit or the coding);
* a named category includes its descendants' codings unless ``exact``; with no codes named,
  every code the chosen coders used counts on its own codings, in code-tree order;
* units are the meaning units of one scheme per document: the first of SCHEME_ORDER it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from caseframe.util.tree import children_of, descendants, walk

SCHEME_ORDER = ("imported", "turn", "paragraph", "sentences")
UNIT_COLUMNS = ["id", "document_id", "scheme", "start", "end", "document"]

CodeRow = tuple[int, str, int | None, int]  # id, name, parent_id, position


def choose_schemes(pairs: Iterable[tuple[int, str]], doc_ids: Iterable[int]) -> dict[int, str]:
    """document id -> the scheme it is compared on (first of SCHEME_ORDER it has)."""
    wanted = set(doc_ids)
    options: dict[int, set[str]] = {}
    for doc_id, scheme in pairs:
        if doc_id in wanted:
            options.setdefault(doc_id, set()).add(scheme)
    return {d: next(s for s in SCHEME_ORDER if s in opts) for d, opts in options.items()}


def unit_frame(rows: list[tuple] | pd.DataFrame, chosen: dict[int, str]) -> pd.DataFrame:
    """The units of each document's chosen scheme, in the order the rows came (name, start)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=UNIT_COLUMNS)
    keep = frame["document_id"].map(chosen).eq(frame["scheme"])
    return frame[keep].reset_index(drop=True)


def scheme_counts(chosen: dict[int, str]) -> dict[str, int]:
    counts = {s: sum(1 for v in chosen.values() if v == s) for s in SCHEME_ORDER}
    return {s: n for s, n in counts.items() if n}


# --------------------------------------------------------------------------- the code tree


def _parents(rows: Sequence[CodeRow]) -> dict[int, int | None]:
    ordered = sorted(rows, key=lambda r: (r[3], r[0]))
    return {r[0]: r[2] for r in ordered}


def code_order(rows: Sequence[CodeRow]) -> dict[int, int]:
    """code id -> its place in the tree (depth first, by position then id)."""
    children = children_of(_parents(rows))
    return {node: i for i, (node, _depth) in enumerate(walk(children.get(None, []), children))}


def code_labels(rows: Sequence[CodeRow], ids: Sequence[int]) -> list[str]:
    """A code's name, or its path where another code has the same name."""
    names = {r[0]: r[1] for r in rows}
    parent = {r[0]: r[2] for r in rows}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    out = []
    for cid in ids:
        if counts[names[cid]] == 1:
            out.append(names[cid])
            continue
        parts, node, guard = [], cid, set()
        while node is not None and node not in guard:
            guard.add(node)
            parts.append(names[node])
            node = parent.get(node)
        out.append("/".join(reversed(parts)))
    return out


def code_groups(
    rows: Sequence[CodeRow], roots: Sequence[int] | None, used: Iterable[int], exact: bool
) -> list[list[int]]:
    """Per matrix code, the code ids whose codings count for it (root first).

    With `roots` None: every used code on its own, in tree order."""
    if roots is None:
        order = code_order(rows)
        return [[int(c)] for c in sorted(set(used), key=lambda c: order.get(c, 1 << 30))]
    children = children_of(_parents(rows))
    groups: list[list[int]] = []
    for root in dict.fromkeys(roots):
        groups.append([root] if exact else [root, *descendants(root, children)])
    return groups


# --------------------------------------------------------------------------- overlaps


def overlaps(
    raw: np.ndarray, units: pd.DataFrame, coder_ids: list[int], groups: list[list[int]]
) -> np.ndarray:
    """(unit index, coder index, code index) for every coding that counts for a unit.

    `raw` is (coder_id, code_id, document_id, start, end) per coding. Candidate units come from
    a sorted search on one global axis (document rank x stride + offset); the half-of-the-shorter
    rule and the code groups are then applied with numpy, with no per-coding Python loop."""
    all_codes = [cid for g in groups for cid in g]
    raw = raw[np.isin(raw[:, 1], all_codes)]
    if not len(raw) or units.empty:
        return np.zeros((0, 3), dtype=np.int64)
    docs = pd.Index(pd.unique(units["document_id"]))
    ustart = units["start"].to_numpy(dtype=np.int64)
    uend = units["end"].to_numpy(dtype=np.int64)
    stride = int(max(uend.max(), raw[:, 4].max())) + 1
    ubase = docs.get_indexer(units["document_id"]).astype(np.int64) * stride
    gs, ge = ubase + ustart, ubase + uend
    order = np.argsort(gs, kind="stable")
    gs_sorted, longest = gs[order], int((uend - ustart).max())
    rank = docs.get_indexer(raw[:, 2])
    raw, rank = raw[rank >= 0], rank[rank >= 0]  # codings outside the chosen documents
    cs = rank.astype(np.int64) * stride + raw[:, 3]
    ce = rank.astype(np.int64) * stride + raw[:, 4]
    # a unit can overlap [cs, ce) only if it starts in (cs - longest, ce)
    lo = np.searchsorted(gs_sorted, cs - longest, side="right")
    hi = np.searchsorted(gs_sorted, ce, side="left")
    count = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(raw)), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    unit_index = order[np.repeat(lo, count) + step]
    s1, e1 = cs[which], ce[which]
    s2, e2 = gs[unit_index], ge[unit_index]
    overlap = np.minimum(e1, e2) - np.maximum(s1, s2)
    ok = (overlap > 0) & (2 * overlap >= np.minimum(e1 - s1, e2 - s2))
    which, unit_index = which[ok], unit_index[ok]
    coder_index = pd.Index(coder_ids).get_indexer(raw[which, 0])
    membership = pd.DataFrame(
        [(cid, j) for j, g in enumerate(groups) for cid in g], columns=["code_id", "j"]
    )
    hits = pd.DataFrame({"u": unit_index, "k": coder_index, "code_id": raw[which, 1]}).merge(
        membership, on="code_id"
    )
    return hits[["u", "k", "j"]].to_numpy(dtype=np.int64).reshape(-1, 3)


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans of one coder joined (unitized alpha needs non-overlapping units)."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a < out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def unit_texts(units: pd.DataFrame, texts: dict[int, str]) -> list[str]:
    return [
        texts[d][s:e]
        for d, s, e in zip(units["document_id"], units["start"], units["end"], strict=True)
    ]
