"""Framework coverage: how much evidence each framework component has.

A coding is evidence for a component when its code is that component's deductive code, or when
its code (or an ancestor of its code) is mapped to the component (see matrix.code_components).
Per component: respondents and sites with evidence, facilitator / barrier / mixed codings and all
codings; a site × component heatmap of codings; and the components never evidenced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

COMPONENT_COLUMNS = [
    "component",
    "name",
    "level",
    "respondents",
    "sites",
    "facilitator",
    "barrier",
    "mixed",
    "codings",
]


@dataclass
class Coverage:
    framework: str
    components: pd.DataFrame  # one row per component (COMPONENT_COLUMNS)
    heatmap: pd.DataFrame  # sites × component keys, codings
    never_evidenced: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "framework": self.framework,
            "components": self.components.to_dict(orient="records"),
            "heatmap": {
                "sites": list(self.heatmap.index),
                "components": list(self.heatmap.columns),
                "values": self.heatmap.to_numpy().tolist(),
            },
            "never_evidenced": self.never_evidenced,
            "notes": self.notes,
        }


def build_coverage(
    framework: str,
    components: pd.DataFrame,
    evidence: pd.DataFrame,
    respondents: pd.DataFrame,
    sites: pd.DataFrame,
    site_keys: list[str],
) -> Coverage:
    """`components`: id, key, name, level (framework order). `evidence`: codings (id,
    document_id, valence) joined with component_id. `respondents`/`sites`: document_id → group."""
    ev = evidence
    # valences and groups as small integer codes: factorising 100k strings per groupby is what
    # made this slow, and per component only distinct documents matter for the nunique counts
    kinds = ["facilitator", "barrier", "mixed"]
    valence = pd.Categorical(ev["valence"], categories=kinds).codes
    comp = ev["component_id"].to_numpy()
    known = valence >= 0  # code -1: no valence
    counts = (
        pd.DataFrame({"component_id": comp[known], "valence": valence[known]})
        .groupby(["component_id", "valence"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=range(len(kinds)), fill_value=0)
    )
    counts.columns = kinds
    counts = counts.reindex(pd.Index(pd.unique(comp), name="component_id"), fill_value=0)
    counts["codings"] = ev.groupby("component_id").size()
    docs = ev[["component_id", "document_id"]].drop_duplicates()
    for name, groups in (("respondents", respondents), ("sites", sites)):
        coded = groups.assign(group=pd.factorize(groups["group"])[0])
        joined = docs.merge(coded, on="document_id")
        counts[name] = joined.groupby("component_id")["group"].nunique()
    table = components.rename(columns={"key": "component"}).set_index("id")
    table = table.join(counts).fillna(0)
    for col in ("respondents", "sites", "facilitator", "barrier", "mixed", "codings"):
        table[col] = table[col].astype(int)
    table = table.reset_index(drop=True)[COMPONENT_COLUMNS]

    keys = dict(zip(components["id"], components["key"], strict=True))
    per_doc = ev.groupby(["component_id", "document_id"]).size().rename("n").reset_index()
    at_site = per_doc.merge(sites, on="document_id")
    heat = (
        at_site.assign(component=at_site["component_id"].map(keys))
        .groupby(["group", "component"])["n"]
        .sum()
    )
    heatmap = heat.unstack("component") if len(heat) else pd.DataFrame()
    heatmap = heatmap.reindex(index=site_keys, columns=list(components["key"])).fillna(0)
    heatmap = heatmap.astype(int)
    heatmap.index.name = None
    heatmap.columns.name = None
    never = [k for k, n in zip(table["component"], table["codings"], strict=True) if n == 0]
    return Coverage(framework, table, heatmap, never)
