"""The study's Table 1: cases per region, with respondents, services and counts by an attribute."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

_NUMBER_WORDS = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six"}


@dataclass
class CaseTable:
    by: str | None
    values: list[str]
    frame: pd.DataFrame  # one row per group, plus a final "Total" row
    notes: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "by": self.by,
            "values": self.values,
            "rows": self.frame.to_dict(orient="records"),
            "notes": self.notes,
        }


def build_case_table(
    frame: pd.DataFrame,
    by: str | None,
    group_kind: str,
    unit_kind: str,
    site_kind: str,
    own_notes: dict[str, str],
) -> CaseTable:
    """`frame` is Project.cases_frame(): key, kind, parent, path and inherited attributes."""
    path_of = dict(zip(frame["key"], frame["path"].str.split("/"), strict=True))
    kind_of = dict(zip(frame["key"], frame["kind"], strict=True))
    groups = [k for k in frame["key"] if kind_of[k] == group_kind]
    units = frame[frame["kind"] == unit_kind]
    values = sorted({str(v) for v in units[by].dropna()}) if by else []

    rows, notes = [], {}
    for group in groups:
        members = units[units["key"].map(lambda k, g=group: g in path_of[k][:-1])]
        sites = [k for k in frame["key"] if kind_of[k] == site_kind and group in path_of[k][:-1]]
        row = {"group": group, "respondents": len(members), "services": len(sites)}
        for value in values:
            row[value] = int((members[by].astype(str) == value).sum())
        rows.append(row)
        group_notes = [n for n in [own_notes.get(group, "")] if n]
        group_notes += _structure_notes(members["key"].tolist(), sites, path_of)
        notes[group] = group_notes
    total = {"group": "Total", "respondents": sum(r["respondents"] for r in rows)}
    total["services"] = sum(r["services"] for r in rows)
    for value in values:
        total[value] = sum(r[value] for r in rows)
    table = pd.DataFrame.from_records(
        [*rows, total], columns=["group", "respondents", "services", *values]
    )
    return CaseTable(by, values, table, notes)


def _structure_notes(
    members: list[str], sites: list[str], path_of: dict[str, list[str]]
) -> list[str]:
    """Notes the study wrote by hand, derived from the tree: shared services, unattached people."""
    notes = []
    for site in sites:
        inside = [m for m in members if site in path_of[m][:-1]]
        if len(inside) > 1:
            count = _NUMBER_WORDS.get(len(inside), str(len(inside)))
            notes.append(
                f"{count} respondents belong to the same service ({site}: {', '.join(inside)})"
            )
    loose = [m for m in members if not any(s in path_of[m][:-1] for s in sites)]
    if loose:
        noun = "respondent is" if len(loose) == 1 else "respondents are"
        notes.append(f"{len(loose)} {noun} not attached to a service ({', '.join(loose)})")
    return notes
