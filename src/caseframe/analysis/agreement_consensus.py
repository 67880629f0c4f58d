"""Where coders differ, and how a consensus coder is made from their codings.

* :func:`disagreements`: per code, the units where the coders who saw the unit did not decide
  alike (the list a consensus meeting works through);
* :func:`consensus`: a consensus coder by a rule (unanimous, majority, union);
* :func:`meeting_items` and :func:`resolution`: the consensus meeting unit by unit: each item
  is a unit with the codes the coders differ on and the codes they agree on; a resolution
  (accept one coder's codes, both, neither, or another code) gives the consensus codes there.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from caseframe.analysis.agreement_matrix import CodingMatrix, check_agreement_input
from caseframe.errors import InvalidInput


@dataclass(frozen=True)
class Disagreement:
    code: str
    unit: str
    document: str | None
    text: str | None
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]


def disagreements(matrix: CodingMatrix, codes: Sequence[str] | None = None) -> list[Disagreement]:
    """Per code, the units where the coders who saw the unit did not all decide alike."""
    check_agreement_input(matrix)
    if codes is not None:
        matrix = matrix.select(codes=codes)
    seen = matrix.seen
    r = (matrix.applied & seen[:, :, None]).sum(axis=1)
    m = seen.sum(axis=1)[:, None]
    split = (r > 0) & (r < m)
    out: list[Disagreement] = []
    for j, code in enumerate(matrix.codes):
        for u in np.nonzero(split[:, j])[0]:
            unit = matrix.units[u]
            yes = tuple(c for i, c in enumerate(matrix.coders) if matrix.applied[u, i, j])
            no = tuple(
                c for i, c in enumerate(matrix.coders) if seen[u, i] and not matrix.applied[u, i, j]
            )
            out.append(Disagreement(code, unit.id, unit.document, unit.text, yes, no))
    return out


Rule = Literal["unanimous", "majority", "union"]
RULES = ("unanimous", "majority", "union")


@dataclass(frozen=True)
class Unresolved:
    code: str
    unit: str
    document: str | None
    text: str | None
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]
    reason: str


def consensus(
    matrix: CodingMatrix, coders: Sequence[str] | None = None, rule: Rule = "majority"
) -> tuple[dict[tuple[str, str], bool], list[Unresolved]]:
    """A consensus coder from several coders' decisions.

    * ``unanimous``: decided where every coder who saw the unit agrees (applied or not);
    * ``majority``: decided by more than half of the coders who saw the unit; ties unresolved;
    * ``union``: applied when any coder applied it, else not applied.

    Units seen by none of the coders, and (for unanimous/majority) units seen by only one coder,
    are unresolved: one coder's decision is not a consensus. Returns ({(unit id, code): applied},
    unresolved units listed for manual resolution).
    """
    if rule not in RULES:
        raise InvalidInput(
            f"unknown consensus rule '{rule}'", hint=f"use one of {', '.join(RULES)}"
        )
    sub = matrix.select(coders=coders)
    check_agreement_input(sub)
    seen = sub.seen
    m = seen.sum(axis=1)[:, None]
    r = (sub.applied & seen[:, :, None]).sum(axis=1)
    if rule == "union":
        settled = np.broadcast_to(m >= 1, r.shape)
        value = r > 0
    elif rule == "unanimous":
        settled = (m >= 2) & ((r == 0) | (r == m))
        value = r == m
    else:
        settled = (m >= 2) & (2 * r != m)
        value = 2 * r > m
    decided: dict[tuple[str, str], bool] = {}
    unresolved: list[Unresolved] = []
    for u, unit in enumerate(sub.units):
        for j, code in enumerate(sub.codes):
            if settled[u, j]:
                decided[(unit.id, code)] = bool(value[u, j])
                continue
            n_seen = int(m[u, 0])
            if n_seen == 0:
                reason = "no chosen coder saw this unit"
            elif n_seen == 1:
                reason = "only one chosen coder saw this unit"
            elif rule == "majority":
                reason = "tie"
            else:
                reason = "coders disagree"
            yes = tuple(c for i, c in enumerate(sub.coders) if sub.applied[u, i, j])
            no = tuple(
                c for i, c in enumerate(sub.coders) if seen[u, i] and not sub.applied[u, i, j]
            )
            unresolved.append(Unresolved(code, unit.id, unit.document, unit.text, yes, no, reason))
    return decided, unresolved


# --------------------------------------------------------------------------- the meeting

ACTIONS = ("accept", "both", "neither", "other")


@dataclass(frozen=True)
class MeetingItem:
    """One unit to settle: what each coder applied, which codes are disputed or agreed."""

    position: int  # index into the matrix's units
    unit: str
    document: str | None
    text: str | None
    disputed: tuple[str, ...]  # applied by some, not all, of the coders who coded the unit
    agreed: tuple[str, ...]  # applied by every coder who coded the unit
    by_coder: dict[str, tuple[str, ...]]  # coder -> the codes they applied here
    not_coded_by: tuple[str, ...]  # selected coders who did not code this unit


def _item(matrix: CodingMatrix, u: int) -> MeetingItem:
    seen = matrix.seen[u]
    m = int(seen.sum())
    r = (matrix.applied[u] & seen[:, None]).sum(axis=0)  # [C]
    by_coder = {
        c: tuple(matrix.codes[j] for j in np.nonzero(matrix.applied[u, i])[0])
        for i, c in enumerate(matrix.coders)
        if seen[i]
    }
    split = (r > 0) & (r < m) & (m >= 2)
    together = (r == m) & (m >= 2)
    unit = matrix.units[u]
    return MeetingItem(
        int(u),
        unit.id,
        unit.document,
        unit.text,
        tuple(matrix.codes[j] for j in np.nonzero(split)[0]),
        tuple(matrix.codes[j] for j in np.nonzero(together)[0]),
        by_coder,
        tuple(c for i, c in enumerate(matrix.coders) if not seen[i]),
    )


def item_at(matrix: CodingMatrix, position: int) -> MeetingItem:
    """The meeting item of one unit (its disputed codes may be none)."""
    return _item(matrix, position)


def meeting_items(matrix: CodingMatrix) -> list[MeetingItem]:
    """The units (in matrix order) where two or more coders coded and differ on some code."""
    check_agreement_input(matrix)
    seen = matrix.seen
    m = seen.sum(axis=1)
    r = (matrix.applied & seen[:, :, None]).sum(axis=1)  # [U, C]
    split = (r > 0) & (r < m[:, None]) & (m[:, None] >= 2)
    # what _item gives per unit, worked out for all chosen units at once: per unit numpy calls
    # cost seconds on a project with 50,000 disputed units. The new objects hold no reference
    # cycles, so the cyclic collector is paused while they are made (its repeated walks over
    # them cost more than making them).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _items(matrix, seen, r, m, split)
    finally:
        if paused:
            gc.enable()


def _items(matrix: CodingMatrix, seen, r, m, split) -> list[MeetingItem]:
    chosen = np.nonzero(split.any(axis=1))[0]
    together = (r == m[:, None]) & (m[:, None] >= 2)
    codes, coders = matrix.codes, matrix.coders
    disputed = _per_unit(chosen, split[chosen], codes)
    agreed = _per_unit(chosen, together[chosen], codes)
    sub_seen = seen[chosen]
    applied = matrix.applied[chosen]  # [n, K, C]
    by: dict[tuple[int, int], list[str]] = {}
    for n, k, j in zip(*(a.tolist() for a in np.nonzero(applied)), strict=True):
        by.setdefault((n, k), []).append(codes[j])
    items = []
    for n, u in enumerate(chosen.tolist()):
        unit = matrix.units[u]
        row_seen = sub_seen[n].tolist()
        items.append(
            MeetingItem(
                u,
                unit.id,
                unit.document,
                unit.text,
                disputed.get(u, ()),
                agreed.get(u, ()),
                {c: tuple(by.get((n, i), ())) for i, c in enumerate(coders) if row_seen[i]},
                tuple(c for i, c in enumerate(coders) if not row_seen[i]),
            )
        )
    return items


def _per_unit(units: np.ndarray, flags: np.ndarray, codes: list[str]) -> dict[int, tuple]:
    """unit -> the codes flagged for it, in code order."""
    out: dict[int, list[str]] = {}
    for n, j in zip(*(a.tolist() for a in np.nonzero(flags)), strict=True):
        out.setdefault(int(units[n]), []).append(codes[j])
    return {u: tuple(v) for u, v in out.items()}


def resolution(
    item: MeetingItem, action: str, coder: str | None = None, other: str | None = None
) -> dict[str, bool]:
    """code -> applied in the consensus, for every code the decision covers.

    ``accept`` takes `coder`'s codes, ``both`` every code anyone applied, ``neither`` only the
    codes all agreed on, ``other`` the agreed codes and `other` instead of the disputed ones.
    """
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown resolution '{action}'", hint=f"use one of {', '.join(ACTIONS)}"
        )
    if action == "accept":
        if coder not in item.by_coder:
            known = ", ".join(item.by_coder) or "none"
            raise InvalidInput(
                f"'{coder}' did not code unit {item.unit}", hint=f"accept one of: {known}"
            )
        chosen = set(item.by_coder[coder])
    elif action == "both":
        chosen = set(item.agreed) | set(item.disputed)
    elif action == "neither":
        chosen = set(item.agreed)
    else:
        if not other:
            raise InvalidInput("name the other code", hint="choose a code for 'another code'")
        chosen = set(item.agreed) | {other}
    scope = list(dict.fromkeys([*item.agreed, *item.disputed, *([other] if other else [])]))
    return {code: code in chosen for code in scope}


# --------------------------------------------------------------------------- unit lists

UNIT_COLUMNS = [
    "code",
    "unit",
    "document",
    "start",
    "end",
    "text",
    "applied_by",
    "not_applied_by",
    "reason",
    "decision",
]


def unit_frame_rows(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=UNIT_COLUMNS)


def unit_list(units: pd.DataFrame, matrix: CodingMatrix, items: list) -> pd.DataFrame:
    """Disagreements or unresolved units as a table with an empty `decision` column."""
    pos = {u.id: i for i, u in enumerate(matrix.units)}
    records = []
    for x in items:
        i = pos[x.unit]
        records.append(
            {
                "code": x.code,
                "unit": x.unit,
                "document": x.document,
                "start": int(units["start"].iat[i]),
                "end": int(units["end"].iat[i]),
                "text": x.text,
                "applied_by": ", ".join(x.applied_by),
                "not_applied_by": ", ".join(x.not_applied_by),
                "reason": getattr(x, "reason", "coders disagree"),
                "decision": "",
            }
        )
    return unit_frame_rows(records)
