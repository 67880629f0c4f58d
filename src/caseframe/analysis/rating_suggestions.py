"""Proposed component ratings from a site's coded, valenced evidence — with their reasons.

A proposal is a starting point for a rater, never a rating: the API stores it only when a rater
accepts or changes it. The rule is deliberately simple so that a rater can check it by hand:

1. Evidence is every human coding at the site whose code is the component's deductive code, or
   an inductive code mapped to it (or below such a code).
2. No evidence, or evidence without valence: no proposal. Silence in the interviews says nothing
   about whether a component is in place.
3. Otherwise the favourable share p = (facilitators + ½ mixed) / valenced codings is placed on
   the scale: rating = minimum + p × (maximum − minimum), rounded half *down* (a tie claims less).
4. The top of the scale needs at least two respondents who describe the component as in place;
   one voice alone is capped one step below.

Valence is how a passage bears on implementation; taking it as evidence of presence (a barrier
quote on funding says the funding is missing) is the heuristic the rater is asked to judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from caseframe.model import Scale


@dataclass(frozen=True)
class Evidence:
    coding_id: int
    code: str
    valence: str | None
    respondents: tuple[str, ...]  # case keys of the coded document
    text: str = ""


@dataclass
class RatingSuggestion:
    site: str
    component: str
    name: str
    level: str
    rating: int | None
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def evidence_ids(self) -> list[int]:
        return [e.coding_id for e in self.evidence]

    def to_dict(self) -> dict:
        return {
            "site": self.site,
            "component": self.component,
            "name": self.name,
            "level": self.level,
            "rating": self.rating,
            "reasons": list(self.reasons),
            "evidence": [
                {
                    "coding": e.coding_id,
                    "code": e.code,
                    "valence": e.valence,
                    "respondents": list(e.respondents),
                    "text": e.text,
                }
                for e in self.evidence
            ],
        }


def _round_half_down(x: float) -> int:
    return math.ceil(x - 0.5)


def _who(keys: set[str]) -> str:
    return ", ".join(sorted(keys)) if keys else "no linked respondent"


def propose_rating(
    site: str,
    component: str,
    name: str,
    level: str,
    evidence: Sequence[Evidence],
    scale: Scale,
) -> RatingSuggestion:
    suggestion = RatingSuggestion(site, component, name, level, None, [], list(evidence))
    if not evidence:
        suggestion.reasons.append(
            "no coded passage at this site bears on it; rate it from other sources"
        )
        return suggestion
    fac = [e for e in evidence if e.valence == "facilitator"]
    bar = [e for e in evidence if e.valence == "barrier"]
    mix = [e for e in evidence if e.valence == "mixed"]
    valenced = len(fac) + len(bar) + len(mix)
    everyone = {k for e in evidence for k in e.respondents}
    suggestion.reasons.append(
        f"{len(evidence)} coded passage(s) from {_who(everyone)}: {len(fac)} facilitator, "
        f"{len(bar)} barrier, {len(mix)} mixed, {len(evidence) - valenced} without valence"
    )
    if valenced == 0:
        suggestion.reasons.append(
            "the passages carry no valence, so they do not show whether it is in place"
        )
        return suggestion
    share = (len(fac) + 0.5 * len(mix)) / valenced
    span = scale.maximum - scale.minimum
    rating = scale.minimum + _round_half_down(share * span)
    label = scale.anchors.get(rating, str(rating))
    suggestion.reasons.append(
        f"favourable share {share:.2f} on the {scale.minimum}–{scale.maximum} scale gives "
        f"{rating} ({label})"
    )
    supporters = {k for e in fac for k in e.respondents}
    if rating == scale.maximum and len(supporters) < 2:
        rating = scale.maximum - 1
        suggestion.reasons.append(
            f"capped at {rating} ({scale.anchors.get(rating, rating)}): only "
            f"{_who(supporters)} describes it as in place; the top needs two respondents"
        )
    suggestion.rating = rating
    return suggestion
