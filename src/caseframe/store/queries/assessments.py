"""Assessments: component ratings per site, rater, date and status, their linked evidence
(codings), the project settings that word the profiles, and the codings that can serve as a
site's evidence for a component."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from caseframe.model import Assessment
from caseframe.store import schema as t

# -- settings (scale anchors, profile wording) --------------------------------------------------


def setting(conn: Connection, key: str) -> Any:
    return conn.scalar(select(t.settings.c.value).where(t.settings.c.key == key))


def put_setting(conn: Connection, key: str, value: Any) -> None:
    conn.execute(delete(t.settings).where(t.settings.c.key == key))
    conn.execute(t.settings.insert().values(key=key, value=value))


def delete_setting(conn: Connection, key: str) -> None:
    conn.execute(delete(t.settings).where(t.settings.c.key == key))


# -- writing ------------------------------------------------------------------------------------


def existing(
    conn: Connection, case_id: int, component_id: int, rater_id: int, day: date, status: str
) -> Row | None:
    """The rating a rater gave a component of a site on a day with a status, if any."""
    a = t.assessments.c
    return conn.execute(
        select(a.id, a.rating, a.note).where(
            a.case_id == case_id,
            a.component_id == component_id,
            a.rater_id == rater_id,
            a.assessed_on == day,
            a.status == status,
        )
    ).first()


def insert(
    conn: Connection,
    case_id: int,
    component_id: int,
    rater_id: int,
    day: date,
    rating: int,
    note: str,
    status: str,
    stamp: datetime,
) -> int:
    return conn.execute(
        t.assessments.insert().values(
            case_id=case_id,
            component_id=component_id,
            rater_id=rater_id,
            assessed_on=day,
            rating=rating,
            note=note,
            status=status,
            created_at=stamp,
            updated_at=stamp,
        )
    ).inserted_primary_key[0]


def update(conn: Connection, assessment_id: int, rating: int, note: str, stamp: datetime) -> None:
    conn.execute(
        t.assessments.update()
        .where(t.assessments.c.id == assessment_id)
        .values(rating=rating, note=note, updated_at=stamp)
    )


def link_evidence(
    conn: Connection, assessment_id: int, coding_ids: Iterable[int], replace: bool = False
) -> None:
    if replace:
        conn.execute(
            delete(t.assessment_evidence).where(
                t.assessment_evidence.c.assessment_id == assessment_id
            )
        )
    rows = [{"assessment_id": assessment_id, "coding_id": int(c)} for c in coding_ids]
    if rows:
        conn.execute(t.assessment_evidence.insert(), rows)


def delete_ratings(
    conn: Connection, case_id: int, day: date, framework_id: int, rater_id: int | None = None
) -> int:
    comp_ids = select(t.framework_components.c.id).where(
        t.framework_components.c.framework_id == framework_id
    )
    query = delete(t.assessments).where(
        t.assessments.c.case_id == case_id,
        t.assessments.c.assessed_on == day,
        t.assessments.c.component_id.in_(comp_ids),
    )
    if rater_id is not None:
        query = query.where(t.assessments.c.rater_id == rater_id)
    return conn.execute(query).rowcount


# -- evidence checks ----------------------------------------------------------------------------


def case_parents(conn: Connection) -> dict[int, int | None]:
    return dict(conn.execute(select(t.cases.c.id, t.cases.c.parent_id)).all())


def coding_documents(conn: Connection, coding_ids: Sequence[int]) -> dict[int, int]:
    """{coding id: its document id} for those of `coding_ids` that exist."""
    rows = conn.execute(
        select(t.codings.c.id, t.codings.c.document_id).where(t.codings.c.id.in_(coding_ids))
    ).all()
    return {r.id: r.document_id for r in rows}


def document_case_ids(conn: Connection) -> dict[int, set[int]]:
    """{document id: the cases it is linked to}."""
    out: dict[int, set[int]] = {}
    for doc_id, case_id in conn.execute(
        select(t.document_cases.c.document_id, t.document_cases.c.case_id)
    ):
        out.setdefault(doc_id, set()).add(case_id)
    return out


# -- reading ------------------------------------------------------------------------------------


def evidence_links(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, list[int]]:
    """{assessment id: linked coding ids} (of `ids`, or of every assessment)."""
    e = t.assessment_evidence.c
    query = select(e.assessment_id, e.coding_id)
    if ids is not None:
        query = query.where(e.assessment_id.in_(list(ids)))
    links: dict[int, list[int]] = {}
    for aid, cid in conn.execute(query):
        links.setdefault(aid, []).append(cid)
    return links


def ratings(
    conn: Connection,
    framework_id: int,
    case_id: int | None = None,
    rater_id: int | None = None,
    status: str | None = None,
    include_suggested: bool = True,
) -> list[dict]:
    """Ratings of one framework's components, in site, date, component and rater order; each a
    dict with site, component, name, level, rating, rater, assessed_on, status, note, evidence."""
    a = t.assessments.c
    query = (
        select(
            t.assessments,
            t.cases.c.key.label("site"),
            t.framework_components.c.key.label("component"),
            t.framework_components.c.name.label("name"),
            t.framework_components.c.level.label("level"),
            t.coders.c.name.label("rater"),
        )
        .join(t.cases, t.cases.c.id == a.case_id)
        .join(t.framework_components, t.framework_components.c.id == a.component_id)
        .join(t.coders, t.coders.c.id == a.rater_id)
        .where(t.framework_components.c.framework_id == framework_id)
        .order_by(
            t.cases.c.id,
            a.assessed_on,
            t.framework_components.c.position,
            t.framework_components.c.id,
            t.coders.c.name,
            a.status,
        )
    )
    if case_id is not None:
        query = query.where(a.case_id == case_id)
    if rater_id is not None:
        query = query.where(a.rater_id == rater_id)
    if status:
        query = query.where(a.status == status)
    elif not include_suggested:
        query = query.where(a.status != "suggested")
    rows = conn.execute(query).all()
    links = evidence_links(conn)
    return [
        {
            "id": r.id,
            "site": r.site,
            "component": r.component,
            "name": r.name,
            "level": r.level,
            "rating": r.rating,
            "rater": r.rater,
            "assessed_on": r.assessed_on,
            "status": r.status,
            "note": r.note or "",
            "evidence": sorted(links.get(r.id, [])),
        }
        for r in rows
    ]


def by_ids(conn: Connection, ids: Sequence[int]) -> list[Assessment]:
    """The assessments with these ids, in the order given."""
    rows = conn.execute(
        select(
            t.assessments,
            t.frameworks.c.key.label("fw"),
            t.framework_components.c.key.label("component"),
            t.coders.c.name.label("rater"),
        )
        .join(t.framework_components, t.framework_components.c.id == t.assessments.c.component_id)
        .join(t.frameworks, t.frameworks.c.id == t.framework_components.c.framework_id)
        .join(t.coders, t.coders.c.id == t.assessments.c.rater_id)
        .where(t.assessments.c.id.in_(list(ids)))
    ).all()
    links = evidence_links(conn, ids)
    found = {
        r.id: Assessment(
            id=r.id,
            case_id=r.case_id,
            framework=r.fw,
            component=r.component,
            rater=r.rater,
            assessed_on=r.assessed_on,
            rating=r.rating,
            note=r.note or "",
            status=r.status,
            evidence=tuple(sorted(links.get(r.id, []))),
        )
        for r in rows
    }
    return [found[i] for i in ids]


# -- what can be a component's evidence at a site ----------------------------------------------


def component_keys(conn: Connection, framework_id: int) -> dict[int, str]:
    c = t.framework_components.c
    return dict(conn.execute(select(c.id, c.key).where(c.framework_id == framework_id)).all())


def code_component_links(conn: Connection, component_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(code id, component id): deductive codes of the components and codes mapped to them."""
    ids = list(component_ids)
    direct = conn.execute(
        select(t.codes.c.id, t.codes.c.component_id).where(t.codes.c.component_id.in_(ids))
    ).all()
    mapped = conn.execute(
        select(t.code_mappings.c.code_id, t.code_mappings.c.component_id).where(
            t.code_mappings.c.component_id.in_(ids)
        )
    ).all()
    return [(int(a), int(b)) for a, b in [*direct, *mapped]]


