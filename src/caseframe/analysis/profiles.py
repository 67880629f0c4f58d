"""Site sustainability profiles from component ratings (SIS and any framework with a scale).

Pure functions: the API gathers the ratings and the case tree, this module scores them, finds
what is missing or weak, what changed since the previous assessment and which risks to name,
and builds the cross-site views (site × component heatmap, level scores by group, ranking).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from caseframe.errors import InvalidInput
from caseframe.model import Framework, Scale

# What is at stake when an SIS component is absent or weak, as a noun phrase that reads after
# "no ..." and before "... only partly in place". Caseframe's own wording; a project may
# override any of them (Project.set_profile_wording).
SIS_RISKS: dict[str, str] = {
    "O1": "assessment of whether the target group needs the model",
    "O2": "first-hand experience of the model in the organisation",
    "O3": "legitimacy for the model among leaders and policy makers",
    "O4": "defined role and place for the model in the organisation",
    "O5": "shared expectation that the model is to be implemented",
    "O6": "tradition of collaboration across organisations and professions",
    "O7": "active engagement of senior and middle managers",
    "O8": "local champion driving the work",
    "O9": "access to external expertise",
    "O10": "financial strategy beyond the project end",
    "O11": "steering group with a mandate",
    "O12": "formal agreements with the partners the model depends on",
    "T1": "deliberate recruitment of staff for the model",
    "T2": "continuity among staff (handover and induction routines)",
    "T3": "available first-line leader with mandate and time",
    "T4": "day-to-day collaboration with partner agencies",
    "T5": "strategy to inform referrers, colleagues and users",
    "T6": "feedback of results to the funders",
    "T7": "initial training in the model",
    "C1": "continuing training and induction of new staff",
    "C2": "supervision for the staff who deliver the model",
    "C3": "recurrent fidelity assessment",
    "C4": "scheduled time for reflection",
    "C5": "administrative support",
}

# The questions the seed study's managers asked (funding, supervision, role definition, staff
# training): shown first in every SIS profile, as a plain in place / partly / not in place.
SIS_KEY_QUESTIONS: dict[str, str] = {
    "O10": "Is there funding after the project ends?",
    "C2": "Is there supervision?",
    "O4": "Is the role defined and fitted into the organisation?",
    "T7": "Were staff trained in the model?",
    "C1": "Does training continue (new staff, boosters)?",
}


@dataclass(frozen=True)
class LevelScore:
    level: str
    score: float  # sum of the rated components' ratings
    maximum: int  # the level's published maximum (components × scale maximum)
    rated: int
    components: int

    @property
    def complete(self) -> bool:
        return self.rated == self.components

    @property
    def share(self) -> float:
        return self.score / self.maximum if self.maximum else 0.0


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    name: str
    level: str
    rating: float | None  # None: not rated at this time point
    previous: float | None = None
    state: str = "not rated"  # absent | weak | partial | strong | full | not rated
    disputed: bool = False  # two raters disagree and no consensus is recorded
    note: str = ""
    evidence: tuple[int, ...] = ()  # coding ids the raters linked

    @property
    def change(self) -> float | None:
        if self.rating is None or self.previous is None:
            return None
        return self.rating - self.previous


@dataclass
class SiteProfile:
    site: str
    label: str
    framework: str
    assessed_on: date
    previous_on: date | None
    levels: list[LevelScore]
    total: float
    total_max: int
    components: list[ComponentStatus]
    raters: list[str]
    groups: dict[str, str] = field(default_factory=dict)  # e.g. region: A, setting: ...
    risks: list[str] = field(default_factory=list)
    key_questions: list[tuple[str, str, str]] = field(default_factory=list)  # (q, comp, answer)
    previous_levels: list[LevelScore] = field(default_factory=list)
    previous_total: float | None = None

    @property
    def rated(self) -> int:
        return sum(1 for c in self.components if c.rating is not None)

    @property
    def complete(self) -> bool:
        return self.rated == len(self.components)

    @property
    def missing(self) -> list[ComponentStatus]:
        return [c for c in self.components if c.state in ("absent", "not rated")]

    @property
    def weak(self) -> list[ComponentStatus]:
        return [c for c in self.components if c.state == "weak"]

    @property
    def total_change(self) -> float | None:
        return None if self.previous_total is None else self.total - self.previous_total

    def to_dict(self) -> dict:
        return {
            "site": self.site,
            "label": self.label,
            "framework": self.framework,
            "assessed_on": self.assessed_on.isoformat(),
            "previous_on": self.previous_on.isoformat() if self.previous_on else None,
            "levels": [
                {
                    "level": lv.level,
                    "score": lv.score,
                    "max": lv.maximum,
                    "rated": lv.rated,
                    "components": lv.components,
                }
                for lv in self.levels
            ],
            "total": self.total,
            "total_max": self.total_max,
            "total_change": self.total_change,
            "complete": self.complete,
            "missing": [c.component for c in self.missing],  # absent or not rated
            "absent": [c.component for c in self.components if c.state == "absent"],
            "not_rated": [c.component for c in self.components if c.state == "not rated"],
            "weak": [c.component for c in self.weak],
            "changes": {
                c.component: c.change for c in self.components if c.change not in (None, 0)
            },
            "risks": list(self.risks),
            "key_questions": [
                {"question": q, "component": comp, "answer": a} for q, comp, a in self.key_questions
            ],
            "raters": list(self.raters),
            "groups": dict(self.groups),
        }


# --------------------------------------------------------------------------- validation


def check_rating(value: object, scale: Scale, component: str = "") -> int:
    """The one validation of a rating: a whole number on the framework's scale."""
    what = f"rating '{value}'" + (f" for {component}" if component else "")
    if isinstance(value, bool):
        raise InvalidInput(f"{what} is not a whole number")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(
                f"{what} is not a whole number",
                hint=f"use {scale.minimum}–{scale.maximum}",
            ) from None
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidInput(
                f"{what} is not a whole number", hint=f"use {scale.minimum}–{scale.maximum}"
            )
        value = int(value)
    if not isinstance(value, int):
        raise InvalidInput(f"{what} is not a whole number")
    if not scale.minimum <= value <= scale.maximum:
        anchors = "; ".join(f"{k} {v}" for k, v in sorted(scale.anchors.items()))
        raise InvalidInput(
            f"{what} is outside the scale {scale.minimum}–{scale.maximum}",
            hint=f"use {anchors}" if anchors else f"use {scale.minimum}–{scale.maximum}",
        )
    return value


