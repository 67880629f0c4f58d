"""The study report as Markdown (charts as inline SVG data URIs, so the file stands alone).

Text from the project (code names, memos, quotes, case keys) is HTML-escaped: Markdown renders
raw HTML, so a code named "<script>…" must arrive as text, not as markup.
"""

from __future__ import annotations

import base64
from html import escape

import pandas as pd

from caseframe.reports.data import MATRIX_ROW_LIMIT, NO_DATA, ReportData


def _text(value) -> str:
    """Project text as Markdown text: no HTML survives."""
    return escape(str(value), quote=False)


def _cell(value) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return _text(text).replace("|", "\\|").replace("\n", "<br>")


def _table(frame: pd.DataFrame, caption: str, index: str | None = None) -> list[str]:
    shown = frame.head(MATRIX_ROW_LIMIT)
    columns = ([index] if index else []) + [str(c) for c in shown.columns]
    lines = [f"**{_text(caption)}**", "", "| " + " | ".join(_cell(c) for c in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for label, row in shown.iterrows():
        values = ([label] if index else []) + list(row)
        lines.append("| " + " | ".join(_cell(v) for v in values) + " |")
    if len(frame) > len(shown):
        lines += ["", f"(first {len(shown)} of {len(frame)} rows; the HTML report has all)"]
    return [*lines, ""]


def _quoted(text: str) -> str:
    """A quote inside a block quote: every line of it stays in the block."""
    return _text(text).replace("\n", "\n> ")


def _figure(svg: str, caption: str) -> list[str]:
    encoded = base64.b64encode(svg.encode()).decode()
    caption = _text(caption)
    return [f"![{caption}](data:image/svg+xml;base64,{encoded})", "", f"*{caption}*", ""]


def render_markdown(data: ReportData) -> str:
    from caseframe.reports import charts

    out = [f"# {_text(data.title)}", "", f"Study report written by caseframe on {data.today}.", ""]
    if data.citation:
        out += [_text(data.citation), ""]
    out += ["## Methods", "", _text(data.methods), ""]
    if not data.has_data:
        out += [NO_DATA, ""]
    if data.table1 is not None:
        out += ["## Cases", ""]
        out += _table(
            data.table1, "Table 1. Included cases (respondents and services by region and setting)"
        )
        out += [
            f"- {_text(g)}: {_text(n)}" for g, notes in data.table1_notes.items() for n in notes
        ] + [""]
    if data.table2 is not None:
        out += ["## Framework", ""]
        out += _table(data.table2, f"Table 2. {data.framework_name}: components by level")
    if data.table3 is not None:
        out += ["## Theme, main categories and categories", ""]
        out += _table(data.table3, "Table 3. Theme, main categories and categories")
    out += ["## Results", ""]
    if not data.has_data:
        out += [NO_DATA, ""]
    for s in data.sections:
        out += [f"{'#' * (s.depth + 3)} {_text(s.name)}", ""]
        if s.description:
            out += [_text(s.description), ""]
        for q in s.quotes:
            out += [f"> “{_quoted(q.text)}” {_text(q.attribution)}", ""]
    if data.coverage is not None:
        out += ["## Framework coverage", ""]
        if data.coverage.heatmap.size:
            fig = charts.heatmap_figure(data.coverage.heatmap, data.heatmap_title)
            out += _figure(charts.to_svg(fig), f"Figure 1. {data.heatmap_title}.")
        out += _table(data.coverage.components, f"Evidence per {data.framework_name} component")
        if data.coverage.never_evidenced:
            out += [
                "Components never evidenced: "
                + _text(", ".join(data.coverage.never_evidenced))
                + ".",
                "",
            ]
    if data.profiles:
        name = data.profiles["framework_name"]
        out += [
            f"## Site sustainability profiles ({_text(name)})",
            "",
            _text(data.profiles["text"]),
            "",
        ]
        out += [f"[Site profiles]({data.profiles['href']})", ""]
    if data.valence is not None:
        out += ["## Facilitators and barriers", ""]
        fig = charts.valence_figure(data.valence, data.valence_title)
        out += _figure(charts.to_svg(fig), f"Figure 2. {data.valence_title}.")
    if data.matrix is not None:
        out += ["## Framework matrix", ""] + _table(data.matrix, data.matrix_title, index="case")
    if data.codebook is not None:
        out += ["## Appendix: codebook", ""] + _table(data.codebook, "Codebook")
    return "\n".join(out) + "\n"