def code_parents(conn: Connection) -> dict[int, int | None]:
    return dict(conn.execute(select(t.codes.c.id, t.codes.c.parent_id)).all())


def case_keys_by_id(conn: Connection) -> dict[int, str]:
    return dict(conn.execute(select(t.cases.c.id, t.cases.c.key)).all())


def human_codings_with_text(
    conn: Connection, document_ids: Sequence[int], code_ids: Sequence[int]
) -> list[dict]:
    """Final human codings of these codes in these documents, in document and position order:
    id, document_id, code_id, valence, code (its name) and text (the coded passage). Each
    document's text is read once."""
    c = t.codings.c
    rows = conn.execute(
        select(c.id, c.document_id, c.start, c.end, c.code_id, c.valence, t.codes.c.name)
        .join(t.codes, t.codes.c.id == c.code_id)
        .join(t.coders, t.coders.c.id == c.coder_id)
        .where(
            c.document_id.in_(list(document_ids)),
            c.code_id.in_(list(code_ids)),
            t.coders.c.kind == "human",
            c.status.in_(("final", "accepted")),
        )
        .order_by(c.document_id, c.start, c.id)
    ).all()
    wanted = sorted({r.document_id for r in rows})
    texts = dict(
        conn.execute(
            select(t.documents.c.id, t.documents.c.text).where(t.documents.c.id.in_(wanted))
        ).all()
    )
    return [
        {
            "id": r.id,
            "document_id": r.document_id,
            "code_id": r.code_id,
            "valence": r.valence,
            "code": r.name,
            "text": texts[r.document_id][r.start : r.end],
        }
        for r in rows
    ]
