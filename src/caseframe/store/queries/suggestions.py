"""Machine suggestions: the units and codes a method reads, suggestions with their details, and
reviewing them. Suggestions are codings of machine coders (status suggested / accepted /
rejected); `suggestion_details` holds what the method said beside each one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from caseframe.model import CoderKind, CodingStatus
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now

_IN = 500  # bound parameters per IN (...) list


def _chunks(items: Iterable[int]) -> Iterable[list[int]]:
    items = list(items)
    for i in range(0, len(items), _IN):
        yield items[i : i + _IN]


# -- what a method reads ------------------------------------------------------------------------


def coder_ids(conn: Connection, kind: str) -> list[int]:
    return list(conn.scalars(select(t.coders.c.id).where(t.coders.c.kind == kind)))


def machine_coder_names(conn: Connection, name: str | None = None) -> list[str]:
    query = select(t.coders.c.name).where(t.coders.c.kind == CoderKind.MACHINE)
    if name is not None:
        query = query.where(t.coders.c.name == name)
    return list(conn.scalars(query.order_by(t.coders.c.name)))


def documents_with(conn: Connection, coders: list[int], code_ids: list[int]) -> set[int]:
    """Documents in which any of `coders` applied any of the codes."""
    found: set[int] = set()
    if not coders:
        return found
    c = t.codings.c
    for chunk in _chunks(code_ids):
        found.update(
            conn.scalars(
                select(c.document_id).where(c.coder_id.in_(coders), c.code_id.in_(chunk)).distinct()
            )
        )
    return found


def document_ids_by_name(conn: Connection) -> list[int]:
    return list(conn.scalars(select(t.documents.c.id).order_by(t.documents.c.name)))


def framework_code_rows(conn: Connection, framework_id: int) -> list[Row]:
    """The project's codes of a framework's components, in component order."""
    fc = t.framework_components.c
    return conn.execute(
        select(t.codes)
        .join(t.framework_components, fc.id == t.codes.c.component_id)
        .where(fc.framework_id == framework_id)
        .order_by(fc.position, t.codes.c.id)
    ).all()


def used_leaf_code_rows(conn: Connection, coders: list[int]) -> list[Row]:
    """Codes without children that any of `coders` applied, in code-tree order."""
    parents = set(conn.scalars(select(t.codes.c.parent_id).where(t.codes.c.parent_id.is_not(None))))
    used = (
        set(
            conn.scalars(
                select(t.codings.c.code_id).where(t.codings.c.coder_id.in_(coders)).distinct()
            )
        )
        if coders
        else set()
    )
    rows = conn.execute(select(t.codes).order_by(t.codes.c.position, t.codes.c.id))
    return [r for r in rows if r.id in used and r.id not in parents]


def component(conn: Connection, component_id: int) -> Row:
    fc = t.framework_components
    return conn.execute(select(fc).where(fc.c.id == component_id)).one()


def unit_rows(conn: Connection, doc_ids: Sequence[int], schemes: Sequence[str]) -> list[tuple]:
    """(id, document_id, scheme, start, end, speaker, document name) of the documents' meaning
    units of these schemes, by document name and position."""
    mu = t.meaning_units.c
    out: list[tuple] = []
    for chunk in _chunks(doc_ids):
        out += [
            tuple(r)
            for r in conn.execute(
                select(mu.id, mu.document_id, mu.scheme, mu.start, mu.end, mu.speaker)
                .add_columns(t.documents.c.name)
                .join(t.documents, t.documents.c.id == mu.document_id)
                .where(mu.document_id.in_(chunk), mu.scheme.in_(list(schemes)))
            )
        ]
    return sorted(out, key=lambda r: (r[6], r[3], r[0]))


def speakers(conn: Connection, doc_ids: Sequence[int]) -> set[str]:
    """Every speaker name of the documents' turns (their labels are not read as text)."""
    found: set[str] = set()
    st = t.speaker_turns.c
    for chunk in _chunks(doc_ids):
        found.update(conn.scalars(select(st.speaker).where(st.document_id.in_(chunk)).distinct()))
    return found


# -- storing suggestions ------------------------------------------------------------------------


def delete_pending(conn: Connection, coder_id: int, docs: list[int], code_ids: list[int]) -> int:
    """Remove the coder's pending suggestions of these codes in these documents (their details
    go with them)."""
    removed = 0
    c = t.codings.c
    for chunk in _chunks(docs):
        for codes in _chunks(code_ids):
            removed += conn.execute(
                t.codings.delete().where(
                    c.coder_id == coder_id,
                    c.status == CodingStatus.SUGGESTED.value,
                    c.document_id.in_(chunk),
                    c.code_id.in_(codes),
                )
            ).rowcount
    return removed


def reviewed_keys(conn: Connection, coder_id: int, docs: list[int]) -> set[tuple[int, ...]]:
    """(document_id, start, end, code_id) of the coder's codings left in these documents (after
    `delete_pending`: the accepted and rejected ones)."""
    c = t.codings.c
    keys: set[tuple[int, ...]] = set()
    for chunk in _chunks(docs):
        keys.update(
            tuple(r)
            for r in conn.execute(
                select(c.document_id, c.start, c.end, c.code_id).where(
                    c.coder_id == coder_id, c.document_id.in_(chunk)
                )
            )
        )
    return keys


