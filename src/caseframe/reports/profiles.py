"""Site sustainability profiles as a self-contained HTML page (inline SVG charts), Markdown or
an Excel workbook; `profile_page` is the same HTML for the web workspace to serve."""

from __future__ import annotations

import io
import os
import tempfile
from datetime import date
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
        _atomic_write(out, lambda path: _write_xlsx(sites, chosen, path))
    else:
        text = (
            profiles_html(project, sites, chosen)
            if fmt == "html"
            else profiles_markdown(project, sites, chosen)
        )
        _atomic_write(out, lambda path: Path(path).write_text(text, encoding="utf-8"))
    return out


def profile_page(project: Any, site: str | None = None, framework: str = "sis") -> str:
    """The profiles as one HTML page (all sites, or one); for the web workspace."""
    sites = project.site_profiles(framework)
    _require_ratings(sites)
    chosen = [sites.profile(project.case(site).key)] if site else sites.profiles
    return profiles_html(project, sites, chosen)


def _require_ratings(sites) -> None:
    if not sites.profiles:
        raise InvalidInput(
            f"no site has a {sites.framework.key} assessment yet",
            hint="record ratings with 'caseframe assess' or 'caseframe assess import FILE'",
        )


def _atomic_write(out: Path, write) -> None:
    """Write beside the target and rename, so a failure leaves no half-written file."""
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.tmp.", suffix=out.suffix)
    os.close(fd)
    try:
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes the file private; give the usual mode
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- charts


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "caseframe"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.set_dpi(100)
    return fig


