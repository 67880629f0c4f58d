"""Rules for recording component ratings: the date format, evidence lists, which codes are a
component's evidence, pairing two raters, and how a consensus is drawn from the raters' ratings.
Pure functions; the API reads and writes the store around them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from caseframe.errors import InvalidInput, NotFound
from caseframe.util.names import closest

STATUSES = ("rating", "suggested", "consensus")
IMPORT_STATUSES = ("rating", "consensus")
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


def coding_ids(text: str) -> list[int]:
    """Coding ids from a CSV cell: "12;15", "12, 15" or "12 15"."""
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


def check_status(status: str, allowed: Sequence[str] = STATUSES) -> str:
    if status not in allowed:
        words = ", ".join(allowed) if len(allowed) > 2 else " or ".join(allowed)
        raise InvalidInput(f"unknown status '{status}'", hint=f"use {words}")
    return status


def ratings_frame(rows: list[dict], framework: str) -> pd.DataFrame:
    """Rows from the store as the assessments table (ASSESSMENT_COLUMNS)."""
    return pd.DataFrame.from_records(
        [{**r, "framework": framework} for r in rows], columns=ASSESSMENT_COLUMNS
    )


def evidence_codes(
    links: Iterable[tuple[int, int]],
    components: Mapping[int, str],
    parents: Mapping[int, int | None],
) -> dict[int, set[str]]:
    """{code id: the component keys it is evidence for}: a component's deductive codes and the
    codes mapped to it, and every code below those (a mapped category lends its components to
    the codes inside it)."""
    out: dict[int, set[str]] = {}
    for code_id, comp_id in links:
        out.setdefault(code_id, set()).add(components[comp_id])
    children: dict[int, list[int]] = {}
    for cid, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    frontier = list(out)
    while frontier:
        nxt = []
        for parent in frontier:
            for child in children.get(parent, []):
                before = len(out.get(child, set()))
                out.setdefault(child, set()).update(out[parent])
                if len(out[child]) > before:
                    nxt.append(child)
        frontier = nxt
    return out


def choose_raters(frame: pd.DataFrame, framework: str, raters: Sequence[str] | None) -> tuple:
    """The two raters to compare: those named, or the only two there are."""
    present = sorted(set(frame["rater"]))
    if raters:
        if len(raters) != 2:
            raise InvalidInput("rating agreement compares exactly two raters")
        for r in raters:
            if r not in present:
                near = closest(r, present)
                guess = (
                    ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
                )
                raise NotFound(
                    f"rater '{r}' has no {framework} ratings",
                    hint=f"{guess}raters: {', '.join(present) or 'none'}",
                )
        return tuple(raters)
    if len(present) == 2:
        return (present[0], present[1])
    raise InvalidInput(
        f"rating agreement needs two raters; there are {len(present)}"
        + (f" ({', '.join(present)})" if present else ""),
        hint="name two with --rater A --rater B" if len(present) > 2 else None,
    )


def paired_ratings(frame: pd.DataFrame, chosen: tuple[str, str]) -> pd.DataFrame:
    """One row per site, date and component both raters rated: the ratings as a and b."""
    keys = ["site", "assessed_on", "component"]
    a = frame[frame["rater"] == chosen[0]][[*keys, "rating"]].rename(columns={"rating": "a"})
    b = frame[frame["rater"] == chosen[1]][[*keys, "rating"]].rename(columns={"rating": "b"})
    paired = a.merge(b, on=keys, how="inner")
    if paired.empty:
        raise InvalidInput(
            f"'{chosen[0]}' and '{chosen[1]}' rated no component of the same site on the same date",
            hint="both raters must use the same --at date",
        )
    return paired


@dataclass
class ConsensusPlan:
    ratings: dict[str, int | str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, list[int]] = field(default_factory=dict)


def consensus_plan(
    frame: pd.DataFrame,
    site: str,
    day: date,
    decisions: Mapping[str, int | str] | None,
    note: str = "",
) -> ConsensusPlan:
    """Consensus ratings from the raters' ratings of one site on one date: where they agree
    the common value, where they differ the decision given (else an error naming every open
    component). Evidence is pooled."""
    decided = {k.casefold(): v for k, v in (decisions or {}).items()}
    plan = ConsensusPlan()
    open_items = []
    for comp, group in frame.groupby("component", sort=False):
        values = sorted(set(int(v) for v in group["rating"]))
        given = "; ".join(f"{r} {v}" for r, v in zip(group["rater"], group["rating"], strict=True))
        if str(comp).casefold() in decided:
            plan.ratings[str(comp)] = decided[str(comp).casefold()]
            plan.notes[str(comp)] = note or f"decided after {given}"
        elif len(values) == 1:
            plan.ratings[str(comp)] = values[0]
            plan.notes[str(comp)] = note or f"raters agree ({given})"
        else:
            open_items.append(f"{comp} ({given})")
        plan.evidence[str(comp)] = sorted({e for ev in group["evidence"] for e in ev})
    for comp in decided:
        if comp not in {str(c).casefold() for c in frame["component"]}:
            raise InvalidInput(f"no rater rated {comp.upper()} of '{site}' on {day}")
    if open_items:
        raise InvalidInput(
            f"the raters differ on {', '.join(open_items)}",
            hint="decide each with --decide COMPONENT=RATING",
        )
    return plan
