"""Reads for the analyses: codes, case groups and codings as DataFrames, framework components,
meaning units, matrix summaries and the counts the report's methods text quotes.

Every analysis reads the codings it needs with one query and works on them with pandas; the
small tables (codes, cases) are walked in Python because they hold hundreds of rows, not 100k.
pandas and numpy are imported inside the functions (the CLI's start-up stays light).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Integer, Row, case, delete, func, select, type_coerce
from sqlalchemy.exc import DBAPIError

from caseframe.errors import NotFound
from caseframe.model import Valence
from caseframe.store import schema as t
from caseframe.store.lookup import coder_row
from caseframe.util.natural import natural_sorted

if TYPE_CHECKING:
    import pandas as pd

DOCUMENT = "document"
VALENCE_ORDER = tuple(v.value for v in Valence)
CODING_COLUMNS = ("id", "document_id", "start", "end", "code_id", "valence", "strength")
CODE_COLUMNS = [
    "id",
    "name",
    "parent_id",
    "kind",
    "component_id",
    "description",
    "path",
    "depth",
    "ancestors",
]


# -- reading fast ------------------------------------------------------------------------------


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
    import numpy as np
    import pandas as pd

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
    import numpy as np
    import pandas as pd

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


# -- codes -------------------------------------------------------------------------------------


def codes_table(conn: Connection) -> pd.DataFrame:
    """Codes in tree order with path, depth and ancestors (ids, self first)."""
    import pandas as pd

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
    # iterative depth-first walk in tree order; a damaged tree (a loop) is cut, never followed
    stack: list[tuple[Any, tuple[int, ...], tuple[str, ...]]] = [
        (r, (), ()) for r in reversed(children.get(None, []))
    ]
    while stack:
        r, chain, names = stack.pop()
        if r.id in chain:
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
        stack.extend((child, ids, path) for child in reversed(children.get(r.id, [])))
    return pd.DataFrame.from_records(records, columns=CODE_COLUMNS)


def code_mappings(conn: Connection) -> pd.DataFrame:
    """Inductive codes mapped to framework components (code_id, component_id, ...)."""
    return frame_of(conn, select(t.code_mappings))


# -- frameworks --------------------------------------------------------------------------------


def framework_keys(conn: Connection) -> list[str]:
    return list(conn.scalars(select(t.frameworks.c.key).order_by(t.frameworks.c.id)))


def components(conn: Connection, framework_id: int, details: bool = False) -> pd.DataFrame:
    """A framework's components in file order: id, key (and name, level with `details`)."""
    c = t.framework_components.c
    columns = [c.id, c.key, *((c.name, c.level) if details else ())]
    return frame_of(
        conn,
        select(*columns).where(c.framework_id == framework_id).order_by(c.position, c.id),
    )


# -- cases and groups --------------------------------------------------------------------------


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
    import pandas as pd

    # parents as plain ints or None once, up front: pd.isna on every step of every walk cost
    # more than the walks themselves (a thousand cases)
    parent: dict[int, int | None] = {}
    for cid, pid in zip(cases["id"].tolist(), cases["parent_id"].tolist(), strict=True):
        parent[int(cid)] = None if pid is None or pd.isna(pid) else int(pid)
    out: dict[int, list[int]] = {}
    for cid in parent:
        chain, seen, cur = [], set(), cid
        while cur is not None and cur not in seen:
            seen.add(cur)
            chain.append(cur)
            cur = parent.get(cur)
        out[cid] = chain
    return out


def case_keys(conn: Connection, kind: str) -> list[str]:
    """The keys of the cases of one kind, in natural order."""
    return natural_sorted(conn.scalars(select(t.cases.c.key).where(t.cases.c.kind == kind)))


def grouping_names(conn: Connection) -> tuple[set[str], set[str]]:
    """(case kinds, attribute names): what rows and groupings can be."""
    kinds = set(conn.scalars(select(t.cases.c.kind).distinct()))
    return kinds, set(conn.scalars(select(t.attributes.c.name)))


