"""Assessments: component ratings per site and date (SIS 0–3), evidence, suggestions,
two raters' agreement and consensus, and the site sustainability profiles built from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, select

from caseframe.analysis.profiles import (
    RatingAgreement,
    SiteProfile,
    build_profile,
    check_rating,
    rating_agreement,
    rating_scale,
    resolve_ratings,
)
from caseframe.analysis.rating_suggestions import Evidence, RatingSuggestion, propose_rating
from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound
from caseframe.model import Assessment, Framework
from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.store.lookup import case_row, coder_row, component_row, framework_row
from caseframe.util.csvfile import read_csv_rows

STATUSES = ("rating", "suggested", "consensus")
SUGGESTION_RATER = "caseframe (suggested ratings)"
CSV_REQUIRED = ("site", "component", "rating", "assessed_on")
ASSESSMENT_COLUMNS = [
    "id",
    "site",
    "framework",
    "component",
    "name",
    "level",
    "rating",
    "rater",
    "assessed_on",
    "status",
    "note",
    "evidence",
]


def parse_date(value: str | date, what: str = "date") -> date:
    """The one date format of assessments: ISO 8601, YYYY-MM-DD."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{what} '{text}' is not a date in the format YYYY-MM-DD", hint="e.g. 2018-12-01"
        ) from None


@dataclass
class ProfileSet:
    """Every assessed site's latest profile (up to a date), for one framework."""

    framework: Framework
    profiles: list[SiteProfile]
    groupings: list[str] = field(default_factory=list)
    notice: str = ""

    def profile(self, site: str) -> SiteProfile:
        for p in self.profiles:
            if p.site.casefold() == site.casefold():
                return p
        raise NotFound(
            f"site '{site}' has no {self.framework.key} assessment",
            hint="record one with 'caseframe assess SITE' or 'caseframe assess import FILE'",
        )


