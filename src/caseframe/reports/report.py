"""The study report written as HTML (this module), Word or Markdown from one `ReportData`
(reports/data.py)."""

from __future__ import annotations

from pathlib import Path

from caseframe.analysis.quotes import Quote
from caseframe.reports.data import MATRIX_ROW_LIMIT, NO_DATA, ReportData, collect
from caseframe.util.atomic import atomic_write
from caseframe.util.output import checked_output

__all__ = ["FORMATS", "MATRIX_ROW_LIMIT", "NO_DATA", "ReportData", "collect", "write_report"]

FORMATS = {"html", "docx", "md"}


def write_report(
    project, fmt: str, out: str | Path, framework: str = "sis", by: str = "setting"
) -> Path:
    fmt = (fmt or "").strip().lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else fmt
    out = checked_output(out, FORMATS, fmt)
    data = collect(project, framework, by)
    if fmt == "html":
        text = render_html(data)
        return atomic_write(out, text)
    if fmt == "md":
        from caseframe.reports.markdown_report import render_markdown

        text = render_markdown(data)
        return atomic_write(out, text)
    from caseframe.reports.docx_report import save_docx

    return atomic_write(out, lambda p: save_docx(data, p))


def render_html(data: ReportData) -> str:
    """One self-contained HTML file: inline CSS, charts as inline SVG, no external links."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from caseframe.reports import charts

    env = Environment(
        loader=PackageLoader("caseframe.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    heatmap_svg = valence_svg = ""
    if data.coverage is not None and data.coverage.heatmap.size:
        heatmap_svg = charts.to_svg(
            charts.heatmap_figure(data.coverage.heatmap, data.heatmap_title)
        )
    if data.valence is not None:
        valence_svg = charts.to_svg(charts.valence_figure(data.valence, data.valence_title))
    return env.get_template("report.html").render(
        data=data,
        heatmap_svg=heatmap_svg,
        valence_svg=valence_svg,
        no_data=NO_DATA,
        quote_html=quote_html,
    )


def quote_html(quotes: list[Quote]):
    """The quotes of one section as HTML, built here rather than in the template: a report
    can hold 100,000 quotes and a template loop is several times slower."""
    from html import escape

    from markupsafe import Markup

    def one(q: Quote) -> str:
        sources = "; ".join(f"{escape(i.document)} {i.start}–{i.end}" for i in q.items)
        tag = f" · {q.valence}" if q.valence else ""
        return (
            f'<blockquote class="quote valence-{q.valence or "none"}" '
            f'data-code="{escape(q.code_path)}">“<span class="quote-text">{escape(q.text)}'
            f'</span>” <span class="attr">{escape(q.attribution)}</span>\n'
            f'<div class="source">{sources}{tag}</div></blockquote>'
        )

    return Markup("\n".join(one(q) for q in quotes))