def rating_scale(fw: Framework) -> Scale:
    if fw.scale is None:
        raise InvalidInput(
            f"framework '{fw.key}' has no rating scale",
            hint="rate a framework whose file has a scale section (e.g. sis)",
        )
    return fw.scale


def level_maximum(fw: Framework, level: str) -> int:
    """The published maximum, checked against components × scale maximum."""
    scale = rating_scale(fw)
    count = sum(1 for c in fw.components if c.level == level)
    expected = count * scale.maximum
    published = fw.level_maxima.get(level, expected)
    if published != expected:  # the loader refuses such files; a hand-made Framework might not
        raise InvalidInput(
            f"level '{level}' of '{fw.key}' has maximum {published}, but {count} components × "
            f"{scale.maximum} = {expected}"
        )
    return published


# --------------------------------------------------------------------------- scoring


def state_of(rating: float | None, scale: Scale) -> str:
    """Where a rating sits on the scale: absent (the minimum), weak (up to a third of the
    range: SIS 1 "partly"), partial (below two thirds), strong (SIS 2 "largely"), full (the
    maximum)."""
    if rating is None or (isinstance(rating, float) and math.isnan(rating)):
        return "not rated"
    span = scale.maximum - scale.minimum
    if rating <= scale.minimum:
        return "absent"
    if rating >= scale.maximum:
        return "full"
    position = (rating - scale.minimum) / span
    if position <= 1 / 3 + 1e-9:
        return "weak"
    if position < 2 / 3 - 1e-9:
        return "partial"
    return "strong"


