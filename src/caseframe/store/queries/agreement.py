"""Agreement inputs and the consensus coder's writes: coders and their roles, who coded which
document, the code tree, meaning units, codings, and consensus decisions.

Plain rows and dicts only; the matrix, the span arithmetic and the statistics are built from
them in caseframe.analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, and_, case, delete, func, select, type_coerce

from caseframe.store import schema as t
from caseframe.store.core import new_guid, now

CONSENSUS_KEY = "agreement.consensus"  # settings: {coder name: {from, rule, schemes, pending}}
ROLES = ("independent", "reference", "consensus")
_IN_LIMIT = 500  # longer lists are filtered in Python (bound parameters are limited)


# --------------------------------------------------------------------------- consensus registry


def registry(conn: Connection) -> dict[str, dict[str, Any]]:
    value = conn.scalar(select(t.settings.c.value).where(t.settings.c.key == CONSENSUS_KEY))
    return dict(value or {})


def save_registry(conn: Connection, value: dict[str, Any]) -> None:
    conn.execute(delete(t.settings).where(t.settings.c.key == CONSENSUS_KEY))
    conn.execute(t.settings.insert().values(key=CONSENSUS_KEY, value=value))


# --------------------------------------------------------------------------- coders and roles


def coders_with_work(conn: Connection, kind: str | None = "human") -> list[dict[str, Any]]:
    """Coders with codings or documents marked, by name: id, name, kind, role, codings."""
    active = select(t.codings.c.coder_id).union(select(t.coder_documents.c.coder_id))
    counts = (
        select(t.codings.c.coder_id, func.count().label("n"))
        .group_by(t.codings.c.coder_id)
        .subquery()
    )
    query = (
        select(t.coders.c.id, t.coders.c.name, t.coders.c.kind, t.coder_roles.c.role, counts.c.n)
        .outerjoin(t.coder_roles, t.coder_roles.c.coder_id == t.coders.c.id)
        .outerjoin(counts, counts.c.coder_id == t.coders.c.id)
        .where(t.coders.c.id.in_(active))
        .order_by(t.coders.c.name)
    )
    if kind is not None:
        query = query.where(t.coders.c.kind == kind)
    return [
        {"id": r.id, "name": r.name, "kind": r.kind, "role": r.role or "independent",
         "codings": int(r.n or 0)}
        for r in conn.execute(query)
    ]  # fmt: skip


def role_of(conn: Connection, coder_id: int) -> str:
    role = conn.scalar(select(t.coder_roles.c.role).where(t.coder_roles.c.coder_id == coder_id))
    return role or "independent"


def set_role(conn: Connection, coder_id: int, role: str) -> None:
    conn.execute(delete(t.coder_roles).where(t.coder_roles.c.coder_id == coder_id))
    if role != "independent":
        conn.execute(t.coder_roles.insert().values(coder_id=coder_id, role=role))


def coder_by_name(conn: Connection, name: str) -> Any:
    return conn.execute(select(t.coders).where(t.coders.c.name == name)).first()


def create_coder(conn: Connection, name: str, kind: str = "human") -> int:
    return conn.execute(
        t.coders.insert().values(name=name, kind=kind, guid=new_guid(), created_at=now())
    ).inserted_primary_key[0]


# --------------------------------------------------------------------------- what was coded


def seen_documents(
    conn: Connection, coder_ids: list[int], doc_ids: list[int] | None
) -> dict[int, list[bool]]:
    """document id -> [seen by coder k]: marked done, or coded in; only documents someone saw."""
    done = select(t.coder_documents.c.coder_id, t.coder_documents.c.document_id).where(
        t.coder_documents.c.coder_id.in_(coder_ids), t.coder_documents.c.status == "done"
    )
    coded = (
        select(t.codings.c.coder_id, t.codings.c.document_id)
        .where(t.codings.c.coder_id.in_(coder_ids))
        .distinct()
    )
    pos = {c: i for i, c in enumerate(coder_ids)}
    wanted = None if doc_ids is None else set(doc_ids)
    seen: dict[int, list[bool]] = {}
    for coder_id, doc_id in conn.execute(done.union(coded)):
        if wanted is not None and doc_id not in wanted:
            continue
        seen.setdefault(doc_id, [False] * len(coder_ids))[pos[coder_id]] = True
    return dict(sorted(seen.items()))


def code_rows(conn: Connection) -> list[tuple[int, str, int | None, int]]:
    """(id, name, parent_id, position) of every code."""
    return [
        tuple(r)
        for r in conn.execute(
            select(t.codes.c.id, t.codes.c.name, t.codes.c.parent_id, t.codes.c.position)
        )
    ]


def code_descriptions(conn: Connection, code_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(code_ids))
    if not ids:
        return {}
    query = select(t.codes.c.id, t.codes.c.description).where(t.codes.c.id.in_(ids))
    return {r[0]: r[1] for r in conn.execute(query)}


def used_code_ids(conn: Connection, coder_ids: list[int]) -> list[int]:
    return list(
        conn.scalars(
            select(t.codings.c.code_id).where(t.codings.c.coder_id.in_(coder_ids)).distinct()
        )
    )


def coding_spans(
    conn: Connection,
    coder_ids: list[int],
    code_ids: set[int] | None = None,
    doc_ids: Sequence[int] | None = None,
) -> list[tuple[int, int, int, int, int]]:
    """(coder_id, code_id, document_id, start, end) of the coders' codings."""
    c = t.codings.c
    query = select(c.coder_id, c.code_id, c.document_id, c.start, c.end).where(
        c.coder_id.in_(coder_ids)
    )
    if code_ids is not None and len(code_ids) <= _IN_LIMIT:
        query = query.where(c.code_id.in_(code_ids))
    if doc_ids is not None and len(doc_ids) <= _IN_LIMIT:
        query = query.where(c.document_id.in_(list(doc_ids)))
    rows = [tuple(r) for r in conn.execute(query)]  # tuples: numpy probes Row objects slowly
    if code_ids is not None and len(code_ids) > _IN_LIMIT:
        rows = [r for r in rows if r[1] in code_ids]
    if doc_ids is not None and len(doc_ids) > _IN_LIMIT:
        wanted = set(doc_ids)
        rows = [r for r in rows if r[2] in wanted]
    return rows