def heatmap_svg(frame: pd.DataFrame, scale_min: int, scale_max: int, breaks: list[int]) -> str:
    """Sites × components, one colour per scale point; `breaks` are the column indexes where a
    new level starts (drawn as a rule)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    values = frame.to_numpy(dtype=float)
    rows, cols = values.shape
    fig = _figure(max(6.0, 0.34 * cols + 1.6), max(2.0, 0.3 * rows + 1.2))
    ax = fig.add_subplot()
    steps = scale_max - scale_min + 1
    cmap = ListedColormap(_ramp(steps)).with_extremes(bad="#eeeeee")
    norm = BoundaryNorm([scale_min - 0.5 + i for i in range(steps + 1)], steps)
    ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            text = "·" if pd.isna(v) else f"{v:g}"
            dark = not pd.isna(v) and v in (scale_min, scale_max)
            colour = "#ffffff" if dark else "#111111"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(cols), list(frame.columns), fontsize=7, rotation=90)
    ax.set_yticks(range(rows), list(frame.index), fontsize=8)
    ax.tick_params(length=0)
    for col in breaks:
        ax.axvline(col - 0.5, color="#333333", linewidth=1.2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _svg(fig)


def level_breaks(fw: Any) -> list[int]:
    comps = list(fw.components)
    return [i for i in range(1, len(comps)) if comps[i].level != comps[i - 1].level]


def _ramp(steps: int) -> list[str]:
    if steps == len(_RAMP):
        return list(_RAMP)
    from matplotlib import colormaps

    cmap = colormaps["RdYlBu"]
    return [cmap(i / max(1, steps - 1)) for i in range(steps)]  # type: ignore[misc]


def level_bars_svg(profile: SiteProfile) -> str:
    """Share of each level's maximum, now and at the previous assessment."""
    fig = _figure(5.2, 0.45 * len(profile.levels) + 0.9)
    ax = fig.add_subplot()
    names = [lv.level for lv in profile.levels][::-1]
    now_share = [lv.share * 100 for lv in profile.levels][::-1]
    y = list(range(len(names)))
    if profile.previous_levels:
        prev = [lv.share * 100 for lv in profile.previous_levels][::-1]
        ax.barh([v + 0.2 for v in y], prev, height=0.38, color="#bbbbbb", label="previous")
        ax.barh([v - 0.2 for v in y], now_share, height=0.38, color="#4575b4", label="current")
        ax.legend(fontsize=7, loc="lower right", frameon=False)
    else:
        ax.barh(y, now_share, height=0.55, color="#4575b4")
    for lv, yy in zip(profile.levels[::-1], y, strict=True):
        ax.text(101, yy, f"{lv.score:g}/{lv.maximum}", va="center", fontsize=8)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(0, 115)
    ax.set_xticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100 %"], fontsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def ranking_svg(ranking: pd.DataFrame, total_max: int) -> str:
    fig = _figure(5.5, 0.26 * len(ranking) + 0.8)
    ax = fig.add_subplot()
    sites = list(ranking["site"])[::-1]
    totals = list(ranking["total"])[::-1]
    ax.barh(range(len(sites)), totals, color="#4575b4", height=0.65)
    for i, v in enumerate(totals):
        ax.text(v + total_max * 0.01, i, f"{v:g}", va="center", fontsize=7)
    ax.set_yticks(range(len(sites)), sites, fontsize=8)
    ax.set_xlim(0, total_max)
    ax.set_xlabel(f"total score (max {total_max})", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def group_svg(frame: pd.DataFrame, levels: list[str], maxima: dict[str, int]) -> str:
    """Mean share of each level's maximum per group."""
    fig = _figure(5.5, max(1.8, 0.22 * len(frame) * max(1, len(levels)) + 1.0))
    ax = fig.add_subplot()
    height = 0.8 / max(1, len(levels))
    colours = ["#4575b4", "#91bfdb", "#fc8d59", "#999999", "#d7301f"]
    groups = list(frame["group"])[::-1]
    for k, level in enumerate(levels):
        shares = [
            100 * v / maxima[level] if maxima.get(level) else 0 for v in list(frame[level])[::-1]
        ]
        ax.barh(
            [i + (k - (len(levels) - 1) / 2) * height for i in range(len(groups))][::1],
            shares,
            height=height,
            color=colours[k % len(colours)],
            label=level,
        )
    ax.set_yticks(range(len(groups)), [str(g) for g in groups], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("mean share of the level maximum (%)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


# --------------------------------------------------------------------------- HTML


def _env():
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


def _context(project: Any, sites: Any, chosen: list[SiteProfile]) -> dict:
    from markupsafe import Markup

    fw = sites.framework
    scale = fw.scale
    ranking = ranking_frame(sites.profiles)
    heat = heatmap_frame(sites.profiles if len(chosen) > 1 else chosen, fw)
    maxima = {lv.level: lv.maximum for lv in sites.profiles[0].levels}
    groups = []
    for by in sites.groupings:
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
    return {
        "title": f"Site sustainability profiles — {fw.name}",
        "project": project.name,
        "fw": fw,
        "scale": scale,
        "notice": sites.notice,
        "illustrative": any(
            "illustrative" in r.casefold() for p in sites.profiles for r in p.raters
        ),
        "single": len(chosen) == 1 and len(sites.profiles) > 1,
        "ranking": ranking.to_dict(orient="records"),
        "ranking_svg": Markup(ranking_svg(ranking, sites.profiles[0].total_max)),
        "heatmap_svg": Markup(heatmap_svg(heat, scale.minimum, scale.maximum, level_breaks(fw))),
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


def profiles_html(project: Any, sites: Any, chosen: list[SiteProfile]) -> str:
    return _env().get_template("profiles.html").render(**_context(project, sites, chosen))


# --------------------------------------------------------------------------- Markdown


def profiles_markdown(project: Any, sites: Any, chosen: list[SiteProfile]) -> str:
    fw = sites.framework
    scale = fw.scale
    anchors = "; ".join(f"{k} {v}" for k, v in sorted(scale.anchors.items()))
    lines = [f"# Site sustainability profiles — {fw.name}", ""]
    if sites.notice:
        lines += [f"> **{sites.notice}**", ""]
    lines += [f"Project: {project.name}. Scale {scale.minimum}–{scale.maximum} ({anchors}).", ""]
    if len(chosen) > 1:
        ranking = ranking_frame(sites.profiles)
        lines += ["## Sites ranked by total", ""]
        head = ["rank", "site", *fw.levels, "total", "change"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in ranking.to_dict(orient="records"):
            cells = [str(r["rank"]), r["site"], *[_num(r[lv]) for lv in fw.levels]]
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
                cells = [str(r["group"]), str(r["sites"])]
                cells += [f"{r[lv]:.1f}" for lv in fw.levels] + [f"{r['total']:.1f}"]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    for p in chosen:
        lines += _site_markdown(p)
    return "\n".join(lines).rstrip() + "\n"


def _site_markdown(p: SiteProfile) -> list[str]:
    when = p.assessed_on.isoformat()
    prev = f"; previous {p.previous_on.isoformat()}" if p.previous_on else ""
    groups = ", ".join(f"{k}: {v}" for k, v in p.groups.items())
    lines = [
        f"## {p.label} ({p.site})",
        "",
        f"Assessed {when}{prev}. Raters: "
        f"{', '.join(p.raters)}." + (f" {groups}." if groups else ""),
        "",
    ]
    if p.key_questions:
        lines += [f"- {q} **{a}** ({comp})" for q, comp, a in p.key_questions] + [""]
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
        lines += ["Risks:", ""] + [f"- {r}" for r in p.risks] + [""]
    changed = [c for c in p.components if c.change not in (None, 0)]
    if changed:
        lines += ["Changes:", ""]
        lines += [
            f"- {c.component} {c.name}: {_num(c.previous)} → {_num(c.rating)}" for c in changed
        ]
        lines.append("")
    return lines


def _signed(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):+g}"


# --------------------------------------------------------------------------- Excel


def _write_xlsx(sites: Any, chosen: list[SiteProfile], path: str) -> None:
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
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        ranking_frame(chosen).to_excel(writer, sheet_name="ranking", index=False)
        heat = heatmap_frame(chosen, fw)
        heat.index.name = "site"
        heat.to_excel(writer, sheet_name="heatmap")
        for by in sites.groupings:
            frame = group_scores(chosen, by, fw)
            if len(frame):
                frame.to_excel(writer, sheet_name=f"by {by}"[:31], index=False)
        pd.DataFrame.from_records(long).to_excel(writer, sheet_name="components", index=False)
        pd.DataFrame.from_records(risks, columns=["site", "risk"]).to_excel(
            writer, sheet_name="risks", index=False
        )
        if sites.notice:
            pd.DataFrame({"notice": [sites.notice]}).to_excel(
                writer, sheet_name="about", index=False
            )
