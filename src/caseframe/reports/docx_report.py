"""The study report as a Word document (python-docx); charts as PNG pictures."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from caseframe.reports.data import MATRIX_ROW_LIMIT, NO_DATA, ReportData


def _table(doc, frame: pd.DataFrame, caption: str, index: str | None = None) -> None:
    doc.add_paragraph(caption, style="Caption")
    shown = frame.head(MATRIX_ROW_LIMIT)
    columns = ([index] if index else []) + [str(c) for c in shown.columns]
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, columns, strict=True):
        cell.text = name
    for label, row in shown.iterrows():
        values = ([str(label)] if index else []) + ["" if pd.isna(v) else str(v) for v in row]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    if len(frame) > len(shown):
        doc.add_paragraph(f"(first {len(shown)} of {len(frame)} rows; the HTML report has all)")


def save_docx(data: ReportData, path: Path) -> None:
    from docx import Document
    from docx.shared import Inches

    from caseframe.reports import charts

    doc = Document()
    doc.core_properties.title = data.title
    doc.core_properties.author = "caseframe"
    doc.add_heading(data.title, level=0)
    doc.add_paragraph(f"Study report written by caseframe on {data.today}.")
    if data.citation:
        doc.add_paragraph(data.citation)
    doc.add_heading("Methods", level=1)
    doc.add_paragraph(data.methods)
    if not data.has_data:
        doc.add_paragraph(NO_DATA)
    if data.table1 is not None:
        doc.add_heading("Cases", level=1)
        _table(
            doc,
            data.table1,
            "Table 1. Included cases (respondents and services by region and setting)",
        )
        for group, notes in data.table1_notes.items():
            for note in notes:
                doc.add_paragraph(f"{group}: {note}")
    if data.table2 is not None:
        doc.add_heading("Framework", level=1)
        _table(doc, data.table2, f"Table 2. {data.framework_name}: components by level")
    if data.table3 is not None:
        doc.add_heading("Theme, main categories and categories", level=1)
        _table(doc, data.table3, "Table 3. Theme, main categories and categories")
    doc.add_heading("Results", level=1)
    if not data.has_data:
        doc.add_paragraph(NO_DATA)
    for s in data.sections:
        doc.add_heading(s.name, level=min(s.depth + 2, 9))
        if s.description:
            doc.add_paragraph(s.description)
        for q in s.quotes:
            para = doc.add_paragraph(style="Quote")
            para.add_run(f"“{q.text}” ")
            para.add_run(q.attribution).bold = True
    if data.coverage is not None:
        doc.add_heading("Framework coverage", level=1)
        if data.coverage.heatmap.size:
            fig = charts.heatmap_figure(data.coverage.heatmap, data.heatmap_title)
            doc.add_picture(io.BytesIO(charts.to_png(fig)), width=Inches(6.3))
            doc.add_paragraph(f"Figure 1. {data.heatmap_title}.", style="Caption")
        _table(doc, data.coverage.components, f"Evidence per {data.framework_name} component")
        if data.coverage.never_evidenced:
            doc.add_paragraph(
                "Components never evidenced: " + ", ".join(data.coverage.never_evidenced) + "."
            )
    if data.profiles:
        name = data.profiles["framework_name"]
        doc.add_heading(f"Site sustainability profiles ({name})", level=1)
        doc.add_paragraph(data.profiles["text"])
        doc.add_paragraph(f"The full site profiles are in {data.profiles['href']}.")
    if data.valence is not None:
        doc.add_heading("Facilitators and barriers", level=1)
        fig = charts.valence_figure(data.valence, data.valence_title)
        doc.add_picture(io.BytesIO(charts.to_png(fig)), width=Inches(6.3))
        doc.add_paragraph(f"Figure 2. {data.valence_title}.", style="Caption")
    if data.matrix is not None:
        doc.add_heading("Framework matrix", level=1)
        _table(doc, data.matrix, data.matrix_title, index="case")
    if data.codebook is not None:
        doc.add_heading("Appendix: codebook", level=1)
        _table(doc, data.codebook, "Codebook")
    doc.save(str(path))
