"""Assessments: component ratings per site and date (SIS 0–3), evidence, suggestions, two
raters' agreement and consensus. The profiles drawn from them are in api/profiles.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from caseframe.api.profiles import ProfilesMixin
from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound
from caseframe.store.core import now
from caseframe.store.lookup import case_row, coder_row, component_row, framework_row
from caseframe.store.queries import assessments as qa
from caseframe.util import tree

if TYPE_CHECKING:
    from caseframe.analysis.profiles import RatingAgreement
    from caseframe.analysis.rating_suggestions import Evidence, RatingSuggestion
    from caseframe.model import Assessment


class AssessmentsMixin(ProfilesMixin):
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
        actor: str | None = None,
    ) -> list[Assessment]:
        """Record ratings of one site at one date, all or none.

        `note` applies to every rating, `notes` per component; `evidence` is coding ids (for all
        ratings, or per component). `suggested` keeps what caseframe proposed beside what the
        rater chose, so a changed proposal stays visible.
        """
        from caseframe.analysis.profiles import check_rating, rating_scale
        from caseframe.analysis.ratings import SUGGESTION_RATER, check_status, parse_date

        if not ratings:
            raise InvalidInput("no ratings given", hint="give at least one COMPONENT=RATING")
        check_status(status)
        day = parse_date(at or date.today(), "assessment date")
        fw = self.rating_framework(framework)
        scale = rating_scale(fw)
        per_comp: dict[str, list[int]] = {}
        if isinstance(evidence, Mapping):
            per_comp = {k.casefold(): list(v) for k, v in evidence.items()}
        ids: list[int] = []
        with self.writing(actor) as w:
            case = case_row(w.conn, site)
            for comp, value in ratings.items():
                crow = component_row(w.conn, comp, default_framework=fw.key)
                rating = check_rating(value, scale, crow.key)
                links = (
                    per_comp.get(comp.casefold(), [])
                    if isinstance(evidence, Mapping)
                    else list(evidence or [])
                )
                text = (notes or {}).get(comp, "") or note
                ids.append(
                    self._record(w, case, crow, rater, day, rating, text, status, links, replace)
                )
                if suggested and suggested.get(comp) is not None:
                    proposal = check_rating(suggested[comp], scale, crow.key)
                    reason = "accepted" if proposal == rating else f"changed to {rating}"
                    self._record(
                        w,
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
            saved = qa.by_ids(w.conn, ids)
        return saved

    def _record(
        self,
        w: Any,
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
        """Insert or (with `replace`) update one rating and its evidence, audited."""
        conn = w.conn
        rater_id = coder_row(conn, rater.strip(), create=True, kind=coder_kind).id
        links = sorted(set(int(e) for e in evidence))
        _check_evidence(conn, case, links)
        found = qa.existing(conn, case.id, component.id, rater_id, day, status)
        stamp = now()
        if found is not None and not replace:
            raise Conflict(
                f"{rater} already rated {component.key} of '{case.key}' on {day.isoformat()} "
                f"({found.rating})",
                hint="pass --replace to change it",
            )
        if found is not None:
            qa.update(conn, found.id, rating, note or "", stamp)
            assessment_id = found.id
        else:
            assessment_id = qa.insert(
                conn, case.id, component.id, rater_id, day, rating, note or "", status, stamp
            )
        qa.link_evidence(conn, assessment_id, links, replace=found is not None)
        after = {
            "site": case.key,
            "component": component.key,
            "rater": rater.strip(),
            "assessed_on": day,
            "rating": rating,
            "status": status,
            "note": note or "",
            "evidence": links,
        }
        before = {"rating": found.rating, "note": found.note} if found is not None else None
        w.audit("update" if found else "add", "assessment", assessment_id, before, after)
        return assessment_id

    def import_assessments(
        self,
        path: str | Path,
        rater: str | None = None,
        framework: str = "sis",
        replace: bool = False,
        *,
        actor: str | None = None,
    ) -> int:
        """Ratings of many sites from a CSV (site, component, rating, assessed_on, and rater,
        framework, note, evidence optional). Every row is checked; one bad row stores nothing."""
        from caseframe.analysis.profiles import check_rating, rating_scale
        from caseframe.analysis.ratings import (
            CSV_REQUIRED,
            IMPORT_STATUSES,
            check_status,
            coding_ids,
            parse_date,
        )
        from caseframe.util.csvfile import read_csv_rows

        header, rows = read_csv_rows(path, required=CSV_REQUIRED)
        if "rater" not in header and not rater:
            raise InvalidInput(
                "missing required column(s): rater",
                where=f"{path}:1",
                hint="add a rater column or pass --rater",
            )
        frameworks: dict[str, Any] = {}
        seen: dict[tuple, int] = {}
        stored = 0
        with self.writing(actor) as w:
            cases: dict[str, Any] = {}
            for line, row in rows:
                try:
                    fw_key = (row.get("framework") or framework).strip()
                    if fw_key.casefold() not in frameworks:
                        frameworks[fw_key.casefold()] = self.rating_framework(fw_key)
                    fw = frameworks[fw_key.casefold()]
                    site = row["site"]
                    if not site:
                        raise InvalidInput("empty site")
                    if site not in cases:
                        cases[site] = case_row(w.conn, site)
                    crow = component_row(w.conn, row["component"], default_framework=fw.key)
                    rating = check_rating(row["rating"], rating_scale(fw), crow.key)
                    day = parse_date(row["assessed_on"], "assessed_on")
                    who = (row.get("rater") or rater or "").strip()
                    if not who:
                        raise InvalidInput("empty rater", hint="fill the rater column")
                    status = check_status((row.get("status") or "rating").strip(), IMPORT_STATUSES)
                    key = (cases[site].id, crow.id, who, day, status)
                    if key in seen:
                        raise Conflict(f"the same rating appears twice (first on line {seen[key]})")
                    seen[key] = line
                    links = coding_ids(row.get("evidence", ""))
                    note = row.get("note", "")
                    self._record(
                        w, cases[site], crow, who, day, rating, note, status, links, replace
                    )
                    stored += 1
                except CaseframeError as exc:
                    raise type(exc)(
                        f"{exc.message.rstrip('.')}; nothing was stored",
                        where=f"{path}:{line}",
                        hint=exc.hint,
                    ) from None
        return stored

    def delete_assessments(
        self,
        site: str,
        at: str | date,
        rater: str | None = None,
        framework: str = "sis",
        *,
        actor: str | None = None,
    ) -> int:
        from caseframe.analysis.ratings import parse_date

        day = parse_date(at)
        with self.writing(actor) as w:
            case = case_row(w.conn, site)
            fw = framework_row(w.conn, framework)
            rater_id = coder_row(w.conn, rater).id if rater else None
            n = qa.delete_ratings(w.conn, case.id, day, fw.id, rater_id)
            what = {"site": case.key, "framework": fw.key, "assessed_on": day, "rater": rater}
            w.audit("delete", "assessment", None, {**what, "ratings": n}, None)
        return n

    # -- evidence and suggestions -------------------------------------------------------------

    def rating_evidence(self, site: str, framework: str = "sis") -> dict[str, list[Evidence]]:
        """Per component, the human codings at the site (its documents and those of the cases
        below it) whose code is the component's deductive code or an inductive code mapped to
        it, or a code below either."""
        from caseframe.analysis.rating_suggestions import Evidence
        from caseframe.analysis.ratings import evidence_codes

        with self.store.read() as conn:
            case = case_row(conn, site)
            fw = framework_row(conn, framework)
            comps = qa.component_keys(conn, fw.id)
            links = qa.code_component_links(conn, list(comps))
            code_comps = evidence_codes(links, comps, qa.code_parents(conn))
            subtree = _subtree(conn, case.id)
            doc_cases = qa.document_case_ids(conn)
            docs = [d for d, cs in doc_cases.items() if cs & subtree]
            keys = qa.case_keys_by_id(conn)
            rows = qa.human_codings_with_text(conn, docs, list(code_comps))
        out: dict[str, list[Evidence]] = {key: [] for key in comps.values()}
        for r in rows:
            who = tuple(sorted(keys[c] for c in doc_cases.get(r["document_id"], set()) & subtree))
            ev = Evidence(r["id"], r["code"], r["valence"], who, r["text"])
            for comp in sorted(code_comps[r["code_id"]]):
                out[comp].append(ev)
        return out

    def suggest_ratings(
        self, site: str, framework: str = "sis", components: Sequence[str] | None = None
    ) -> list[RatingSuggestion]:
        """A proposed rating per component with its reasons and evidence. Nothing is stored."""
        from caseframe.analysis.profiles import rating_scale
        from caseframe.analysis.rating_suggestions import propose_rating

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
        from caseframe.analysis.profiles import rating_scale
        from caseframe.analysis.rating_agreement import rating_agreement
        from caseframe.analysis.ratings import choose_raters, paired_ratings

        fw = self.rating_framework(framework)
        frame = self.assessments_frame(site=site, framework=fw.key, status="rating")
        chosen = choose_raters(frame, fw.key, raters)
        paired = paired_ratings(frame, chosen)
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
        *,
        actor: str | None = None,
    ) -> list[Assessment]:
        """Consensus ratings of a site at a date from its raters' ratings: where they agree the
        common value; where they differ a decision must be given. Evidence is pooled."""
        from caseframe.analysis.ratings import consensus_plan, parse_date

        fw = self.rating_framework(framework)
        day = parse_date(at, "assessment date")
        frame = self.assessments_frame(site=site, framework=fw.key, status="rating")
        frame = frame[frame["assessed_on"] == day]
        if frame.empty:
            raise NotFound(
                f"no ratings of '{site}' on {day.isoformat()}",
                hint="record them first with 'caseframe assess'",
            )
        plan = consensus_plan(frame, site, day, decisions, note)
        return self.assess(
            site,
            plan.ratings,
            rater=rater,
            at=day,
            framework=fw.key,
            notes=plan.notes,
            evidence=plan.evidence,
            status="consensus",
            replace=replace,
            actor=actor,
        )


# --------------------------------------------------------------------------- helpers


def _subtree(conn: Connection, case_id: int) -> set[int]:
    """The case and every case below it."""
    children = tree.children_of(qa.case_parents(conn))
    return {case_id, *tree.descendants(case_id, children)}


def _check_evidence(conn: Connection, case: Any, coding_ids: list[int]) -> None:
    """Evidence must be existing codings of documents at the site (or above or below it)."""
    if not coding_ids:
        return
    parents = qa.case_parents(conn)
    related = _subtree(conn, case.id) | set(tree.ancestors(case.id, parents))
    found = qa.coding_documents(conn, coding_ids)
    doc_cases = qa.document_case_ids(conn)
    for coding_id in coding_ids:
        if coding_id not in found:
            raise NotFound(f"unknown coding {coding_id}", hint="list them with 'codings list'")
        if not doc_cases.get(found[coding_id], set()) & related:
            raise InvalidInput(
                f"coding {coding_id} is not from a document of site '{case.key}'",
                hint="link evidence from the site's own documents",
            )
