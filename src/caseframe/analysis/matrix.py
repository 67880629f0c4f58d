"""Framework matrix (Framework Method charting): rows are cases or attribute values, columns
are codes, categories or framework components, cells summarise the codings that meet there.

Cells: `count` (codings), `respondents` (distinct respondents), `valence` ("+3 −1 ±1":
facilitator, barrier, mixed), `quotes` (the passages with their attribution), `summary` (the
written summary stored per row case and column code, "[stale] " in front when its codings
changed since it was written).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from caseframe.analysis.frames import descendants, natural_sorted
from caseframe.errors import InvalidInput

CELLS = ("count", "respondents", "valence", "quotes", "summary")
# plural words a user types for a code kind
KIND_WORDS = {
    "themes": "theme",
    "theme": "theme",
    "main_categories": "main_category",
    "main-categories": "main_category",
    "main_category": "main_category",
    "categories": "category",
    "category": "category",
}
VALENCE_SIGNS = (("facilitator", "+"), ("barrier", "−"), ("mixed", "±"))
STALE_MARK = "[stale] "


def code_labels(codes: pd.DataFrame, ids: list[int]) -> dict[int, str]:
    """Column labels: the code's name, or its path where two chosen codes share a name."""
    sub = codes.set_index("id").loc[ids]
    dup = sub["name"].duplicated(keep=False)
    return {
        int(i): (path if d else name)
        for i, name, path, d in zip(sub.index, sub["name"], sub["path"], dup, strict=True)
    }


def code_columns(codes: pd.DataFrame, cols: str) -> tuple[pd.DataFrame, list[str]]:
    """(code_id → column, ordered columns) for `codes` or a code kind: a code counts for itself
    (codes) or for its nearest ancestor-or-self of that kind (a category gathers its codes)."""
    if cols == "codes":
        ids = [int(i) for i in codes["id"]]
        labels = code_labels(codes, ids)
        mapping = pd.DataFrame({"code_id": ids, "column": [labels[i] for i in ids]})
        return mapping, [labels[i] for i in ids]
    kind = KIND_WORDS[cols]
    kind_of = dict(zip(codes["id"], codes["kind"], strict=True))
    chosen = [int(i) for i in codes["id"] if kind_of[i] == kind]
    labels = code_labels(codes, chosen)
    pairs = []
    for code_id, ancestors in zip(codes["id"], codes["ancestors"], strict=True):
        owner = next((a for a in ancestors if kind_of.get(a) == kind), None)
        if owner is not None:
            pairs.append((int(code_id), labels[owner]))
    mapping = pd.DataFrame(pairs, columns=["code_id", "column"])
    return mapping, [labels[i] for i in chosen]


def code_components(codes: pd.DataFrame, mappings: pd.DataFrame) -> pd.DataFrame:
    """code_id → component_id. A code counts for its own component (deductive), for every
    component it is mapped to, and for those of its ancestors (a code inside a mapped category
    is evidence for that category's components)."""
    direct: dict[int, set[int]] = {}
    for code_id, comp in zip(codes["id"], codes["component_id"], strict=True):
        if not pd.isna(comp):
            direct.setdefault(int(code_id), set()).add(int(comp))
    for code_id, comp in zip(mappings["code_id"], mappings["component_id"], strict=True):
        direct.setdefault(int(code_id), set()).add(int(comp))
    pairs = [
        (int(code_id), comp)
        for code_id, ancestors in zip(codes["id"], codes["ancestors"], strict=True)
        for comp in sorted(set().union(*(direct.get(a, set()) for a in ancestors)))
    ]
    return pd.DataFrame(pairs, columns=["code_id", "component_id"])


