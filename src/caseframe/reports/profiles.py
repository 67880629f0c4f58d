"""Site sustainability profiles as a self-contained HTML page (inline SVG charts), Markdown or
an Excel workbook; `profile_page` is the HTML the web workspace serves, one site at a time (or
the cross-site overview)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from caseframe.analysis.profiles import (
    SiteProfile,
    group_scores,
    heatmap_frame,
    ranking_frame,
)
from caseframe.analysis.rating_suggestions import Evidence
from caseframe.errors import InvalidInput
from caseframe.util.atomic import atomic_write
from caseframe.util.output import checked_output

FORMATS = {"html", "md", "xlsx"}
# Colours per share of the scale: absent, weak, partial/strong, full (colour-blind safe ramp).
_RAMP = ["#d7301f", "#fc8d59", "#91bfdb", "#4575b4"]


def _label(c: Any, scale: Any) -> str:
    """The scale's anchor for a whole rating; the state otherwise (a mean of two raters)."""
    if c.rating is not None and float(c.rating).is_integer():
        return scale.anchors.get(int(c.rating), c.state)
    return c.state


# --------------------------------------------------------------------------- entry points


def write_profiles(
    project: Any,
    fmt: str,
    out: Path,
    site: str | None = None,
    framework: str = "sis",
    at: str | date | None = None,
) -> Path:
    out = checked_output(out, FORMATS, fmt)
    sites = project.site_profiles(framework, at)
    _require_ratings(sites)
    chosen = [sites.profile(project.case(site).key)] if site else sites.profiles
    if fmt == "xlsx":
        return _write_xlsx(sites, chosen, out)
    text = (
        profiles_html(project, sites, chosen)
        if fmt == "html"
        else profiles_markdown(project, sites, chosen)
    )
    return atomic_write(out, text)


# Where a site's name links to in the workspace overview (the page is framed, so the link
# opens the workspace page of that site).
SITE_LINK = "/profiles?site={site}&framework={framework}"


def profile_page(project: Any, site: str | None = None, framework: str = "sis") -> str:
    """The profiles page of the web workspace: one site with the cross-site heatmap, or (no
    site) the overview across sites: ranking, heatmap and group scores, each site a row."""
    sites = project.site_profiles(framework)
    _require_ratings(sites)
    if site:
        return profiles_html(project, sites, [sites.profile(project.case(site).key)], web=True)
    return profiles_html(project, sites, [], web=True)


def _require_ratings(sites) -> None:
    if not sites.profiles:
        raise InvalidInput(
            f"no site has a {sites.framework.key} assessment yet",
            hint="record ratings with 'caseframe assess' or 'caseframe assess import FILE'",
        )


# --------------------------------------------------------------------------- charts


def _ramp(steps: int) -> list[str]:
    """`steps` colours from absent (red) to full (blue), the four base colours when steps == 4."""
    if steps == len(_RAMP):
        return list(_RAMP)
    rgb = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in _RAMP]
    out = []
    for k in range(steps):
        pos = k / max(1, steps - 1) * (len(rgb) - 1)
        i = min(int(pos), len(rgb) - 2)
        f = pos - i
        mixed = [round(a + (b - a) * f) for a, b in zip(rgb[i], rgb[i + 1], strict=True)]
        out.append("#" + "".join(f"{v:02x}" for v in mixed))
    return out


def heatmap_svg(
    frame: pd.DataFrame,
    scale_min: int,
    scale_max: int,
    breaks: list[int],
    highlight: str | None = None,
    names: dict[str, str] | None = None,
) -> str:
    """Sites × components, one colour per scale point; `breaks` are the column indexes where a
    new level starts (drawn as a rule); `highlight` outlines one site's row."""
    from caseframe.reports.svg import grid_chart

    colours = dict(
        zip(range(scale_min, scale_max + 1), _ramp(scale_max - scale_min + 1), strict=True)
    )
    columns = [str(c) for c in frame.columns]
    values = [[None if pd.isna(v) else float(v) for v in row] for row in frame.to_numpy()]
    return grid_chart(
        [str(i) for i in frame.index],
        columns,
        values,
        lambda v: "#eeeeee" if v is None else colours.get(round(v), "#bbbbbb"),
        title="Ratings per site and component",
        dark=lambda v: v is not None and v in (scale_min, scale_max),
        breaks=breaks,
        highlight=highlight,
        column_titles=[f"{c} {names[c]}" if names and c in names else c for c in columns],
    )


def level_breaks(fw: Any) -> list[int]:
    comps = list(fw.components)
    return [i for i in range(1, len(comps)) if comps[i].level != comps[i - 1].level]