def insert_suggestions(
    conn: Connection, rows: list[dict[str, Any]], details: list[dict[str, Any]]
) -> list[int]:
    """Store suggestions (document_id, start, end, code_id, coder_id, meaning_unit_id, score)
    and, row for row, their details; returns the new coding ids."""
    if not rows:
        return []
    stamp = now()
    full = [
        {
            **r,
            "status": CodingStatus.SUGGESTED.value,
            "guid": new_guid(),
            "created_at": stamp,
            "updated_at": stamp,
        }
        for r in rows
    ]
    conn.execute(t.codings.insert(), full)
    guids = [r["guid"] for r in full]
    ids: dict[str, int] = {}
    for i in range(0, len(guids), _IN):
        part = guids[i : i + _IN]
        ids.update(
            conn.execute(
                select(t.codings.c.guid, t.codings.c.id).where(t.codings.c.guid.in_(part))
            ).all()
        )
    new_ids = [ids[g] for g in guids]
    conn.execute(
        t.suggestion_details.insert(),
        [{**d, "coding_id": i} for d, i in zip(details, new_ids, strict=True)],
    )
    return new_ids


def mark_done(conn: Connection, coder_id: int, docs: list[int]) -> None:
    """The method looked at every unit of these documents (agreement counts them as seen)."""
    cd = t.coder_documents.c
    have = set(conn.scalars(select(cd.document_id).where(cd.coder_id == coder_id)))
    new = [
        {"coder_id": coder_id, "document_id": d, "status": "done"} for d in docs if d not in have
    ]
    if new:
        conn.execute(t.coder_documents.insert(), new)


# -- reading suggestions ------------------------------------------------------------------------


def details(conn: Connection, coding_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    sd = t.suggestion_details
    for chunk in _chunks(coding_ids):
        for r in conn.execute(select(sd).where(sd.c.coding_id.in_(chunk))):
            out[r.coding_id] = dict(r._mapping)
    return out


def review_counts(conn: Connection) -> dict[int, tuple[int, int]]:
    """code id -> (accepted, rejected) suggestions of every machine coder so far."""
    c = t.codings.c
    rows = conn.execute(
        select(c.code_id, c.status, func.count())
        .join(t.coders, t.coders.c.id == c.coder_id)
        .where(
            t.coders.c.kind == CoderKind.MACHINE,
            c.status.in_([CodingStatus.ACCEPTED.value, CodingStatus.REJECTED.value]),
        )
        .group_by(c.code_id, c.status)
    )
    out: dict[int, list[int]] = {}
    for code_id, status, n in rows:
        out.setdefault(code_id, [0, 0])[status == CodingStatus.REJECTED.value] += n
    return {k: (a, r) for k, (a, r) in out.items()}


def unit_texts(conn: Connection, unit_ids: Iterable[int]) -> dict[int, tuple[str, int, int, str]]:
    """meaning unit id -> (document name, start, end, text) for the units that still exist."""
    mu = t.meaning_units.c
    out: dict[int, tuple[str, int, int, str]] = {}
    for chunk in _chunks(set(unit_ids)):
        for r in conn.execute(
            select(mu.id, mu.start, mu.end, t.documents.c.name, t.documents.c.text)
            .join(t.documents, t.documents.c.id == mu.document_id)
            .where(mu.id.in_(chunk))
        ):
            out[r.id] = (r.name, r.start, r.end, r.text[r.start : r.end])
    return out


# -- reviewing ----------------------------------------------------------------------------------


def with_kind(conn: Connection, ids: list[int]) -> dict[int, Row]:
    """coding id -> the coding and its coder's kind."""
    rows: dict[int, Row] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(t.codings, t.coders.c.kind)
            .join(t.coders, t.coders.c.id == t.codings.c.coder_id)
            .where(t.codings.c.id.in_(chunk))
        ):
            rows[r.id] = r
    return rows


def set_status(conn: Connection, ids: list[int], status: str, stamp: datetime) -> None:
    for chunk in _chunks(ids):
        conn.execute(
            update(t.codings)
            .where(t.codings.c.id.in_(chunk))
            .values(status=status, updated_at=stamp)
        )


def reviewed_units(conn: Connection, code_ids: list[int]) -> list[tuple[int, int, int, int, str]]:
    """(meaning unit id, document_id, code_id, start, status) of accepted and rejected
    suggestions of these codes (what a reviewer taught the queue's model)."""
    c = t.codings.c
    out = []
    for chunk in _chunks(code_ids):
        out += [
            tuple(r)
            for r in conn.execute(
                select(c.meaning_unit_id, c.document_id, c.code_id, c.start, c.status)
                .join(t.coders, t.coders.c.id == c.coder_id)
                .where(
                    t.coders.c.kind == CoderKind.MACHINE,
                    c.code_id.in_(chunk),
                    c.meaning_unit_id.is_not(None),
                    c.status.in_([CodingStatus.ACCEPTED.value, CodingStatus.REJECTED.value]),
                )
            )
        ]
    return out


def pending_units(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """suggestion (coding) id -> (meaning unit id, code id)."""
    c = t.codings.c
    out: dict[int, tuple[int, int]] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(select(c.id, c.meaning_unit_id, c.code_id).where(c.id.in_(chunk))):
            out[r.id] = (r.meaning_unit_id, r.code_id)
    return out