def coding_span_array(
    conn: Connection,
    coder_ids: list[int],
    code_ids: set[int] | None = None,
    doc_ids: Sequence[int] | None = None,
) -> Any:
    """coding_spans as an n x 5 int64 array, read column-packed (int_frame): 100k Row objects
    cost many times the scan itself. A code filter covering most codes is applied here, not in
    SQL, where it would trade one scan of the covering index for a lookup per coding."""
    import numpy as np

    from caseframe.store.queries.analysis import int_frame

    c = t.codings.c
    query = select(c.coder_id, c.code_id, c.document_id, c.start, c.end).where(
        c.coder_id.in_(coder_ids)
    )
    total = conn.scalar(select(func.count()).select_from(t.codes)) or 0
    code_in_sql = code_ids is not None and len(code_ids) <= min(_IN_LIMIT, total / 2)
    if code_in_sql:
        query = query.where(c.code_id.in_(list(code_ids)))
    if doc_ids is not None and len(doc_ids) <= _IN_LIMIT:
        query = query.where(c.document_id.in_(list(doc_ids)))
    frame = int_frame(conn, query)
    raw = frame.to_numpy(dtype=np.int64).reshape(-1, 5)
    if code_ids is not None and not code_in_sql:
        raw = raw[np.isin(raw[:, 1], list(code_ids))]
    if doc_ids is not None and len(doc_ids) > _IN_LIMIT:
        raw = raw[np.isin(raw[:, 2], list(doc_ids))]
    return raw


def unit_schemes(conn: Connection, schemes: Sequence[str]) -> list[tuple[int, str]]:
    """(document_id, scheme) pairs that have meaning units of the given schemes."""
    mu = t.meaning_units.c
    return [
        tuple(r)
        for r in conn.execute(
            select(mu.document_id, mu.scheme)
            .where(mu.scheme.in_(list(schemes)))
            .group_by(mu.document_id, mu.scheme)
        )
    ]


def units_of(conn: Connection, schemes: Iterable[str]) -> list[tuple]:
    """(id, document_id, scheme, start, end, document name) of the schemes' meaning units,
    by document name and position."""
    mu = t.meaning_units.c
    query = (
        select(mu.id, mu.document_id, mu.scheme, mu.start, mu.end, t.documents.c.name)
        .join(t.documents, t.documents.c.id == mu.document_id)
        .where(mu.scheme.in_(list(set(schemes))))
        .order_by(t.documents.c.name, mu.start, mu.id)
    )
    return [tuple(r) for r in conn.execute(query)]