def level_bars_svg(profile: SiteProfile) -> str:
    """Share of each level's maximum, now and at the previous assessment."""
    from caseframe.reports.svg import Series, bar_chart

    names = [lv.level for lv in profile.levels]
    series = [Series("current", [lv.share * 100 for lv in profile.levels], "#4575b4")]
    if profile.previous_levels:
        previous = [lv.share * 100 for lv in profile.previous_levels]
        series = [Series("previous", previous, "#bbbbbb"), *series]
    current = len(series) - 1

    def text(row: int, k: int, _value: float) -> str:
        lv = profile.levels[row]
        return f"{lv.score:g}/{lv.maximum}" if k == current else ""

    return bar_chart(
        names,
        series,
        100,
        title=f"Level scores of {profile.site}",
        value_text=text,
        ticks=(0, 25, 50, 75, 100),
        tick_suffix=" %",
        plot_width=360,
    )


def ranking_svg(ranking: pd.DataFrame, total_max: int) -> str:
    from caseframe.reports.svg import Series, bar_chart

    return bar_chart(
        [str(s) for s in ranking["site"]],
        [Series("total", [float(v) for v in ranking["total"]], "#4575b4")],
        total_max,
        title="Sites ranked by total score",
        axis_label=f"total score (max {total_max})",
    )


def group_svg(frame: pd.DataFrame, levels: list[str], maxima: dict[str, int]) -> str:
    """Mean share of each level's maximum per group."""
    from caseframe.reports.svg import Series, bar_chart

    colours = ["#4575b4", "#91bfdb", "#fc8d59", "#999999", "#d7301f"]
    series = [
        Series(
            level,
            [100 * v / maxima[level] if maxima.get(level) else 0 for v in frame[level]],
            colours[k % len(colours)],
        )
        for k, level in enumerate(levels)
    ]
    return bar_chart(
        [str(g) for g in frame["group"]],
        series,
        100,
        title="Mean share of the level maximum per group",
        axis_label="mean share of the level maximum (%)",
        value_text=lambda _r, _k, v: f"{v:.0f}",
    )


# --------------------------------------------------------------------------- HTML