def score_levels(
    fw: Framework, ratings: Mapping[str, float | None]
) -> tuple[list[LevelScore], float, int]:
    """Level scores, total and total maximum; unrated components add nothing.

    Every rating must be on the scale and every key a component of the framework, so no level
    score can pass its maximum and the total is the sum of the levels.
    """
    scale = rating_scale(fw)
    known = {c.key for c in fw.components}
    for key, value in ratings.items():
        if key not in known:
            raise InvalidInput(f"unknown component '{key}' in framework '{fw.key}'")
        if value is not None and not scale.minimum <= value <= scale.maximum:
            raise InvalidInput(f"rating {value} for {key} is outside the scale")
    levels = []
    for level in fw.levels:
        members = [c.key for c in fw.components if c.level == level]
        values = [ratings[k] for k in members if ratings.get(k) is not None]
        score = float(sum(values))
        maximum = level_maximum(fw, level)
        if score > maximum + 1e-9:  # impossible after the checks above; guards the invariant
            raise InvalidInput(f"level '{level}' scores {score}, above its maximum {maximum}")
        levels.append(LevelScore(level, score, maximum, len(values), len(members)))
    total = float(sum(lv.score for lv in levels))
    total_max = sum(lv.maximum for lv in levels)
    return levels, total, total_max


# --------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class Resolved:
    rating: float | None
    disputed: bool
    raters: tuple[str, ...]
    note: str
    evidence: tuple[int, ...]


def resolve_ratings(rows: pd.DataFrame) -> dict[str, Resolved]:
    """One rating per component from one site's rows at one date.

    A consensus rating wins; otherwise one rater's rating; with several raters and no consensus,
    their mean, marked as disputed when they differ. Suggestions never count.
    """
    # plain records: a few hundred rows, where per-component DataFrame filtering costs ~1 ms each
    by_component: dict[str, list[dict]] = {}
    for r in rows[["component", "status", "rating", "note", "evidence", "rater"]].to_dict(
        "records"
    ):
        by_component.setdefault(str(r["component"]), []).append(r)
    out: dict[str, Resolved] = {}
    for comp, group in by_component.items():
        chosen = [r for r in group if r["status"] == "consensus"] or [
            r for r in group if r["status"] == "rating"
        ]
        values = [
            float(r["rating"])
            for r in chosen
            if r["rating"] is not None and not pd.isna(r["rating"])
        ]
        if not values:
            continue
        out[comp] = Resolved(
            rating=sum(values) / len(values),
            disputed=len(set(values)) > 1,
            raters=tuple(sorted({r["rater"] for r in chosen})),
            note="; ".join(r["note"] for r in chosen if r["note"]),
            evidence=tuple(sorted({int(e) for r in chosen for e in r["evidence"]})),
        )
    return out


# --------------------------------------------------------------------------- profiles


def build_profile(
    fw: Framework,
    site: str,
    label: str,
    current: Mapping[str, Resolved],
    assessed_on: date,
    previous: Mapping[str, Resolved] | None = None,
    previous_on: date | None = None,
    risks: Mapping[str, str] | None = None,
    key_questions: Mapping[str, str] | None = None,
    groups: Mapping[str, str] | None = None,
) -> SiteProfile:
    scale = rating_scale(fw)
    risks = SIS_RISKS if risks is None and fw.key == "sis" else (risks or {})
    key_questions = (
        SIS_KEY_QUESTIONS if key_questions is None and fw.key == "sis" else (key_questions or {})
    )
    previous = previous or {}
    ratings = {k: r.rating for k, r in current.items()}
    levels, total, total_max = score_levels(fw, ratings)
    prev_levels: list[LevelScore] = []
    prev_total = None
    if previous_on is not None:
        prev_levels, prev_total, _ = score_levels(fw, {k: r.rating for k, r in previous.items()})
    components = []
    for c in fw.components:
        res = current.get(c.key)
        rating = res.rating if res else None
        before = previous.get(c.key)
        components.append(
            ComponentStatus(
                component=c.key,
                name=c.name,
                level=c.level,
                rating=rating,
                previous=before.rating if before else None,
                state=state_of(rating, scale),
                disputed=bool(res and res.disputed),
                note=res.note if res else "",
                evidence=res.evidence if res else (),
            )
        )
    raters = sorted({r for res in current.values() for r in res.raters})
    profile = SiteProfile(
        site=site,
        label=label,
        framework=fw.key,
        assessed_on=assessed_on,
        previous_on=previous_on,
        levels=levels,
        total=total,
        total_max=total_max,
        components=components,
        raters=raters,
        groups=dict(groups or {}),
        previous_levels=prev_levels,
        previous_total=prev_total,
    )
    profile.risks = risk_statements(profile, scale, risks)
    profile.key_questions = [
        (question, comp, answer_of(profile, comp)) for comp, question in key_questions.items()
    ]
    return profile


