"""Every assessed site's profile at once: which date counts as current and previous, how sites
are grouped (region, setting), and the few lines the study report says about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from caseframe.analysis.profiles import SIS_RISKS, SiteProfile, build_profile, resolve_ratings
from caseframe.errors import NotFound
from caseframe.model import Framework

# case table columns that are not attributes to group sites by
_NOT_GROUPS = {"key", "label", "kind", "parent", "path", "depth", "note", "description"}


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


def default_risks(fw: Framework) -> dict[str, str]:
    return dict(SIS_RISKS) if fw.key == "sis" else {}


def default_groupings(info: pd.DataFrame, sites: list[str], kinds: dict[str, str]) -> list[str]:
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


def groups_of(
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


def build_profile_set(
    fw: Framework,
    frame: pd.DataFrame,
    cases: pd.DataFrame,
    wording: dict,
    group_by: list[str] | None = None,
    cutoff: date | None = None,
) -> ProfileSet:
    """Each site's latest profile (on or before `cutoff`), with the one before it.

    `frame`: the framework's ratings (suggestions left out); `cases`: the case table (key,
    label, kind, path and attributes); `wording`: the project's risks, key questions, notice.
    """
    if cutoff is not None:
        frame = frame[frame["assessed_on"] <= cutoff]
    info = cases.set_index("key")
    labels = dict(zip(cases["key"], cases["label"], strict=True))
    kinds = dict(zip(cases["key"], cases["kind"], strict=True))
    sites = list(dict.fromkeys(frame["site"]))
    groupings = list(group_by) if group_by else default_groupings(info, sites, kinds)
    risks = {**default_risks(fw), **wording.get("risks", {})}
    profiles = []
    for site, rows in frame.groupby("site", sort=False):
        by_date = dict(list(rows.groupby("assessed_on", sort=True)))
        dates = sorted(by_date)
        current = resolve_ratings(by_date[dates[-1]])
        previous = resolve_ratings(by_date[dates[-2]]) if len(dates) > 1 else None
        profiles.append(
            build_profile(
                fw,
                site,
                labels.get(site, site),
                current,
                dates[-1],
                previous,
                dates[-2] if len(dates) > 1 else None,
                risks=risks,
                key_questions=wording.get("key_questions"),
                groups=groups_of(site, info, kinds, labels, groupings),
            )
        )
    return ProfileSet(fw, profiles, groupings, wording.get("notice", ""))


def profiles_summary(sites: ProfileSet, href: str = "profiles.html") -> dict:
    """A few lines for the study report: how many sites are rated, the ranking's ends and
    the most common risks, and where the full profiles are."""
    fw, profiles = sites.framework, sites.profiles
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
        "text": summary_text(fw, profiles, common, sites.notice),
    }


def summary_text(
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