@lru_cache(maxsize=1)
def _env():
    """One environment per process: compiling the template costs more than rendering it."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("caseframe.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    return env


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    value = float(value)
    return f"{value:g}" if value.is_integer() else f"{value:.1f}"


def _context(project: Any, sites: Any, chosen: list[SiteProfile], web: bool = False) -> dict:
    from urllib.parse import quote

    from markupsafe import Markup

    fw = sites.framework
    scale = fw.scale
    overview = web and not chosen  # the workspace's cross-site page: no site sections
    single = len(chosen) == 1 and len(sites.profiles) > 1
    ranking = ranking_frame(sites.profiles)
    across = sites.profiles if (web or len(chosen) > 1) else chosen
    heat = heatmap_frame(across, fw)
    names = {c.key: c.name for c in fw.components}
    highlight = chosen[0].site if web and single else None
    maxima = {lv.level: lv.maximum for lv in sites.profiles[0].levels}
    groups = []
    for by in sites.groupings if not single else ():
        frame = group_scores(sites.profiles, by, fw)
        if len(frame) >= 2:
            groups.append(
                {
                    "by": by,
                    "rows": frame.to_dict(orient="records"),
                    "svg": Markup(group_svg(frame, list(fw.levels), maxima)),
                }
            )
    site_views = []
    for p in chosen:
        evidence = project.rating_evidence(p.site, fw.key)
        components = []
        for c in p.components:
            passages: list[Evidence] = evidence.get(c.component, [])
            linked = set(c.evidence)
            components.append(
                {
                    "status": c,
                    "label": _label(c, scale),
                    "passages": [{"e": e, "linked": e.coding_id in linked} for e in passages],
                }
            )
        site_views.append(
            {
                "p": p,
                "svg": Markup(level_bars_svg(p)),
                "components": components,
                "changed": [c for c in p.components if c.change not in (None, 0)],
            }
        )
    show_across = overview or (not single and len(chosen) > 1)
    return {
        "title": f"Site sustainability profiles — {fw.name}",
        "project": project.name,
        "fw": fw,
        "scale": scale,
        "notice": sites.notice,
        "illustrative": any(
            "illustrative" in r.casefold() for p in sites.profiles for r in p.raters
        ),
        "single": single,
        "overview": overview,
        "show_across": show_across,
        "heatmap_after": web and single,
        "site_link": lambda site: SITE_LINK.format(site=quote(str(site)), framework=quote(fw.key)),
        "ranking": ranking.to_dict(orient="records"),
        "ranking_svg": Markup(ranking_svg(ranking, sites.profiles[0].total_max))
        if show_across
        else "",
        "heatmap_svg": Markup(
            heatmap_svg(heat, scale.minimum, scale.maximum, level_breaks(fw), highlight, names)
        )
        if show_across or (web and single)
        else "",
        "ramp": list(
            zip(
                range(scale.minimum, scale.maximum + 1),
                _ramp(scale.maximum - scale.minimum + 1),
                strict=True,
            )
        ),
        "groups": groups,
        "sites": site_views,
        "levels": list(fw.levels),
        "generated": date.today().isoformat(),
    }


def profiles_html(project: Any, sites: Any, chosen: list[SiteProfile], *, web: bool = False) -> str:
    return _env().get_template("profiles.html").render(**_context(project, sites, chosen, web))


# --------------------------------------------------------------------------- Markdown


def profiles_markdown(project: Any, sites: Any, chosen: list[SiteProfile]) -> str:
    fw = sites.framework
    scale = fw.scale
    anchors = "; ".join(f"{k} {v}" for k, v in sorted(scale.anchors.items()))
    lines = [f"# Site sustainability profiles — {fw.name}", ""]
    if sites.notice:
        lines += [f"> **{_md(sites.notice)}**", ""]
    lines += [
        f"Project: {_md(project.name)}. Scale {scale.minimum}–{scale.maximum} ({anchors}).",
        "",
    ]
    if len(chosen) > 1:
        ranking = ranking_frame(sites.profiles)
        lines += ["## Sites ranked by total", ""]
        head = ["rank", "site", *fw.levels, "total", "change"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in ranking.to_dict(orient="records"):
            cells = [str(r["rank"]), _md(r["site"]), *[_num(r[lv]) for lv in fw.levels]]
            cells += [f"{_num(r['total'])}/{r['total_max']}", _signed(r["change"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for by in sites.groupings:
            frame = group_scores(sites.profiles, by, fw)
            if len(frame) < 2:
                continue
            lines += [f"## Mean level scores by {by}", ""]
            head = [by, "sites", *fw.levels, "total"]
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for r in frame.to_dict(orient="records"):
                cells = [_md(r["group"]), str(r["sites"])]
                cells += [f"{r[lv]:.1f}" for lv in fw.levels] + [f"{r['total']:.1f}"]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    for p in chosen:
        lines += _site_markdown(p)
    return "\n".join(lines).rstrip() + "\n"


def _site_markdown(p: SiteProfile) -> list[str]:
    when = p.assessed_on.isoformat()
    prev = f"; previous {p.previous_on.isoformat()}" if p.previous_on else ""
    groups = _md(", ".join(f"{k}: {v}" for k, v in p.groups.items()))
    lines = [
        f"## {_md(p.label)} ({_md(p.site)})",
        "",
        f"Assessed {when}{prev}. Raters: "
        f"{_md(', '.join(p.raters))}." + (f" {groups}." if groups else ""),
        "",
    ]
    if p.key_questions:
        lines += [f"- {_md(q)} **{a}** ({comp})" for q, comp, a in p.key_questions] + [""]
    lines += ["| level | score | max | rated |", "|---|---|---|---|"]
    for lv in p.levels:
        lines.append(
            f"| {lv.level} | {_num(lv.score)} | {lv.maximum} | {lv.rated}/{lv.components} |"
        )
    change = f" ({_signed(p.total_change)} since {p.previous_on})" if p.previous_on else ""
    lines += [
        f"| **Total** | **{_num(p.total)}** | {p.total_max} | {p.rated}/{len(p.components)} |",
        "",
        f"Total {_num(p.total)} of {p.total_max}{change}.",
        "",
    ]
    if p.risks:
        lines += ["Risks:", ""] + [f"- {_md(r)}" for r in p.risks] + [""]
    changed = [c for c in p.components if c.change not in (None, 0)]
    if changed:
        lines += ["Changes:", ""]
        lines += [
            f"- {c.component} {_md(c.name)}: {_num(c.previous)} → {_num(c.rating)}" for c in changed
        ]
        lines.append("")
    return lines


def _md(value: Any) -> str:
    """Project text in Markdown: HTML in it is shown, never rendered."""
    from html import escape

    return escape(str(value), quote=False)


def _signed(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):+g}"


# --------------------------------------------------------------------------- Excel


def _write_xlsx(sites: Any, chosen: list[SiteProfile], out: Path) -> Path:
    from caseframe.interop.tables import write_xlsx

    fw = sites.framework
    long = [
        {
            "site": p.site,
            "assessed_on": p.assessed_on,
            "component": c.component,
            "name": c.name,
            "level": c.level,
            "rating": c.rating,
            "state": c.state,
            "previous": c.previous,
            "change": c.change,
            "disputed": c.disputed,
            "evidence": ";".join(str(e) for e in c.evidence),
            "note": c.note,
        }
        for p in chosen
        for c in p.components
    ]
    risks = [{"site": p.site, "risk": r} for p in chosen for r in p.risks]
    heat = heatmap_frame(chosen, fw)
    heat.index.name = "site"
    sheets: dict[str, pd.DataFrame] = {"ranking": ranking_frame(chosen), "heatmap": heat}
    for by in sites.groupings:
        frame = group_scores(chosen, by, fw)
        if len(frame):
            sheets[f"by {by}"[:31]] = frame
    sheets["components"] = pd.DataFrame.from_records(long)
    sheets["risks"] = pd.DataFrame.from_records(risks, columns=["site", "risk"])
    if sites.notice:
        sheets["about"] = pd.DataFrame({"notice": [sites.notice]})
    return write_xlsx(sheets, out, index={"heatmap": True}, index_label="site")