def units_frame(conn: Connection, schemes: Iterable[str]) -> Any:
    """units_of as a DataFrame (id, document_id, scheme, start, end, document) in the same order
    (document name, start, id). The integer columns are read column-packed; scheme and document
    name are filled in from their few distinct values."""
    import numpy as np
    import pandas as pd

    from caseframe.store.queries.analysis import int_frame

    wanted = sorted(set(schemes))
    mu = t.meaning_units.c
    columns = ["id", "document_id", "scheme", "start", "end", "document"]
    if not wanted:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in columns})
    coded = type_coerce(
        case(*((mu.scheme == s, i) for i, s in enumerate(wanted)), else_=-1), Integer
    ).label("scheme")
    frame = int_frame(
        conn,
        select(mu.id, mu.document_id, coded, mu.start, mu.end).where(mu.scheme.in_(wanted)),
    )
    # documents in the order SQL sorts their names; equal names share a rank, as in units_of
    names = conn.execute(select(t.documents.c.id, t.documents.c.name).order_by(t.documents.c.name))
    rank: dict[int, int] = {}
    name_of: dict[int, str] = {}
    last, r = None, -1
    for doc_id, name in names:
        if name != last:
            r, last = r + 1, name
        rank[doc_id], name_of[doc_id] = r, name
    if frame.empty:
        return pd.DataFrame({n: pd.Series(dtype=object) for n in columns})
    doc = frame["document_id"].to_numpy(dtype=np.int64)
    doc_rank = pd.Series(doc).map(rank).to_numpy(dtype=np.int64)
    order = np.lexsort((frame["id"].to_numpy(), frame["start"].to_numpy(), doc_rank))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["scheme"] = np.array(wanted, dtype=object)[frame["scheme"].to_numpy(dtype=np.int64)]
    frame["document"] = frame["document_id"].map(name_of)
    return frame[columns]


def document_texts(conn: Connection, doc_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(int(d) for d in doc_ids))
    if not ids:
        return {}
    query = select(t.documents.c.id, t.documents.c.text).where(t.documents.c.id.in_(ids))
    return {r[0]: r[1] for r in conn.execute(query)}


def document_names(conn: Connection) -> list[str]:
    """Every document's name, by name."""
    return list(conn.scalars(select(t.documents.c.name).order_by(t.documents.c.name)))


