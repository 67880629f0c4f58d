"""The HTML page of `batch summarise`: small multiples of each code's share over time.

One small chart per code (most frequent first): x is the last `--by` column (the time column,
e.g. month), y the share of rows given the code. Over all groups in black with its Wilson 95 %
band; with two `--by` columns and at most `MAX_LINES` values of the first (sites), a thin line
per value. Codes whose cross-validated F1 is low are marked and drawn dashed. The page is one
file: charts inline as SVG, no script, nothing fetched.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MAX_LINES = 8
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #ddd; padding: .4rem; }
figcaption { font-size: .85rem; font-weight: 600; }
figcaption .low { color: #a40000; font-weight: 400; }
svg { width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .85rem; }
td, th { border-bottom: 1px solid #ddd; padding: .2rem .6rem; text-align: left; }
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ '{:,}'.format(rows) }} coded rows by model {{ model }}; grouped by {{ by }}.
Black: all groups with a 95 % interval; thin lines: {{ lines_of }}
{% for g, c in colours.items() %}<span style="color:{{ c }}">■ {{ g }}</span> {% endfor %}.
Codes marked <span style="color:#a40000">low F1</span> have a cross-validated F1 below
{{ min_f1 }} and are drawn dashed: read their trends with care.</p>
<div class="grid">
{% for c in charts %}<figure><figcaption>{{ c.code }} — {{ c.count }} rows
{% if c.low %}<span class="low">(low F1 {{ c.f1 }})</span>{% endif %}</figcaption>
{{ c.svg | safe }}</figure>
{% endfor %}</div>
<h2>How the figures were made</h2>
<table>{% for k, v in about %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
</body></html>
"""


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "caseframe"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def line_groups(table: pd.DataFrame, by: Sequence[str]) -> dict[str, str]:
    """Values of the first --by column drawn as thin lines, with their colours (or none)."""
    if len(by) < 2:
        return {}
    groups = sorted(table[by[0]].astype(str).unique())
    if len(groups) > MAX_LINES:
        return {}
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    palette = colormaps["tab10"]
    return {g: to_hex(palette(i)) for i, g in enumerate(groups)}


def small_multiple(
    table: pd.DataFrame, code: str, by: Sequence[str], low: bool, colours: dict[str, str]
) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    time_col = by[-1]
    mine = table[table["code"] == code]
    total = mine.groupby(time_col, sort=True)[["count", "rows"]].sum()
    x = range(len(total))
    fig = Figure(figsize=(3.2, 1.9))
    ax = fig.add_subplot()
    style = "--" if low else "-"
    position = {t: i for i, t in enumerate(total.index)}
    for g, colour in colours.items():
        line = mine[mine[by[0]].astype(str) == g].sort_values(time_col)
        ax.plot(
            [position[t] for t in line[time_col]],
            line["share"],
            style,
            color=colour,
            linewidth=0.8,
            alpha=0.7,
        )
    from caseframe.batch.summary import wilson

    share = total["count"] / total["rows"]
    lo, hi = wilson(total["count"], total["rows"])
    ax.fill_between(x, lo, hi, color="0.8", linewidth=0)
    ax.plot(x, share, style, color="black", linewidth=1.5)
    ax.set_ylim(bottom=0)
    labels = [str(t) for t in total.index]
    step = max(1, len(labels) // 6)
    ax.set_xticks(list(x)[::step], labels[::step], fontsize=6, rotation=45)
    ax.tick_params(axis="y", labelsize=6)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=None))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def page(
    table: pd.DataFrame,
    per_code: pd.DataFrame,
    by: Sequence[str],
    info: dict[str, Any],
    about: list[tuple[str, str]],
    min_f1: float,
) -> str:
    from jinja2 import Environment

    colours = line_groups(table, by)
    charts = []
    for row in per_code.itertuples(index=False):
        low = row.low_f1 == "yes"
        f1 = "—" if row.cv_f1 != row.cv_f1 else f"{row.cv_f1:.2f}"
        svg = small_multiple(table, row.code, by, low, colours) if by else ""
        charts.append({"code": row.code, "count": row.count, "low": low, "f1": f1, "svg": svg})
    lines_of = f"one per {by[0]}:" if colours else "none"
    env = Environment(autoescape=True)
    return env.from_string(PAGE).render(
        title=info.get("title", "Codes over time"),
        rows=info.get("rows"),
        model=info.get("model_version"),
        by=", ".join(by) or "nothing",
        lines_of=lines_of,
        colours=colours,
        min_f1=min_f1,
        charts=charts,
        about=about,
    )
