"""The framework matrix as the workspace shows it: headers with the full name on hover, heat
classes by count or net valence, row and column totals, quote cells clipped to their first
passage. Plain values for the template; the numbers come from `Project.matrix`."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from markupsafe import Markup, escape

if TYPE_CHECKING:
    import pandas as pd

HEAT_STEPS = 5
SHORT_NAME = 28  # characters of a component name shown in a header (the rest on hover)
VALENCE_PART = re.compile(r"([+−±])(\d+)")
CLIP_LINES = 1  # quote cells show this many passages before "show all"
CLIP_CHARS = 160


def net_valence(text: str) -> tuple[int, int]:
    """(facilitators − barriers, passages) from a valence cell such as "+3 −1 ±1"."""
    counts = {sign: int(n) for sign, n in VALENCE_PART.findall(text or "")}
    total = sum(counts.values())
    return counts.get("+", 0) - counts.get("−", 0), total


def _heat(value: float, top: float) -> int:
    """1..HEAT_STEPS for a positive value (its share of the largest), 0 for none."""
    if not value or not top:
        return 0
    return max(1, math.ceil(HEAT_STEPS * value / top))


def _header(label: str, full: str, framework: bool) -> dict:
    if framework and full and full != label:
        short = full if len(full) <= SHORT_NAME else full[: SHORT_NAME - 1].rstrip() + "…"
        return {"id": label, "name": short, "title": f"{label} {full}"}
    return {"id": "", "name": label, "title": full or label}


def _clip(text: str) -> dict:
    lines = [line for line in (text or "").split("\n") if line]
    first = lines[:CLIP_LINES]
    shown = [line if len(line) <= CLIP_CHARS else line[: CLIP_CHARS - 1] + "…" for line in first]
    return {"shown": shown, "all": lines, "clipped": shown != lines}


def _cell_html(item: dict, href: str | None) -> str:
    """One <td>, as the template wrote it: a count or valence opens its quotes (`href`), a
    quote cell shows its first passage and "show all", anything else its text."""
    cls = item["heat"] + (" quotes" if "clipped" in item else "")
    title = f' title="{escape(item["title"])}"' if item.get("title") else ""
    if href is not None and item.get("open"):
        body = f'<a href="{href}">{escape(item["text"])}</a>'
    elif "clipped" in item:
        body = "".join(f"<p>{escape(line)}</p>" for line in item["shown"])
        if item["clipped"]:
            rest = "".join(f"<p>{escape(line)}</p>" for line in item["all"])
            body += f"<details><summary>show all ({len(item['all'])})</summary>{rest}</details>"
    else:
        body = escape(item["text"] if item["text"] != "0" else "")
    return f'<td class="{cls}"{title}>{body}</td>'


def matrix_view(
    frame: pd.DataFrame,
    cell: str,
    names: dict[str, str],
    framework: bool,
    query: dict[str, str] | None = None,
) -> dict:
    """Rows × columns with per-cell text, heat class and whether it can open its quotes; each
    row's cells also as ready HTML (`cells_html`): a 1,000-row matrix has 10,000+ cells, and
    a template loop with five URL quotings per cell took most of a second. `query`: the rows,
    cols and framework the cell links carry."""
    columns = [str(c) for c in frame.columns]
    headers = [_header(c, names.get(c, c), framework) for c in columns]
    numeric = cell in ("count", "respondents")
    values: list[list[Any]] = [list(r) for r in frame.itertuples(index=False, name=None)]
    top = 0.0
    if numeric:
        top = max((float(v) for row in values for v in row), default=0)
    elif cell == "valence":
        nets = [[net_valence(str(v))[0] for v in row] for row in values]
        top = max((abs(n) for row in nets for n in row), default=0)
    query = query or {}
    # the parts of a cell's link that do not change along a row: quoted once, not per cell
    tail = "".join(
        f"&amp;{k}={quote(query.get(k, ''), safe='/')}" for k in ("rows", "cols", "framework")
    )
    column_part = [f"&amp;column={quote(c, safe='/')}{tail}" for c in columns]
    rows = []
    for i, key in enumerate(frame.index):
        cells = []
        row_part = f"/matrix/cell?row={quote(str(key), safe='/')}"
        html = []
        for j, value in enumerate(values[i]):
            item: dict[str, Any] = {"text": "" if value is None else str(value), "heat": ""}
            if numeric:
                item["heat"] = f"heat-{_heat(float(value), top)}"
                item["open"] = bool(value)
            elif cell == "valence":
                net, n = net_valence(str(value))
                step = _heat(abs(net), top)
                item["heat"] = "net-0" if not net else f"net-{'pos' if net > 0 else 'neg'}-{step}"
                item["open"] = bool(n)
                item["title"] = f"net valence {net:+d} over {n} passages" if n else ""
            elif cell == "quotes":
                item.update(_clip(str(value or "")))
            item["column"] = columns[j]
            cells.append(item)
            html.append(_cell_html(item, row_part + column_part[j]))
        total = sum(int(v) for v in values[i]) if cell == "count" else None
        rows.append(
            {"key": str(key), "cells": cells, "cells_html": Markup("".join(html)), "total": total}
        )
    column_totals = (
        [sum(int(values[i][j]) for i in range(len(values))) for j in range(len(columns))]
        if cell == "count"
        else None
    )
    return {
        "headers": headers,
        "rows": rows,
        "column_totals": column_totals,
        "grand_total": sum(column_totals) if column_totals else None,
        "heat_steps": list(range(1, HEAT_STEPS + 1)),
    }