def answer_of(profile: SiteProfile, component: str) -> str:
    for c in profile.components:
        if c.component == component:
            return {
                "absent": "no",
                "weak": "partly",
                "partial": "about half",
                "strong": "largely",
                "full": "yes",
            }.get(c.state, "not rated")
    return "not rated"


def risk_statements(profile: SiteProfile, scale: Scale, wording: Mapping[str, str]) -> list[str]:
    """Risks in plain words: absent components first, then weak ones, then what got worse."""
    absent, weak, worse = [], [], []
    for c in profile.components:
        phrase = wording.get(c.component) or c.name[0].lower() + c.name[1:]
        if c.state == "absent":
            absent.append(f"no {phrase} ({c.component})")
        elif c.state == "weak":
            weak.append(f"{phrase[0].upper()}{phrase[1:]} only partly in place ({c.component})")
        if c.change is not None and c.change < 0:
            worse.append(
                f"{c.name} ({c.component}) fell from {_num(c.previous)} to {_num(c.rating)} "
                f"since {profile.previous_on.isoformat() if profile.previous_on else 'before'}"
            )
    out = [s[0].upper() + s[1:] for s in absent] + weak + worse
    if not profile.complete:
        out.append(
            f"{len(profile.components) - profile.rated} of {len(profile.components)} components "
            "not rated: the scores are incomplete"
        )
    disputed = [c.component for c in profile.components if c.disputed]
    if disputed:
        out.append(f"Raters disagree and no consensus is recorded on {', '.join(disputed)}")
    return out


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


# --------------------------------------------------------------------------- across sites


def heatmap_frame(profiles: Sequence[SiteProfile], fw: Framework) -> pd.DataFrame:
    """Sites (rows, in the given order) × components (columns), the current ratings."""
    keys = [c.key for c in fw.components]
    data = {
        p.site: {c.component: c.rating for c in p.components if c.component in keys}
        for p in profiles
    }
    return pd.DataFrame.from_dict(data, orient="index", columns=keys, dtype=float)


def ranking_frame(profiles: Sequence[SiteProfile]) -> pd.DataFrame:
    """Sites ranked by total (highest first; ties share the rank and keep key order)."""
    records = [
        {
            "site": p.site,
            "label": p.label,
            "assessed_on": p.assessed_on,
            **{lv.level: lv.score for lv in p.levels},
            "total": p.total,
            "total_max": p.total_max,
            "rated": p.rated,
            "change": p.total_change,
        }
        for p in profiles
    ]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    frame = frame.sort_values(["total", "site"], ascending=[False, True], kind="stable")
    frame.insert(0, "rank", frame["total"].rank(method="min", ascending=False).astype(int))
    return frame.reset_index(drop=True)


def group_scores(profiles: Sequence[SiteProfile], by: str, fw: Framework) -> pd.DataFrame:
    """Mean level and total scores per value of one grouping (a region, a setting)."""
    records = []
    for p in profiles:
        value = p.groups.get(by)
        if value in (None, ""):
            continue
        records.append(
            {"group": value, **{lv.level: lv.score for lv in p.levels}, "total": p.total}
        )
    columns = ["group", "sites", *fw.levels, "total"]
    if not records:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame.from_records(records)
    out = frame.groupby("group", sort=True).mean(numeric_only=True)
    out.insert(0, "sites", frame.groupby("group", sort=True).size())
    return out.reset_index()[columns]


# Rating agreement lives in its own module; these names stay importable from here.
from caseframe.analysis.rating_agreement import (  # noqa: E402
    RatingAgreement,
    ordinal_alpha,
    rating_agreement,
    weighted_kappa,
)

__all__ = [
    "SIS_KEY_QUESTIONS",
    "SIS_RISKS",
    "ComponentStatus",
    "LevelScore",
    "RatingAgreement",
    "Resolved",
    "SiteProfile",
    "build_profile",
    "check_rating",
    "group_scores",
    "heatmap_frame",
    "ordinal_alpha",
    "ranking_frame",
    "rating_agreement",
    "rating_scale",
    "resolve_ratings",
    "score_levels",
    "state_of",
    "weighted_kappa",
]
