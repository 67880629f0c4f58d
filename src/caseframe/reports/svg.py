"""Small inline SVG charts built straight from the data: horizontal bars and a labelled grid.

The profile pages draw one chart per site and several across sites; matplotlib takes a tenth of
a second or more per figure (and seconds to import under load), where writing the few dozen
rectangles and labels these charts need takes well under a millisecond. Every text is escaped;
the charts carry their numbers as text and a <title> per mark, so they read without colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
CHAR_WIDTH = 6.4  # average width of an 11 px label character, to size the label column
ROW = 22  # height of a bar row or grid row


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str


def _label_width(labels: Sequence[str], minimum: float = 24) -> float:
    return max([minimum, *(len(str(s)) * CHAR_WIDTH + 10 for s in labels)])


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" {FONT} font-size="11">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    maximum: float,
    *,
    title: str,
    axis_label: str = "",
    value_text: Callable[[int, int, float], str] | None = None,
    ticks: Sequence[float] = (),
    tick_suffix: str = "",
    plot_width: float = 420,
) -> str:
    """Horizontal bars, one row per label, one bar per series in each row (a legend when there
    are several). `value_text(row, series, value)` labels a bar's end (default: the value)."""
    left = _label_width(labels)
    bar_h = (ROW - 6) / max(1, len(series))
    legend = 18 if len(series) > 1 else 0
    top = 6 + legend
    height = top + ROW * len(labels) + (34 if axis_label or ticks else 8)
    width = left + plot_width + 60
    scale = plot_width / maximum if maximum else 0
    body: list[str] = []
    if legend:
        x = left
        for s in series:
            body.append(f'<rect x="{x:.1f}" y="6" width="10" height="10" fill="{s.colour}"/>')
            body.append(f'<text x="{x + 14:.1f}" y="15">{escape(s.name)}</text>')
            x += 24 + len(s.name) * CHAR_WIDTH
    for tick in ticks:
        x = left + tick * scale
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ROW * len(labels)}" '
            'stroke="#e4e4e4"/>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{top + ROW * len(labels) + 13}" text-anchor="middle" '
            f'fill="#555">{_num(tick)}{escape(tick_suffix)}</text>'
        )
    for i, label in enumerate(labels):
        y = top + i * ROW
        body.append(
            f'<text x="{left - 6:.1f}" y="{y + ROW / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(str(label))}</text>"
        )
        for k, s in enumerate(series):
            value = s.values[i]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            by = y + 3 + k * bar_h
            w = max(0.0, float(value) * scale)
            text = value_text(i, k, float(value)) if value_text else _num(float(value))
            body.append(
                f'<rect x="{left:.1f}" y="{by:.1f}" width="{w:.1f}" height="{bar_h - 1:.1f}" '
                f'fill="{s.colour}"><title>{escape(f"{label} · {s.name}: {text}")}</title></rect>'
            )
            if text:
                body.append(
                    f'<text x="{left + w + 4:.1f}" y="{by + bar_h / 2 + 3:.1f}" font-size="10">'
                    f"{escape(text)}</text>"
                )
    body.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ROW * len(labels)}" stroke="#333"/>'
    )
    if axis_label:
        body.append(
            f'<text x="{left + plot_width / 2:.1f}" y="{height - 4:.1f}" text-anchor="middle" '
            f'fill="#333">{escape(axis_label)}</text>'
        )
    return _svg(width, height, body, title)


def grid_chart(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    fill: Callable[[float | None], str],
    *,
    title: str,
    text: Callable[[float | None], str] = lambda v: "·" if v is None else _num(v),
    dark: Callable[[float | None], bool] = lambda v: False,
    breaks: Sequence[int] = (),
    highlight: str | None = None,
    column_titles: Sequence[str] | None = None,
    cell: float = 26,
) -> str:
    """A labelled grid (a heatmap): `fill(value)` colours a cell, `text(value)` labels it,
    `dark(value)` puts white text on it; `breaks` are column indexes where a rule is drawn (a
    new framework level); `highlight` outlines one row."""
    left = _label_width(rows)
    top = _label_width(columns, minimum=30)  # column labels are written upwards
    width = left + cell * len(columns) + 8
    height = top + cell * len(rows) + 8
    body: list[str] = []
    for j, col in enumerate(columns):
        x = left + j * cell + cell / 2 + 4
        hover = f"<title>{escape(column_titles[j])}</title>" if column_titles else ""
        body.append(
            f'<text transform="translate({x:.1f},{top - 6:.1f}) rotate(-90)">{hover}'
            f"{escape(str(col))}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell
        weight = ' font-weight="700"' if row == highlight else ""
        body.append(
            f'<text x="{left - 6:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="end"{weight}>'
            f"{escape(str(row))}</text>"
        )
        for j, col in enumerate(columns):
            v = values[i][j]
            v = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            x = left + j * cell
            label = text(v)
            name = column_titles[j] if column_titles else str(col)
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{fill(v)}"><title>{escape(f"{row} · {name}: {label}")}</title></rect>'
            )
            colour = "#ffffff" if dark(v) else "#111111"
            body.append(
                f'<text x="{x + (cell - 1) / 2:.1f}" y="{y + cell / 2 + 3:.1f}" '
                f'text-anchor="middle" font-size="10" fill="{colour}">{escape(label)}</text>'
            )
    for j in breaks:
        x = left + j * cell - 0.5
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{top + cell * len(rows)}" '
            'stroke="#333" stroke-width="1.5"/>'
        )
    if highlight in rows:
        y = top + list(rows).index(highlight) * cell
        body.append(
            f'<rect x="{left - 1:.1f}" y="{y - 1:.1f}" width="{cell * len(columns) + 1:.1f}" '
            f'height="{cell + 1}" fill="none" stroke="#111" stroke-width="2"/>'
        )
    return _svg(width, height, body, title)
