"""Set-based loading shared by the analyses: codes, case groups and codings as DataFrames.

Every analysis reads the codings it needs with one query and works on them with pandas; the
small tables (codes, cases) are walked in Python because they hold hundreds of rows, not 100k.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, case, func, select, type_coerce
from sqlalchemy.exc import DBAPIError

from caseframe.errors import NotFound
from caseframe.model import Valence
from caseframe.store import schema as t
from caseframe.store.lookup import coder_row

DOCUMENT = "document"


@lru_cache(maxsize=65536)
def _natural_key(text: str) -> tuple:
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in parts if p)


def natural_key(value: object) -> tuple:
    """Sort key that puts A2 before A10 (digits compare as numbers)."""
    return _natural_key(str(value))


def natural_sorted(values: Iterable) -> list:
    return sorted(values, key=natural_key)


def frame_of(conn: Connection, query) -> pd.DataFrame:
    """A query's rows as a DataFrame. Large reads go through the DB-API cursor: SQLAlchemy's
    Row objects cost more than the query itself at 100k rows. The values are our own ids and
    keywords, rendered as SQL literals by SQLAlchemy."""
    try:
        sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # noqa: BLE001 - a value with no literal form: take the ordinary path
        result = conn.execute(query)
        names, rows = list(result.keys()), [tuple(r) for r in result.fetchall()]
        return _columns_frame(names, rows)
    # 100k fresh tuples hold no reference cycles: pausing the cyclic collector while they are
    # made and taken apart saves the repeated full-heap walks it would otherwise do
    paused = gc.isenabled()
    gc.disable()
    try:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
            names = [d[0] for d in cursor.description]
        finally:
            cursor.close()
        return _columns_frame(names, rows)
    finally:
        if paused:
            gc.enable()


def _columns_frame(names: list[str], rows: list[tuple]) -> pd.DataFrame:
    """Rows → DataFrame column by column: a column of plain ints goes straight into an int64
    array; anything else (text, NULLs, floats) gets pandas' usual inference, as from_records
    would give it, at a fraction of from_records' cost on 100k rows."""
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    data: dict[str, object] = {}
    for name, column in zip(names, zip(*rows, strict=True), strict=True):
        values = None
        if type(column[0]) is int:
            # no dtype given: numpy says int64 only when every value is an int
            values = np.array(column)
            if values.dtype.kind != "i":
                values = None
        data[name] = values if values is not None else pd.Series(column, dtype=None)
    return pd.DataFrame(data, columns=names)


def int_frame(conn: Connection, query) -> pd.DataFrame:
    """Like frame_of, for a query whose columns are all integers (ids, offsets): on SQLite each
    column comes back as one comma-joined text that numpy parses in C. Building 100k Python row
    tuples costs several times the scan itself; this way it is one string per column. The
    columns are read in one aggregate pass, so they stay aligned row by row. NULL travels as -1
    (ids and offsets are never negative) and comes back as NaN."""
    columns = list(query.selected_columns)
    if conn.dialect.name != "sqlite" or not all(isinstance(c.type, Integer) for c in columns):
        return frame_of(conn, query)
    inner = query.subquery()
    names = list(inner.c.keys())
    packed = select(*(func.group_concat(func.coalesce(col, -1)) for col in inner.c))
    try:
        row = conn.execute(packed).one()
    except DBAPIError:  # e.g. a text over SQLite's length limit: take the ordinary path
        return frame_of(conn, query)
    if row[0] is None:  # no rows
        return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    data: dict[str, np.ndarray] = {}
    for name, text in zip(names, row, strict=True):
        values = np.fromstring(text, sep=",", dtype=np.int64)
        missing = values == -1
        data[name] = np.where(missing, np.nan, values) if missing.any() else values
    if len({len(v) for v in data.values()}) != 1:  # cannot happen: one pass, one row each
        return frame_of(conn, query)
    return pd.DataFrame(data, columns=names)


# -- codes ---------------------------------------------------------------------------------------