def framework_columns(
    components: pd.DataFrame, codes: pd.DataFrame, mappings: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """(code_id → column, ordered columns) for a framework's components (id, key)."""
    links = code_components(codes, mappings)
    keys = dict(zip(components["id"], components["key"], strict=True))
    links = links[links["component_id"].isin(keys)]
    mapping = pd.DataFrame({"code_id": links["code_id"], "column": links["component_id"].map(keys)})
    return mapping, list(components["key"])


def valence_text(facilitator: int, barrier: int, mixed: int) -> str:
    parts = [
        f"{sign}{n}"
        for (_, sign), n in zip(VALENCE_SIGNS, (facilitator, barrier, mixed), strict=True)
        if n
    ]
    return " ".join(parts)


def placed(codings: pd.DataFrame, row_groups: pd.DataFrame, col_map: pd.DataFrame) -> pd.DataFrame:
    """Codings with their row (via the document) and column (via the code); a coding may land in
    several cells when its document or code maps to several."""
    # rows and columns as categoricals: set up on the small maps, they make the 100k-row merges
    # and group-bys work on integer codes instead of hashing strings
    rows = row_groups.rename(columns={"group": "row"})
    rows = rows.assign(row=pd.Categorical(rows["row"]))
    col_map = col_map.assign(column=pd.Categorical(col_map["column"]))
    frame = codings.merge(rows, on="document_id")
    return frame.merge(col_map, on="code_id")


def _quote_cells(who: pd.DataFrame, names: list[str]) -> pd.Series:
    """(row, column) → the cell's lines, '“text” (B12, C15)', one per distinct passage text.
    `who`: row and column (categoricals), text, and rank (position of the respondent in
    `names`), already in respondent order. Passages with one respondent come first, then shared
    ones, each in order of first appearance. Texts and respondents are reduced to integer codes
    first, so the de-duplication of 100k passages runs in pandas' C code, not in Python."""
    if who.empty:
        return pd.Series(dtype=object)
    ncol = len(who["column"].cat.categories)
    text_codes, texts = pd.factorize(who["text"])
    keys = pd.DataFrame(
        {
            "cell": who["row"].cat.codes.to_numpy(np.int64) * ncol
            + who["column"].cat.codes.to_numpy(np.int64),
            "text": text_codes,
            "who": who["rank"].to_numpy(np.int64),
        }
    )
    keys = keys[~keys.duplicated()]
    passage = keys.groupby(["cell", "text"], sort=False).ngroup().to_numpy()  # first-seen order
    shared = np.bincount(passage)[passage] > 1
    texts = np.asarray(texts, dtype=object)
    names_arr = np.asarray(names, dtype=object)
    # the passages in first-seen order: singles first, then shared ones, per cell
    per_cell: dict[int, list[str]] = {}
    one = keys[~shared]
    for cell, text, rank in zip(
        one["cell"].tolist(),
        texts[one["text"].to_numpy()].tolist(),
        names_arr[one["who"].to_numpy()].tolist(),
        strict=True,
    ):
        lines = per_cell.get(cell)
        if lines is None:
            lines = per_cell[cell] = []
        lines.append(f"“{text}” ({rank})")
    several: dict[int, tuple[int, str, list[str]]] = {}
    many = keys[shared]
    for pid, cell, text, rank in zip(
        passage[shared].tolist(),
        many["cell"].tolist(),
        texts[many["text"].to_numpy()].tolist(),
        names_arr[many["who"].to_numpy()].tolist(),
        strict=True,
    ):
        entry = several.get(pid)
        if entry is None:
            several[pid] = (cell, text, [rank])
        else:
            entry[2].append(rank)
    for cell, text, who_names in several.values():  # dicts keep first-seen order
        per_cell.setdefault(cell, []).append(f"“{text}” ({', '.join(who_names)})")
    row_names = who["row"].cat.categories
    col_names = who["column"].cat.categories
    index = pd.MultiIndex.from_tuples(
        [(row_names[c // ncol], col_names[c % ncol]) for c in per_cell], names=["row", "column"]
    )
    return pd.Series(["\n".join(v) for v in per_cell.values()], index=index, dtype=object)


def build_matrix(
    cells: pd.DataFrame,
    rows: list[str],
    columns: list[str],
    cell: str,
    respondents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`cells` from placed(); `respondents` (document_id → group) for respondent and quote
    cells. Returns rows × columns, every row and column present."""
    if cell not in CELLS or cell == "summary":
        raise InvalidInput(f"unknown matrix cell '{cell}'", hint=f"use {', '.join(CELLS)}")
    keys = ["row", "column"]
    if cell == "count":
        values = cells.groupby(keys, observed=True).size()
        fill: object = 0
    elif cell == "respondents":
        codes = respondents.assign(who=pd.factorize(respondents["group"])[0])
        who = cells[[*keys, "document_id"]].merge(codes[["document_id", "who"]], on="document_id")
        values = who.groupby(keys, observed=True)["who"].nunique()
        fill = 0
    elif cell == "valence":
        counts = (
            cells.dropna(subset=["valence"])
            .groupby([*keys, "valence"], observed=True)
            .size()
            .unstack("valence")
            .reindex(columns=[v for v, _ in VALENCE_SIGNS], fill_value=0)
            .fillna(0)
            .astype(int)
        )
        values = pd.Series(
            [valence_text(*r) for r in counts.itertuples(index=False)],
            index=counts.index,
            dtype=object,
        )
        fill = ""
    else:  # quotes, attributed to respondents
        who = cells.merge(
            respondents.rename(columns={"group": "who"}), on="document_id", how="left"
        )
        who["who"] = who["who"].fillna(who["document"]).astype(str)
        names = natural_sorted(who["who"].unique())
        who["rank"] = who["who"].map({w: n for n, w in enumerate(names)})
        who = who.iloc[np.argsort(who["rank"].to_numpy(), kind="stable")]
        values = _quote_cells(who, names)
        fill = ""
    table = values.unstack("column") if len(values) else pd.DataFrame()
    table = table.reindex(index=rows, columns=columns)
    table.index, table.columns = pd.Index(rows), pd.Index(columns)  # plain, not categorical
    if fill == "":
        table = table.astype(object)
    table = table.fillna(fill)
    if fill == 0:
        table = table.astype(int)
    table.index.name = None
    table.columns.name = None
    return table


def summary_matrix(
    summaries: pd.DataFrame, rows: list[str], columns: list[str], labels: dict[int, str]
) -> pd.DataFrame:
    """Stored summaries (case, code_id, text, stale) as a rows × columns grid."""
    table = pd.DataFrame("", index=rows, columns=columns, dtype=object)
    for case, code_id, text, stale in zip(
        summaries["case"], summaries["code_id"], summaries["text"], summaries["stale"], strict=True
    ):
        column = labels.get(int(code_id))
        if case in table.index and column in table.columns:
            table.loc[case, column] = (STALE_MARK if stale else "") + text
    return table


def summary_evidence(
    pairs: list[tuple[int, int]],
    codes: pd.DataFrame,
    chains: dict[int, list[int]],
    links: pd.DataFrame,
    codings: pd.DataFrame,
) -> dict[tuple[int, int], pd.DataFrame]:
    """{(case_id, code_id): codings frame}: what a summary rests on, the codings of the code or
    below in documents of the case or below. `chains`: each case's ids up to its root; `links`:
    document_id, case_id."""
    codings = codings.merge(links, on="document_id")
    out = {}
    for case_id, code_id in pairs:
        under = {c for c, ch in chains.items() if case_id in ch}
        sub = codings[
            codings["case_id"].isin(under) & codings["code_id"].isin(descendants(codes, code_id))
        ]
        out[(case_id, code_id)] = sub.drop_duplicates("id").sort_values("id")
    return out


def evidence_fingerprint(codings: pd.DataFrame) -> str:
    """A hash of what a summary rests on: its codings' ids, ranges, codes and valence."""
    parts = sorted(
        f"{i}:{s}:{e}:{c}:{v if isinstance(v, str) else ''}:{'' if pd.isna(g) else int(g)}"
        for i, s, e, c, v, g in zip(
            codings["id"],
            codings["start"],
            codings["end"],
            codings["code_id"],
            codings["valence"],
            codings["strength"],
            strict=True,
        )
    )
    return hashlib.sha256(";".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class MatrixSummary:
    id: int
    case: str
    code: str
    code_path: str
    text: str
    author: str | None
    codings: tuple[int, ...]  # the codings it summarises
    stale: bool  # those codings changed (added, edited, removed) since it was written


SUMMARY_COLUMNS = [
    "id",
    "case",
    "code",
    "code_id",
    "code_path",
    "text",
    "author",
    "codings",
    "stale",
    "updated_at",
]


def summaries_frame(
    rows: list, linked: dict[int, list[int]], codes: pd.DataFrame, evidence: dict
) -> pd.DataFrame:
    """The stored summaries (rows with id, case, case_id, code_id, text, author, fingerprint,
    updated_at) as a frame; `stale` where the codings they rest on changed since."""
    names = codes.set_index("id")
    records = [
        {
            "id": r.id,
            "case": r.case,
            "code": names.at[r.code_id, "name"],
            "code_id": r.code_id,
            "code_path": names.at[r.code_id, "path"],
            "text": r.text,
            "author": r.author,
            "codings": len(linked.get(r.id, [])),
            "stale": evidence_fingerprint(evidence[(r.case_id, r.code_id)])
            != r.evidence_fingerprint,
            "updated_at": r.updated_at,
        }
        for r in rows
    ]
    return pd.DataFrame.from_records(records, columns=SUMMARY_COLUMNS)