def check_grouping(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> str:
    """'kind' or 'attribute' for a grouping name, or NotFound listing what exists."""
    if by == DOCUMENT:
        return DOCUMENT
    kinds, names = grouping_names(conn)
    if by in kinds:
        return "kind"
    if by in names:
        return "attribute"
    if by in allow_missing:
        return "kind"
    from caseframe.util.names import closest

    near = closest(by, [*kinds, *names, DOCUMENT])
    guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
    raise NotFound(
        f"unknown case kind or attribute '{by}'",
        hint=f"{guess}case kinds: {', '.join(natural_sorted(kinds)) or 'none'}; "
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


def document_cases(conn: Connection) -> pd.DataFrame:
    """document_id, case_id: which documents belong to which cases."""
    return frame_of(conn, select(t.document_cases.c.document_id, t.document_cases.c.case_id))


def document_groups(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> pd.DataFrame:
    """document_id → group (a document linked to several cases may have several rows)."""
    if check_grouping(conn, by, allow_missing) == DOCUMENT:
        return frame_of(
            conn, select(t.documents.c.id.label("document_id"), t.documents.c.name.label("group"))
        )
    groups = case_groups(conn, by, allow_missing)
    links = document_cases(conn)
    links["group"] = links["case_id"].map(groups)
    return links.dropna(subset=["group"])[["document_id", "group"]].drop_duplicates()


def group_members(conn: Connection, by: str, allow_missing: Sequence[str] = ()) -> list[str]:
    """Every group value a grouping can take, in natural order (empty groups included)."""
    mode = check_grouping(conn, by, allow_missing)
    if mode == DOCUMENT:
        return natural_sorted(conn.scalars(select(t.documents.c.name)))
    if mode == "kind":
        return case_keys(conn, by)
    return natural_sorted(set(case_groups(conn, by).values()))


# -- codings -----------------------------------------------------------------------------------


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
    import numpy as np
    import pandas as pd

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


# -- meaning units -----------------------------------------------------------------------------


def main_scheme(conn: Connection) -> str | None:
    """The meaning-unit scheme with the most units."""
    row = conn.execute(
        select(t.meaning_units.c.scheme, func.count().label("n"))
        .group_by(t.meaning_units.c.scheme)
        .order_by(func.count().desc())
    ).first()
    return row.scheme if row else None


def meaning_units(conn: Connection, scheme: str) -> pd.DataFrame:
    mu = t.meaning_units.c
    return int_frame(
        conn, select(mu.id, mu.document_id, mu.start, mu.end).where(mu.scheme == scheme)
    )


# -- matrix summaries --------------------------------------------------------------------------


def summary_rows(conn: Connection) -> list[Row]:
    """Every matrix summary with its row case's key (`case`), oldest first."""
    return conn.execute(
        select(t.matrix_summaries, t.cases.c.key.label("case"))
        .join(t.cases, t.cases.c.id == t.matrix_summaries.c.case_id)
        .order_by(t.matrix_summaries.c.id)
    ).all()


def summary_links(conn: Connection) -> dict[int, list[int]]:
    """{summary id: the coding ids it was written from}."""
    linked: dict[int, list[int]] = {}
    for sid, cid in conn.execute(select(t.matrix_summary_codings)):
        linked.setdefault(sid, []).append(cid)
    return linked


def summary_of(conn: Connection, case_id: int, code_id: int) -> Row | None:
    s = t.matrix_summaries.c
    return conn.execute(
        select(t.matrix_summaries).where(s.case_id == case_id, s.code_id == code_id)
    ).first()


def save_summary(
    conn: Connection,
    case_id: int,
    code_id: int,
    values: dict[str, Any],
    coding_ids: Sequence[int],
    stamp: datetime,
) -> int:
    """Insert or update the summary of one cell and relink it to `coding_ids`; its id."""
    existing = summary_of(conn, case_id, code_id)
    if existing:
        summary_id = existing.id
        conn.execute(
            t.matrix_summaries.update()
            .where(t.matrix_summaries.c.id == summary_id)
            .values(**values, updated_at=stamp)
        )
        conn.execute(
            delete(t.matrix_summary_codings).where(
                t.matrix_summary_codings.c.summary_id == summary_id
            )
        )
    else:
        summary_id = conn.execute(
            t.matrix_summaries.insert().values(
                case_id=case_id, code_id=code_id, created_at=stamp, updated_at=stamp, **values
            )
        ).inserted_primary_key[0]
    if coding_ids:
        conn.execute(
            t.matrix_summary_codings.insert(),
            [{"summary_id": summary_id, "coding_id": int(i)} for i in coding_ids],
        )
    return summary_id


# -- figures for the report's methods text -----------------------------------------------------


def case_kind_counts(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(select(t.cases.c.kind, func.count()).group_by(t.cases.c.kind)).all())


def document_totals(conn: Connection) -> tuple[int, int]:
    """(documents, words)."""
    n, words = conn.execute(
        select(func.count(), func.coalesce(func.sum(t.documents.c.word_count), 0))
    ).one()
    return int(n), int(words)


def human_coding_counts(conn: Connection) -> list[tuple[str, int]]:
    """(coder name, codings) for every human coder with codings, by name."""
    rows = conn.execute(
        select(t.coders.c.name, func.count(t.codings.c.id))
        .join(t.codings, t.codings.c.coder_id == t.coders.c.id)
        .where(t.coders.c.kind == "human")
        .group_by(t.coders.c.name)
        .order_by(t.coders.c.name)
    ).all()
    return [(name, int(n)) for name, n in rows]