def codes_table(conn: Connection) -> pd.DataFrame:
    """Codes in tree order with path, depth and ancestors (ids, self first)."""
    rows = conn.execute(
        select(
            t.codes.c.id,
            t.codes.c.name,
            t.codes.c.parent_id,
            t.codes.c.kind,
            t.codes.c.component_id,
            t.codes.c.description,
        ).order_by(t.codes.c.position, t.codes.c.id)
    ).all()
    children: dict[int | None, list] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r)
    records: list[dict] = []

    def walk(parent_id: int | None, chain: tuple[int, ...], names: tuple[str, ...]) -> None:
        for r in children.get(parent_id, []):
            if r.id in chain:  # a damaged tree must not loop forever
                continue
            ids, path = (r.id, *chain), (*names, r.name)
            records.append(
                {
                    "id": r.id,
                    "name": r.name,
                    "parent_id": r.parent_id,
                    "kind": r.kind,
                    "component_id": r.component_id,
                    "description": r.description,
                    "path": "/".join(path),
                    "depth": len(path) - 1,
                    "ancestors": ids,
                }
            )
            walk(r.id, ids, path)

    walk(None, (), ())
    return pd.DataFrame.from_records(
        records,
        columns=[
            "id",
            "name",
            "parent_id",
            "kind",
            "component_id",
            "description",
            "path",
            "depth",
            "ancestors",
        ],
    )


def descendants(codes: pd.DataFrame, code_id: int, exact: bool = False) -> list[int]:
    if exact:
        return [code_id]
    return [
        int(i) for i, anc in zip(codes["id"], codes["ancestors"], strict=True) if code_id in anc
    ]


# -- cases and groups ----------------------------------------------------------------------------


def case_tree(conn: Connection) -> tuple[pd.DataFrame, dict[str, dict[int, str]]]:
    """Cases (id, key, kind, parent_id) and their own attribute values {name: {case_id: value}}."""
    cases = frame_of(conn, select(t.cases.c.id, t.cases.c.key, t.cases.c.kind, t.cases.c.parent_id))
    attrs: dict[str, dict[int, str]] = {}
    query = select(
        t.case_attributes.c.case_id, t.attributes.c.name, t.case_attributes.c.value
    ).join(t.attributes, t.attributes.c.id == t.case_attributes.c.attribute_id)
    for case_id, name, value in conn.execute(query):
        attrs.setdefault(name, {})[case_id] = value
    return cases, attrs


def chains(cases: pd.DataFrame) -> dict[int, list[int]]:
    """Each case's ids from itself up to its root."""
    parent = dict(zip(cases["id"], cases["parent_id"], strict=True))
    out: dict[int, list[int]] = {}
    for cid in parent:
        chain, seen, cur = [], set(), cid
        while cur is not None and not pd.isna(cur) and cur not in seen:
            seen.add(cur)
            chain.append(int(cur))
            cur = parent.get(cur)
        out[int(cid)] = chain
    return out