def documents_by_name(conn: Connection, doc_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """(id, name, text) of the documents, by name."""
    d = t.documents.c
    return [
        tuple(r)
        for r in conn.execute(
            select(d.id, d.name, d.text).where(d.id.in_(list(doc_ids))).order_by(d.name)
        )
    ]


def meaning_unit(conn: Connection, unit_id: int) -> Any:
    return conn.execute(select(t.meaning_units).where(t.meaning_units.c.id == unit_id)).first()


def units_with_text(conn: Connection, unit_ids: Iterable[int]) -> dict[int, Any]:
    """unit id -> row (id, start, end, name, text) for the units (with their document)."""
    mu = t.meaning_units.c
    ids = list(set(unit_ids))
    if not ids:
        return {}
    query = (
        select(mu.id, mu.start, mu.end, t.documents.c.name, t.documents.c.text)
        .join(t.documents, t.documents.c.id == mu.document_id)
        .where(mu.id.in_(ids))
    )
    return {r.id: r for r in conn.execute(query)}


# --------------------------------------------------------------------------- consensus writes


def count_codings(conn: Connection, coder_id: int) -> int:
    return int(conn.scalar(select(func.count()).where(t.codings.c.coder_id == coder_id)) or 0)


def delete_coder_work(conn: Connection, coder_id: int) -> None:
    """A consensus coder's codings and decisions, before it is built again."""
    conn.execute(delete(t.consensus_decisions).where(t.consensus_decisions.c.coder_id == coder_id))
    conn.execute(delete(t.codings).where(t.codings.c.coder_id == coder_id))


def insert_unit_codings(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Codings of whole units (document_id, start, end, code_id, coder_id, meaning_unit_id);
    returns their ids in order."""
    if not rows:
        return []
    stamp = now()
    full = [
        {**r, "status": "final", "guid": new_guid(), "created_at": stamp, "updated_at": stamp}
        for r in rows
    ]
    conn.execute(t.codings.insert(), full)
    guids = [r["guid"] for r in full]
    ids: dict[str, int] = {}
    for i in range(0, len(guids), _IN_LIMIT):
        part = guids[i : i + _IN_LIMIT]
        ids.update(
            conn.execute(
                select(t.codings.c.guid, t.codings.c.id).where(t.codings.c.guid.in_(part))
            ).all()
        )
    return [ids[g] for g in guids]


def coding_at(conn: Connection, coder_id: int, document_id: int, start: int, end: int,
              code_id: int) -> int | None:  # fmt: skip
    c = t.codings.c
    return conn.scalar(
        select(c.id).where(
            c.document_id == document_id,
            c.start == start,
            c.end == end,
            c.code_id == code_id,
            c.coder_id == coder_id,
        )
    )


def delete_coding(conn: Connection, coding_id: int) -> None:
    conn.execute(delete(t.codings).where(t.codings.c.id == coding_id))


def set_coder_documents(conn: Connection, coder_id: int, status: dict[int, str]) -> None:
    conn.execute(delete(t.coder_documents).where(t.coder_documents.c.coder_id == coder_id))
    if status:
        conn.execute(
            t.coder_documents.insert(),
            [{"coder_id": coder_id, "document_id": d, "status": s} for d, s in status.items()],
        )


def mark_documents_done(conn: Connection, coder_id: int, doc_ids: Iterable[int]) -> None:
    ids = list(doc_ids)
    if ids:
        conn.execute(
            t.coder_documents.update()
            .where(
                t.coder_documents.c.coder_id == coder_id,
                t.coder_documents.c.document_id.in_(ids),
            )
            .values(status="done")
        )


def decision_at(conn: Connection, coder_id: int, document_id: int, start: int, end: int,
                code_id: int) -> dict[str, Any] | None:  # fmt: skip
    d = t.consensus_decisions.c
    row = conn.execute(
        select(t.consensus_decisions).where(
            and_(
                d.coder_id == coder_id,
                d.document_id == document_id,
                d.start == start,
                d.end == end,
                d.code_id == code_id,
            )
        )
    ).first()
    return None if row is None else dict(row._mapping)


def save_decisions(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert decisions, replacing the current one for the same (coder, unit span, code)."""
    ids = []
    stamp = now()
    d = t.consensus_decisions.c
    for row in rows:
        conn.execute(
            delete(t.consensus_decisions).where(
                d.coder_id == row["coder_id"],
                d.document_id == row["document_id"],
                d.start == row["start"],
                d.end == row["end"],
                d.code_id == row["code_id"],
            )
        )
        values = {"note": "", "coders": {}, "decided_at": stamp, **row}
        ids.append(
            conn.execute(t.consensus_decisions.insert().values(**values)).inserted_primary_key[0]
        )
    return ids


def insert_decisions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Bulk insert of new decisions (a rule-built consensus coder, after its work was cleared)."""
    if rows:
        stamp = now()
        conn.execute(
            t.consensus_decisions.insert(),
            [{"note": "", "coders": {}, "decided_at": stamp, **r} for r in rows],
        )


def decisions(conn: Connection, coder_id: int, *, with_rules: bool = True) -> list[dict[str, Any]]:
    """A consensus coder's decisions with document and code names, in document order."""
    d = t.consensus_decisions.c
    query = (
        select(
            t.consensus_decisions,
            t.documents.c.name.label("document"),
            t.codes.c.name.label("code"),
        )
        .join(t.documents, t.documents.c.id == d.document_id)
        .join(t.codes, t.codes.c.id == d.code_id)
        .where(d.coder_id == coder_id)
        .order_by(t.documents.c.name, d.start, d.end, d.code_id)
    )
    if not with_rules:
        query = query.where(d.action != "rule")
    return [dict(r._mapping) for r in conn.execute(query)]


def decision_for_coding(conn: Connection, coding_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(t.consensus_decisions).where(t.consensus_decisions.c.coding_id == coding_id)
    ).first()
    return None if row is None else dict(row._mapping)