class AssessmentsMixin:
    store: Any

    # -- settings: anchors and wording --------------------------------------------------------

    def _assessment_setting(self, key: str, default: Any = None) -> Any:
        with self.store.read() as conn:
            value = conn.scalar(select(t.settings.c.value).where(t.settings.c.key == key))
        return default if value is None else value

    def _put_assessment_setting(self, conn: Connection, key: str, value: Any) -> None:
        conn.execute(delete(t.settings).where(t.settings.c.key == key))
        conn.execute(t.settings.insert().values(key=key, value=value))

    def rating_framework(self, framework: str = "sis") -> Framework:
        """The framework with this project's scale anchors (SIS anchors are not published)."""
        from caseframe.frameworks.loader import with_scale_anchors

        fw = self.framework(framework)  # type: ignore[attr-defined]
        rating_scale(fw)
        anchors = self._assessment_setting(f"scale_anchors:{fw.key}")
        if anchors:
            fw = with_scale_anchors(fw, {int(k): v for k, v in anchors.items()})
        return fw

    def set_scale_anchors(self, framework: str, anchors: Mapping[int | str, str]) -> Framework:
        """Replace the scale anchors of a framework for this project (values must be on the
        scale); an empty mapping restores the framework file's anchors."""
        from caseframe.frameworks.loader import with_scale_anchors

        fw = self.framework(framework)  # type: ignore[attr-defined]
        cleaned: dict[int, str] = {}
        for k, v in anchors.items():
            try:
                cleaned[int(k)] = v
            except (TypeError, ValueError):
                raise InvalidInput(f"scale anchor '{k}' is not a whole number") from None
        if cleaned:
            with_scale_anchors(fw, cleaned)  # validates
        with self.store.transaction() as conn:
            if cleaned:
                self._put_assessment_setting(
                    conn, f"scale_anchors:{fw.key}", {str(k): v for k, v in cleaned.items()}
                )
            else:
                conn.execute(
                    delete(t.settings).where(t.settings.c.key == f"scale_anchors:{fw.key}")
                )
        return self.rating_framework(fw.key)

    def profile_wording(self, framework: str = "sis") -> dict:
        """Project overrides for profiles: risks {component: phrase}, key_questions
        {component: question}, notice (a banner, e.g. that the ratings are illustrative)."""
        return dict(self._assessment_setting(f"profiles:{framework.lower()}", {}))

    def set_profile_wording(
        self,
        framework: str = "sis",
        risks: Mapping[str, str] | None = None,
        key_questions: Mapping[str, str] | None = None,
        notice: str | None = None,
    ) -> dict:
        fw = self.framework(framework)  # type: ignore[attr-defined]
        for comp in [*(risks or {}), *(key_questions or {})]:
            if fw.component(comp) is None:
                raise NotFound(f"unknown component '{comp}' in framework '{fw.key}'")
        current = self.profile_wording(fw.key)
        if risks is not None:
            current["risks"] = {**current.get("risks", {}), **dict(risks)}
        if key_questions is not None:
            current["key_questions"] = dict(key_questions)
        if notice is not None:
            current["notice"] = notice
        with self.store.transaction() as conn:
            self._put_assessment_setting(conn, f"profiles:{fw.key}", current)
        return current

    # -- recording ----------------------------------------------------------------------------

    def assess(
        self,
        site: str,
        ratings: Mapping[str, int | str],
        *,
        rater: str,
        at: str | date | None = None,
        framework: str = "sis",
        note: str = "",
        notes: Mapping[str, str] | None = None,
        evidence: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
        suggested: Mapping[str, int] | None = None,
        status: str = "rating",
        replace: bool = False,
    ) -> list[Assessment]:
        """Record ratings of one site at one date, all or none.

        `note` applies to every rating, `notes` per component; `evidence` is coding ids (for all
        ratings, or per component). `suggested` keeps what caseframe proposed beside what the
        rater chose, so a changed proposal stays visible.
        """
        if not ratings:
            raise InvalidInput("no ratings given", hint="give at least one COMPONENT=RATING")
        if status not in STATUSES:
            raise InvalidInput(f"unknown status '{status}'", hint=f"use {', '.join(STATUSES)}")
        day = parse_date(at or date.today(), "assessment date")
        fw = self.rating_framework(framework)
        scale = rating_scale(fw)
        per_comp: dict[str, list[int]] = {}
        if isinstance(evidence, Mapping):
            per_comp = {k.casefold(): list(v) for k, v in evidence.items()}
        ids: list[int] = []
        with self.store.transaction() as conn:
            case = case_row(conn, site)
            for comp, value in ratings.items():
                crow = component_row(conn, comp, default_framework=fw.key)
                rating = check_rating(value, scale, crow.key)
                links = (
                    per_comp.get(comp.casefold(), [])
                    if isinstance(evidence, Mapping)
                    else list(evidence or [])
                )
                text = (notes or {}).get(comp, "") or note
                ids.append(
                    self._write_assessment(
                        conn, case, crow, rater, day, rating, text, status, links, replace
                    )
                )
                if suggested and suggested.get(comp) is not None:
                    proposal = check_rating(suggested[comp], scale, crow.key)
                    reason = "accepted" if proposal == rating else f"changed to {rating}"
                    self._write_assessment(
                        conn,
                        case,
                        crow,
                        SUGGESTION_RATER,
                        day,
                        proposal,
                        f"proposed {proposal}; {rater} {reason}",
                        "suggested",
                        links,
                        True,
                        coder_kind="machine",
                    )
        return self._assessments_by_id(ids)

    def _write_assessment(
        self,
        conn: Connection,
        case: Any,
        component: Any,
        rater: str,
        day: date,
        rating: int,
        note: str,
        status: str,
        evidence: Iterable[int],
        replace: bool,
        coder_kind: str = "human",
    ) -> int:
        rater_id = coder_row(conn, rater.strip(), create=True, kind=coder_kind).id
        links = sorted(set(int(e) for e in evidence))
        self._check_evidence(conn, case, links)
        key = (
            t.assessments.c.case_id == case.id,
            t.assessments.c.component_id == component.id,
            t.assessments.c.rater_id == rater_id,
            t.assessments.c.assessed_on == day,
            t.assessments.c.status == status,
        )
        existing = conn.execute(select(t.assessments.c.id, t.assessments.c.rating).where(*key))
        existing = existing.first()
        stamp = now()
        if existing is not None:
            if not replace:
                raise Conflict(
                    f"{rater} already rated {component.key} of '{case.key}' on {day.isoformat()} "
                    f"({existing.rating})",
                    hint="pass --replace to change it",
                )
            conn.execute(
                t.assessments.update()
                .where(t.assessments.c.id == existing.id)
                .values(rating=rating, note=note or "", updated_at=stamp)
            )
            conn.execute(
                delete(t.assessment_evidence).where(
                    t.assessment_evidence.c.assessment_id == existing.id
                )
            )
            assessment_id = existing.id
        else:
            assessment_id = conn.execute(
                t.assessments.insert().values(
                    case_id=case.id,
                    component_id=component.id,
                    rater_id=rater_id,
                    assessed_on=day,
                    rating=rating,
                    note=note or "",
                    status=status,
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]
        for coding_id in links:
            conn.execute(
                t.assessment_evidence.insert().values(
                    assessment_id=assessment_id, coding_id=coding_id
                )
            )
        return assessment_id

    def _check_evidence(self, conn: Connection, case: Any, coding_ids: list[int]) -> None:
        """Evidence must be existing codings of documents at the site (or above or below it)."""
        if not coding_ids:
            return
        related = _subtree(conn, case.id) | _ancestors(conn, case.id)
        rows = conn.execute(
            select(t.codings.c.id, t.codings.c.document_id).where(t.codings.c.id.in_(coding_ids))
        ).all()
        found = {r.id: r.document_id for r in rows}
        for coding_id in coding_ids:
            if coding_id not in found:
                raise NotFound(f"unknown coding {coding_id}", hint="list them with 'codings list'")
            cases = set(
                conn.scalars(
                    select(t.document_cases.c.case_id).where(
                        t.document_cases.c.document_id == found[coding_id]
                    )
                )
            )
            if not cases & related:
                raise InvalidInput(
                    f"coding {coding_id} is not from a document of site '{case.key}'",
                    hint="link evidence from the site's own documents",
                )

    def import_assessments(
        self,
        path: str | Path,
        rater: str | None = None,
        framework: str = "sis",
        replace: bool = False,
    ) -> int:
        """Ratings of many sites from a CSV (site, component, rating, assessed_on, and rater,
        framework, note, evidence optional). Every row is checked; one bad row stores nothing."""
        header, rows = read_csv_rows(path, required=CSV_REQUIRED)
        if "rater" not in header and not rater:
            raise InvalidInput(
                "missing required column(s): rater",
                where=f"{path}:1",
                hint="add a rater column or pass --rater",
            )
        frameworks: dict[str, Framework] = {}
        seen: dict[tuple, int] = {}
        stored = 0
        with self.store.transaction() as conn:
            cases: dict[str, Any] = {}
            for line, row in rows:
                where = f"{path}:{line}"
                try:
                    fw_key = (row.get("framework") or framework).strip()
                    if fw_key.casefold() not in frameworks:
                        frameworks[fw_key.casefold()] = self.rating_framework(fw_key)
                    fw = frameworks[fw_key.casefold()]
                    site = row["site"]
                    if not site:
                        raise InvalidInput("empty site")
                    if site not in cases:
                        cases[site] = case_row(conn, site)
                    crow = component_row(conn, row["component"], default_framework=fw.key)
                    rating = check_rating(row["rating"], rating_scale(fw), crow.key)
                    day = parse_date(row["assessed_on"], "assessed_on")
                    who = (row.get("rater") or rater or "").strip()
                    if not who:
                        raise InvalidInput("empty rater", hint="fill the rater column")
                    status = (row.get("status") or "rating").strip()
                    if status not in ("rating", "consensus"):
                        raise InvalidInput(
                            f"unknown status '{status}'", hint="use rating or consensus"
                        )
                    key = (cases[site].id, crow.id, who, day, status)
                    if key in seen:
                        raise Conflict(f"the same rating appears twice (first on line {seen[key]})")
                    seen[key] = line
                    links = _coding_ids(row.get("evidence", ""))
                    self._write_assessment(
                        conn,
                        cases[site],
                        crow,
                        who,
                        day,
                        rating,
                        row.get("note", ""),
                        status,
                        links,
                        replace,
                    )
                    stored += 1
                except CaseframeError as exc:
                    raise type(exc)(
                        f"{exc.message.rstrip('.')}; nothing was stored", where=where, hint=exc.hint
                    ) from None
        return stored

    def delete_assessments(
        self, site: str, at: str | date, rater: str | None = None, framework: str = "sis"
    ) -> int:
        day = parse_date(at)
        with self.store.transaction() as conn:
            case = case_row(conn, site)
            fw_id = framework_row(conn, framework).id
            comp_ids = select(t.framework_components.c.id).where(
                t.framework_components.c.framework_id == fw_id
            )
            query = delete(t.assessments).where(
                t.assessments.c.case_id == case.id,
                t.assessments.c.assessed_on == day,
                t.assessments.c.component_id.in_(comp_ids),
            )
            if rater:
                query = query.where(t.assessments.c.rater_id == coder_row(conn, rater).id)
            return conn.execute(query).rowcount

    # -- reading ------------------------------------------------------------------------------

    def assessments_frame(
        self,
        site: str | None = None,
        framework: str = "sis",
        rater: str | None = None,
        status: str | None = None,
        include_suggested: bool = True,
    ) -> pd.DataFrame:
        with self.store.read() as conn:
            fw = framework_row(conn, framework)
            query = (
                select(
                    t.assessments,
                    t.cases.c.key.label("site"),
                    t.framework_components.c.key.label("component"),
                    t.framework_components.c.name.label("name"),
                    t.framework_components.c.level.label("level"),
                    t.framework_components.c.position.label("position"),
                    t.coders.c.name.label("rater"),
                )
                .join(t.cases, t.cases.c.id == t.assessments.c.case_id)
                .join(
                    t.framework_components,
                    t.framework_components.c.id == t.assessments.c.component_id,
                )
                .join(t.coders, t.coders.c.id == t.assessments.c.rater_id)
                .where(t.framework_components.c.framework_id == fw.id)
                .order_by(
                    t.cases.c.id,
                    t.assessments.c.assessed_on,
                    t.framework_components.c.position,
                    t.framework_components.c.id,
                    t.coders.c.name,
                    t.assessments.c.status,
                )
            )
            if site:
                query = query.where(t.assessments.c.case_id == case_row(conn, site).id)
            if rater:
                query = query.where(t.assessments.c.rater_id == coder_row(conn, rater).id)
            if status:
                query = query.where(t.assessments.c.status == status)
            elif not include_suggested:
                query = query.where(t.assessments.c.status != "suggested")
            rows = conn.execute(query).all()
            links: dict[int, list[int]] = {}
            for aid, cid in conn.execute(
                select(t.assessment_evidence.c.assessment_id, t.assessment_evidence.c.coding_id)
            ):
                links.setdefault(aid, []).append(cid)
        return pd.DataFrame.from_records(
            [
                {
                    "id": r.id,
                    "site": r.site,
                    "framework": fw.key,
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
            ],
            columns=ASSESSMENT_COLUMNS,
        )

    def _assessments_by_id(self, ids: list[int]) -> list[Assessment]:
        with self.store.read() as conn:
            rows = conn.execute(
                select(
                    t.assessments,
                    t.frameworks.c.key.label("fw"),
                    t.framework_components.c.key.label("component"),
                    t.coders.c.name.label("rater"),
                )
                .join(
                    t.framework_components,
                    t.framework_components.c.id == t.assessments.c.component_id,
                )
                .join(t.frameworks, t.frameworks.c.id == t.framework_components.c.framework_id)
                .join(t.coders, t.coders.c.id == t.assessments.c.rater_id)
                .where(t.assessments.c.id.in_(ids))
            ).all()
            links: dict[int, list[int]] = {}
            for aid, cid in conn.execute(
                select(
                    t.assessment_evidence.c.assessment_id, t.assessment_evidence.c.coding_id
                ).where(t.assessment_evidence.c.assessment_id.in_(ids))
            ):
                links.setdefault(aid, []).append(cid)
        by_id = {
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
        return [by_id[i] for i in ids]

    # -- evidence and suggestions -------------------------------------------------------------

    def rating_evidence(self, site: str, framework: str = "sis") -> dict[str, list[Evidence]]:
        """Per component, the human codings at the site (its documents and those of the cases
        below it) whose code is the component's deductive code or an inductive code mapped to
        it, or a code below either."""
        with self.store.read() as conn:
            case = case_row(conn, site)
            fw = framework_row(conn, framework)
            comps = {
                r.id: r.key
                for r in conn.execute(
                    select(t.framework_components.c.id, t.framework_components.c.key).where(
                        t.framework_components.c.framework_id == fw.id
                    )
                )
            }
            code_comps: dict[int, set[str]] = {}
            for code_id, comp_id in conn.execute(
                select(t.codes.c.id, t.codes.c.component_id).where(
                    t.codes.c.component_id.in_(list(comps))
                )
            ):
                code_comps.setdefault(code_id, set()).add(comps[comp_id])
            for code_id, comp_id in conn.execute(
                select(t.code_mappings.c.code_id, t.code_mappings.c.component_id).where(
                    t.code_mappings.c.component_id.in_(list(comps))
                )
            ):
                code_comps.setdefault(code_id, set()).add(comps[comp_id])
            children: dict[int, list[int]] = {}
            for cid, parent in conn.execute(select(t.codes.c.id, t.codes.c.parent_id)):
                if parent is not None:
                    children.setdefault(parent, []).append(cid)
            frontier = list(code_comps)
            while frontier:  # a mapped category lends its components to the codes below it
                nxt = []
                for parent in frontier:
                    for child in children.get(parent, []):
                        before = len(code_comps.get(child, set()))
                        code_comps.setdefault(child, set()).update(code_comps[parent])
                        if len(code_comps[child]) > before:
                            nxt.append(child)
                frontier = nxt
            subtree = _subtree(conn, case.id)
            doc_cases: dict[int, set[int]] = {}
            for doc_id, case_id in conn.execute(select(t.document_cases)):
                doc_cases.setdefault(doc_id, set()).add(case_id)
            docs = [d for d, cs in doc_cases.items() if cs & subtree]
            keys = dict(conn.execute(select(t.cases.c.id, t.cases.c.key)).all())
            rows = conn.execute(
                select(
                    t.codings.c.id,
                    t.codings.c.document_id,
                    t.codings.c.start,
                    t.codings.c.end,
                    t.codings.c.code_id,
                    t.codings.c.valence,
                    t.codes.c.name.label("code"),
                    t.documents.c.text,
                )
                .join(t.codes, t.codes.c.id == t.codings.c.code_id)
                .join(t.coders, t.coders.c.id == t.codings.c.coder_id)
                .join(t.documents, t.documents.c.id == t.codings.c.document_id)
                .where(
                    t.codings.c.document_id.in_(docs),
                    t.codings.c.code_id.in_(list(code_comps)),
                    t.coders.c.kind == "human",
                    t.codings.c.status.in_(("final", "accepted")),
                )
                .order_by(t.codings.c.document_id, t.codings.c.start, t.codings.c.id)
            ).all()
        out: dict[str, list[Evidence]] = {key: [] for key in comps.values()}
        for r in rows:
            who = tuple(sorted(keys[c] for c in doc_cases.get(r.document_id, set()) & subtree))
            ev = Evidence(r.id, r.code, r.valence, who, r.text[r.start : r.end])
            for comp in sorted(code_comps[r.code_id]):
                out[comp].append(ev)
        return out

    def suggest_ratings(
        self, site: str, framework: str = "sis", components: Sequence[str] | None = None
    ) -> list[RatingSuggestion]:
        """A proposed rating per component with its reasons and evidence. Nothing is stored."""
        fw = self.rating_framework(framework)
        scale = rating_scale(fw)
        site_key = self.case(site).key  # type: ignore[attr-defined]
        wanted = None
        if components:
            wanted = set()
            for comp in components:
                c = fw.component(comp)
                if c is None:
                    raise NotFound(f"unknown component '{comp}' in framework '{fw.key}'")
                wanted.add(c.key)
        evidence = self.rating_evidence(site_key, fw.key)
        return [
            propose_rating(site_key, c.key, c.name, c.level, evidence.get(c.key, []), scale)
            for c in fw.components
            if wanted is None or c.key in wanted
        ]

    # -- two raters ---------------------------------------------------------------------------

    def assessment_agreement(
        self,
        framework: str = "sis",
        raters: Sequence[str] | None = None,
        site: str | None = None,
    ) -> RatingAgreement:
        """Agreement of two raters over every site, date and component both rated."""
        fw = self.rating_framework(framework)
        frame = self.assessments_frame(site=site, framework=fw.key, status="rating")
        present = sorted(set(frame["rater"]))
        if raters:
            if len(raters) != 2:
                raise InvalidInput("rating agreement compares exactly two raters")
            chosen = tuple(raters)
            for r in chosen:
                if r not in present:
                    raise NotFound(
                        f"rater '{r}' has no {fw.key} ratings",
                        hint=f"raters: {', '.join(present) or 'none'}",
                    )
        elif len(present) == 2:
            chosen = (present[0], present[1])
        else:
            raise InvalidInput(
                f"rating agreement needs two raters; there are {len(present)}"
                + (f" ({', '.join(present)})" if present else ""),
                hint="name two with --rater A --rater B" if len(present) > 2 else None,
            )
        keys = ["site", "assessed_on", "component"]
        a = frame[frame["rater"] == chosen[0]][[*keys, "rating"]].rename(columns={"rating": "a"})
        b = frame[frame["rater"] == chosen[1]][[*keys, "rating"]].rename(columns={"rating": "b"})
        paired = a.merge(b, on=keys, how="inner")
        if paired.empty:
            raise InvalidInput(
                f"'{chosen[0]}' and '{chosen[1]}' rated no component of the same site on the "
                "same date",
                hint="both raters must use the same --at date",
            )
        return rating_agreement(paired, (chosen[0], chosen[1]), rating_scale(fw))

    def assessment_consensus(
        self,
        site: str,
        at: str | date,
        framework: str = "sis",
        decisions: Mapping[str, int | str] | None = None,
        rater: str = "consensus",
        note: str = "",
        replace: bool = False,
    ) -> list[Assessment]:
        """Consensus ratings of a site at a date from its raters' ratings: where they agree the
        common value; where they differ a decision must be given. Evidence is pooled."""
        fw = self.rating_framework(framework)
        day = parse_date(at, "assessment date")
        frame = self.assessments_frame(site=site, framework=fw.key, status="rating")
        frame = frame[frame["assessed_on"] == day]
        if frame.empty:
            raise NotFound(
                f"no ratings of '{site}' on {day.isoformat()}",
                hint="record them first with 'caseframe assess'",
            )
        decided = {k.casefold(): v for k, v in (decisions or {}).items()}
        ratings: dict[str, int | str] = {}
        notes: dict[str, str] = {}
        evidence: dict[str, list[int]] = {}
        open_items = []
        for comp, group in frame.groupby("component", sort=False):
            values = sorted(set(int(v) for v in group["rating"]))
            given = "; ".join(
                f"{r} {v}" for r, v in zip(group["rater"], group["rating"], strict=True)
            )
            if str(comp).casefold() in decided:
                ratings[str(comp)] = decided[str(comp).casefold()]
                notes[str(comp)] = note or f"decided after {given}"
            elif len(values) == 1:
                ratings[str(comp)] = values[0]
                notes[str(comp)] = note or f"raters agree ({given})"
            else:
                open_items.append(f"{comp} ({given})")
            evidence[str(comp)] = sorted({e for ev in group["evidence"] for e in ev})
        for comp in decided:
            if comp not in {str(c).casefold() for c in frame["component"]}:
                raise InvalidInput(f"no rater rated {comp.upper()} of '{site}' on {day}")
        if open_items:
            raise InvalidInput(
                f"the raters differ on {', '.join(open_items)}",
                hint="decide each with --decide COMPONENT=RATING",
            )
        return self.assess(
            site,
            ratings,
            rater=rater,
            at=day,
            framework=fw.key,
            notes=notes,
            evidence=evidence,
            status="consensus",
            replace=replace,
        )

    # -- profiles -----------------------------------------------------------------------------

    def site_profiles(
        self,
        framework: str = "sis",
        at: str | date | None = None,
        group_by: Sequence[str] | None = None,
    ) -> ProfileSet:
        """Each assessed site's latest profile (on or before `at`), with the previous one."""
        fw = self.rating_framework(framework)
        cutoff = parse_date(at) if at else None
        frame = self.assessments_frame(framework=fw.key, include_suggested=False)
        if cutoff is not None:
            frame = frame[frame["assessed_on"] <= cutoff]
        wording = self.profile_wording(fw.key)
        cases = self.cases_frame()  # type: ignore[attr-defined]
        info = cases.set_index("key")
        labels = dict(zip(cases["key"], cases["label"], strict=True))
        kinds = dict(zip(cases["key"], cases["kind"], strict=True))
        sites = list(dict.fromkeys(frame["site"]))
        groupings = list(group_by) if group_by else _default_groupings(info, sites, kinds)
        profiles = []
        for site in sites:
            rows = frame[frame["site"] == site]
            dates = sorted(set(rows["assessed_on"]))
            current = resolve_ratings(rows[rows["assessed_on"] == dates[-1]])
            previous = (
                resolve_ratings(rows[rows["assessed_on"] == dates[-2]]) if len(dates) > 1 else None
            )
            profiles.append(
                build_profile(
                    fw,
                    site,
                    labels.get(site, site),
                    current,
                    dates[-1],
                    previous,
                    dates[-2] if len(dates) > 1 else None,
                    risks={**_default_risks(fw), **wording.get("risks", {})},
                    key_questions=wording.get("key_questions"),
                    groups=_groups_of(site, info, kinds, labels, groupings),
                )
            )
        return ProfileSet(fw, profiles, groupings, wording.get("notice", ""))

    def site_profile(
        self, site: str, framework: str = "sis", at: str | date | None = None
    ) -> SiteProfile:
        key = self.case(site).key  # type: ignore[attr-defined]
        return self.site_profiles(framework, at).profile(key)

    def profiles_summary(self, framework: str = "sis", href: str = "profiles.html") -> dict:
        """A few lines for the study report: how many sites are rated, the ranking's ends and
        the most common risks, and where the full profiles are."""
        fw = self.rating_framework(framework)
        sites = self.site_profiles(fw.key)
        profiles = sites.profiles
        risk_counts: dict[str, int] = {}
        for p in profiles:
            for c in p.components:
                if c.state == "absent":
                    risk_counts[c.component] = risk_counts.get(c.component, 0) + 1
        common = sorted(risk_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        ranked = sorted(profiles, key=lambda p: (-p.total, p.site))
        total_max = profiles[0].total_max if profiles else sum(fw.level_maxima.values())
        return {
            "framework": fw.key,
            "framework_name": fw.name,
            "href": href,
            "sites": len(profiles),
            "total_max": total_max,
            "mean_total": (sum(p.total for p in profiles) / len(profiles)) if profiles else None,
            "highest": [(p.site, p.total) for p in ranked[:3]],
            "lowest": [(p.site, p.total) for p in ranked[-3:][::-1]],
            "common_absent": [
                {"component": k, "name": fw.component(k).name, "sites": n}  # type: ignore[union-attr]
                for k, n in common
            ],
            "notice": sites.notice,
            "text": _summary_text(fw, profiles, common, sites.notice),
        }

    def write_profiles(
        self,
        fmt: str,
        out: str | Path,
        site: str | None = None,
        framework: str = "sis",
        at: str | date | None = None,
    ) -> Path:
        from caseframe.reports.profiles import write_profiles

        return write_profiles(self, fmt, Path(out), site=site, framework=framework, at=at)


# --------------------------------------------------------------------------- helpers


def _coding_ids(text: str) -> list[int]:
    out = []
    for part in text.replace(",", ";").replace(" ", ";").split(";"):
        if part.strip():
            if not part.strip().isdigit():
                raise InvalidInput(
                    f"evidence '{part.strip()}' is not a coding id",
                    hint="list coding ids separated by ';'",
                )
            out.append(int(part))
    return out


def _subtree(conn: Connection, case_id: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for cid, parent in conn.execute(select(t.cases.c.id, t.cases.c.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    found, frontier = {case_id}, [case_id]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, []) if c not in found]
        found.update(frontier)
    return found


def _ancestors(conn: Connection, case_id: int) -> set[int]:
    parents = dict(conn.execute(select(t.cases.c.id, t.cases.c.parent_id)).all())
    found: set[int] = set()
    current = parents.get(case_id)
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return found


def _default_risks(fw: Framework) -> dict[str, str]:
    from caseframe.analysis.profiles import SIS_RISKS

    return dict(SIS_RISKS) if fw.key == "sis" else {}


_NOT_GROUPS = {"key", "label", "kind", "parent", "path", "depth", "note", "description"}


def _default_groupings(info: pd.DataFrame, sites: list[str], kinds: dict[str, str]) -> list[str]:
    """The kinds of the sites' ancestors (region) and attributes that every rated site has and
    that split them into 2 or more groups (setting)."""
    if not sites:
        return []
    out: list[str] = []
    for site in sites:
        for key in str(info.loc[site, "path"]).split("/")[:-1]:
            if kinds[key] not in out:
                out.append(kinds[key])
    for col in info.columns:
        if col in _NOT_GROUPS:
            continue
        values = info.loc[sites, col]
        if values.notna().all() and 2 <= values.astype(str).nunique() < len(sites):
            out.append(col)
    return out


def _groups_of(
    site: str,
    info: pd.DataFrame,
    kinds: dict[str, str],
    labels: dict[str, str],
    groupings: list[str],
) -> dict[str, str]:
    if site not in info.index:
        return {}
    groups: dict[str, str] = {}
    for key in str(info.loc[site, "path"]).split("/")[:-1]:
        if kinds[key] in groupings:
            groups[kinds[key]] = labels[key]
    for col in groupings:
        if col in info.columns and col not in groups:
            value = info.loc[site, col]
            if value is not None and not pd.isna(value):
                groups[col] = str(value)
    return groups


def _summary_text(
    fw: Framework, profiles: list[SiteProfile], common: list[tuple[str, int]], notice: str
) -> str:
    if not profiles:
        return f"No site has been rated on the {fw.name} yet."
    total_max = profiles[0].total_max
    mean = sum(p.total for p in profiles) / len(profiles)
    ranked = sorted(profiles, key=lambda p: (-p.total, p.site))
    parts = [
        f"{len(profiles)} site(s) rated on the {fw.name}; mean total {mean:.1f} of {total_max} "
        f"(highest {ranked[0].site} {ranked[0].total:g}, lowest {ranked[-1].site} "
        f"{ranked[-1].total:g})."
    ]
    if common:
        names = "; ".join(
            f"{fw.component(k).name} ({k}) at {n} site(s)"  # type: ignore[union-attr]
            for k, n in common
        )
        parts.append(f"Most often absent: {names}.")
    if notice:
        parts.append(notice)
    return " ".join(parts)


EXAMPLE_NOTICE = (
    "Illustrative ratings: the example study (Grim et al. 2022) publishes no SIS ratings. These "
    "were made up from the paper's general findings to show site profiles and change over time; "
    "they are not data about the services."
)


def load_example_ratings(project: Any) -> int:
    """The example study's illustrative SIS ratings (examples/peer-support/ratings.csv), with
    a notice saying so and risk wording for peer support workers."""
    from caseframe.example_study import example_data_dir

    project.set_profile_wording(
        "sis",
        risks={
            "C2": "supervision for the peer support worker",
            "O4": "defined role for the peer support worker",
            "T7": "training of staff before the peer support worker started",
        },
        notice=EXAMPLE_NOTICE,
    )
    return project.import_assessments(example_data_dir() / "ratings.csv")