def check_grouping(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> str:
    """'kind' or 'attribute' for a grouping name, or NotFound listing what exists."""
    if by == DOCUMENT:
        return DOCUMENT
    kinds = set(conn.scalars(select(t.cases.c.kind).distinct()))
    if by in kinds:
        return "kind"
    names = set(conn.scalars(select(t.attributes.c.name)))
    if by in names:
        return "attribute"
    if by in allow_missing:
        return "kind"
    raise NotFound(
        f"unknown case kind or attribute '{by}'",
        hint=f"case kinds: {', '.join(natural_sorted(kinds)) or 'none'}; "
        f"attributes: {', '.join(natural_sorted(names)) or 'none'}; or 'document'",
    )


def case_groups(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> dict[int, str]:
    """{case_id: group value}: the case itself or its nearest ancestor of kind `by`, or the
    (inherited) value of attribute `by`. Cases without one are left out."""
    mode = check_grouping(conn, by, allow_missing)
    cases, attrs = case_tree(conn)
    keys = dict(zip(cases["id"], cases["key"], strict=True))
    kinds = dict(zip(cases["id"], cases["kind"], strict=True))
    values = attrs.get(by, {})
    out: dict[int, str] = {}
    for cid, chain in chains(cases).items():
        for node in chain:
            if mode == "kind" and kinds[node] == by:
                out[cid] = keys[node]
                break
            if mode == "attribute" and node in values:
                out[cid] = values[node]
                break
    return out


def document_groups(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> pd.DataFrame:
    """document_id → group (a document linked to several cases may have several rows)."""
    if check_grouping(conn, by, allow_missing) == DOCUMENT:
        return frame_of(
            conn, select(t.documents.c.id.label("document_id"), t.documents.c.name.label("group"))
        )
    groups = case_groups(conn, by, allow_missing)
    links = frame_of(conn, select(t.document_cases.c.document_id, t.document_cases.c.case_id))
    links["group"] = links["case_id"].map(groups)
    return links.dropna(subset=["group"])[["document_id", "group"]].drop_duplicates()


def group_members(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> list[str]:
    """Every group value a grouping can take, in natural order (empty groups included)."""
    mode = check_grouping(conn, by, allow_missing)
    if mode == DOCUMENT:
        return natural_sorted(conn.scalars(select(t.documents.c.name)))
    if mode == "kind":
        return natural_sorted(conn.scalars(select(t.cases.c.key).where(t.cases.c.kind == by)))
    return natural_sorted(set(case_groups(conn, by).values()))


# -- codings -------------------------------------------------------------------------------------


VALENCE_ORDER = tuple(v.value for v in Valence)
CODING_COLUMNS = ("id", "document_id", "start", "end", "code_id", "valence", "strength")


def codings_query(
    conn: Connection,
    code_ids: Sequence[int] | None = None,
    coder: str | None = None,
    include_machine: bool = False,
    columns: Sequence[str] = CODING_COLUMNS,
):
    """One SELECT over codings, filtered only as far as needed: with human codings only and no
    machine coder in the project, SQLite can answer from the covering unique index."""
    c = t.codings.c
    query = select(*(c[name] for name in columns), c.coder_id)
    coders = dict(conn.execute(select(t.coders.c.id, t.coders.c.kind)).all())
    machine_possible = include_machine
    if code_ids is not None:
        query = query.where(c.code_id.in_(list(code_ids)))
    if coder:
        row = coder_row(conn, coder)
        query = query.where(c.coder_id == row.id)
        machine_possible = row.kind != "human"
    elif not include_machine and any(kind != "human" for kind in coders.values()):
        query = query.where(c.coder_id.in_([i for i, k in coders.items() if k == "human"]))
    if machine_possible:  # human codings are always final
        query = query.where(c.status != "rejected")
    return query


def load_codings(
    conn: Connection,
    code_ids: Sequence[int] | None = None,
    coder: str | None = None,
    include_machine: bool = False,
    with_text: bool = False,
    columns: Sequence[str] = CODING_COLUMNS,
) -> pd.DataFrame:
    """Codings with their coder's name and, `with_text`, document name and quoted text. A code
    filter covering most codes is applied here, not in SQL, where it would trade a sequential
    scan for one index lookup per coding."""
    total = conn.scalar(select(func.count()).select_from(t.codes)) or 0
    in_sql = code_ids is not None and len(set(code_ids)) <= total / 2
    # valence travels as its position in VALENCE_ORDER (1-based), so the whole read stays
    # integer and takes the fast path of int_frame; it is turned back into text below
    plain = [c for c in columns if c != "valence"]
    query = codings_query(conn, code_ids if in_sql else None, coder, include_machine, plain)
    if "valence" in columns:
        valence = t.codings.c.valence
        coded = case(*((valence == v, n) for n, v in enumerate(VALENCE_ORDER, start=1)), else_=None)
        query = query.add_columns(type_coerce(coded, Integer).label("valence"))
    frame = int_frame(conn, query)
    if "valence" in columns:
        words = np.array([None, *VALENCE_ORDER], dtype=object)
        codes = frame["valence"].fillna(0).to_numpy().astype(np.int64)
        frame["valence"] = pd.Series(words[codes], index=frame.index, dtype="str")
        frame = frame[[*columns, "coder_id"]]
    if code_ids is not None and not in_sql:
        frame = frame[frame["code_id"].isin(list(code_ids))].reset_index(drop=True)
    names = dict(conn.execute(select(t.coders.c.id, t.coders.c.name)).all())
    frame["coder"] = frame["coder_id"].map(names)
    if with_text:
        attach_text(conn, frame)
    return frame


def attach_text(conn: Connection, frame: pd.DataFrame) -> None:
    """Add `document` and `text` (the coded passage). Each document's text is read once and
    sliced here: slicing in SQL would read the whole text again for every coding."""
    ids = sorted({int(i) for i in frame["document_id"]})
    texts: dict[int, str] = {}
    doc_names: dict[int, str] = {}
    for at in range(0, len(ids), 500):
        chunk = ids[at : at + 500]
        for doc_id, name, text in conn.execute(
            select(t.documents.c.id, t.documents.c.name, t.documents.c.text).where(
                t.documents.c.id.in_(chunk)
            )
        ):
            texts[doc_id], doc_names[doc_id] = text, name
    frame["document"] = frame["document_id"].map(doc_names)
    frame["text"] = [
        texts[d][s:e]
        for d, s, e in zip(frame["document_id"], frame["start"], frame["end"], strict=True)
    ]
