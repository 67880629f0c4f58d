"""What the study report shows, gathered once from the project; the HTML, Word and Markdown
renderers (report.py, docx_report.py, markdown_report.py) all read this one `ReportData`.

Contents: Table 1 (cases), Table 2 (the framework's components by level), Table 3 (theme → main
categories → categories), results per code with its description (the code's memo, else its
description) and its quotes with attributions, the coverage heatmap and valence chart, the
framework matrix, a methods paragraph built from the project's own figures, and the codebook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from caseframe.analysis.coverage import Coverage
from caseframe.analysis.matrix import VALENCE_SIGNS, code_columns
from caseframe.analysis.quotes import Quote, build_quotes
from caseframe.errors import CaseframeError
from caseframe.store.queries import analysis as queries

NO_DATA = (
    "There is no coded data in this project yet: import documents, code passages, then write "
    "the report again."
)
TABLE3_HEADERS = ("Theme", "Main category", "Category")
MATRIX_ROW_LIMIT = 300  # Word and Markdown tables beyond this are cut (HTML keeps all rows)


@dataclass
class Section:
    depth: int  # 0 theme, 1 main category, 2 category
    name: str
    path: str
    description: str
    quotes: list[Quote]
    includes_below: bool  # quotes of the codes below are included


@dataclass
class ReportData:
    title: str
    today: str
    has_data: bool
    citation: str = ""
    table1: pd.DataFrame | None = None
    table1_notes: dict[str, list[str]] = field(default_factory=dict)
    framework_name: str = ""
    framework_key: str = ""
    table2: pd.DataFrame | None = None  # columns = levels, cells = component names
    table3: pd.DataFrame | None = None
    sections: list[Section] = field(default_factory=list)
    coverage: Coverage | None = None
    valence: pd.DataFrame | None = None  # category × facilitator/barrier/mixed
    matrix: pd.DataFrame | None = None
    matrix_title: str = ""
    methods: str = ""
    codebook: pd.DataFrame | None = None
    heatmap_title: str = ""
    valence_title: str = "Valence of the coded passages per category"
    profiles: dict | None = None  # project.profiles_summary(), when sites are rated


def _try(fn: Callable[[], Any]) -> Any:
    """A part the project cannot give (no cases, no categories) is left out of the report."""
    try:
        return fn()
    except CaseframeError:
        return None


def _descriptions(project) -> dict[int, str]:
    memos = project.memos_frame(target_type="code")
    out: dict[int, str] = {}
    for target, text in zip(memos["target_id"], memos["text"], strict=True):
        out.setdefault(int(target), text)
    return out


def _table2(fw) -> pd.DataFrame:
    columns = {level: [c.name for c in fw.components if c.level == level] for level in fw.levels}
    height = max((len(v) for v in columns.values()), default=0)
    return pd.DataFrame({k: v + [""] * (height - len(v)) for k, v in columns.items()})


def _table3(codes: pd.DataFrame) -> pd.DataFrame:
    by_id = codes.set_index("id")
    has_child = set(codes["parent_id"].dropna().astype(int))
    rows = []
    for code_id, depth in zip(codes["id"], codes["depth"], strict=True):
        if depth == 2 or (depth < 2 and code_id not in has_child):
            names = [by_id.at[a, "name"] for a in reversed(by_id.at[code_id, "ancestors"])]
            rows.append(names + [""] * (3 - len(names)))
    return pd.DataFrame(rows, columns=list(TABLE3_HEADERS))


def _sections(codes: pd.DataFrame, quotes: list[Quote], descriptions: dict[int, str]):
    has_child = set(codes["parent_id"].dropna().astype(int))
    by_path: dict[str, list[Quote]] = {}
    for q in quotes:
        by_path.setdefault(q.code_path, []).append(q)
    sections = []
    for code_id, name, path, depth, text in zip(
        codes["id"],
        codes["name"],
        codes["path"],
        codes["depth"],
        codes["description"],
        strict=True,
    ):
        if depth > 2:
            continue
        below = depth == 2 or code_id not in has_child
        chosen = list(by_path.get(path, []))
        if below:
            chosen += [q for p, qs in by_path.items() if p.startswith(path + "/") for q in qs]
        sections.append(
            Section(int(depth), name, path, descriptions.get(int(code_id), text), chosen, below)
        )
    return sections


def _agreement_line(project) -> str:
    """The agreement sentence (which coders, which units, the figures) when the project has
    two or more independent coders; the report never fails for want of it."""
    sentence = getattr(project, "agreement_methods_sentence", None)
    if not callable(sentence):
        return ""
    try:
        return sentence()
    except CaseframeError:
        return ""


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _methods(project, conn, fw, codes: pd.DataFrame, coverage: Coverage | None) -> str:
    kinds = queries.case_kind_counts(conn)
    n_docs, words = queries.document_totals(conn)
    coders = queries.human_coding_counts(conn)
    n_codings = sum(n for _name, n in coders)
    parts = []
    if kinds:
        listed = ", ".join(
            _plural(n, k.replace("_", " ")) for k, n in sorted(kinds.items(), key=lambda x: -x[1])
        )
        parts.append(f"The study has {_plural(sum(kinds.values()), 'case')} ({listed}).")
    parts.append(f"The project holds {_plural(n_docs, 'document')} with {words:,} words in all.")
    if coders:
        names = "; ".join(f"{name} ({n:,})" for name, n in coders)
        parts.append(
            f"{n_codings:,} coded passages were made by {_plural(len(coders), 'coder')}: {names}."
        )
    kind_counts = codes["kind"].fillna("code").value_counts()
    if len(codes):
        listed = ", ".join(
            _plural(int(kind_counts[k]), k.replace("_", " "), k.replace("_", " ") + "s")
            if k != "main_category"
            else _plural(int(kind_counts[k]), "main category", "main categories")
            for k in ("theme", "main_category", "category", "code")
            if k in kind_counts
        ).replace("categorys", "categories")
        parts.append(f"The code tree has {_plural(len(codes), 'code')} ({listed}).")
    if fw is not None:
        levels = ", ".join(
            f"{level} ({sum(1 for c in fw.components if c.level == level)})" for level in fw.levels
        )
        line = (
            f"{fw.name} served as the deductive framework: {len(fw.components)} components in "
            f"{len(fw.levels)} levels ({levels})."
        )
        if coverage is not None:
            evidenced = len(fw.components) - len(coverage.never_evidenced)
            line += (
                f" Codes are linked to its components directly (deductive codes) or through "
                f"mappings of inductive categories; {evidenced} of the components have evidence."
            )
        parts.append(line)
    agreement = _agreement_line(project)
    if agreement:
        parts.append(agreement)
    return " ".join(parts)


def _valence_counts(codings: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame | None:
    for cols in ("categories", "codes"):
        mapping, columns = code_columns(codes, cols)
        if columns:
            break
    frame = codings.dropna(subset=["valence"]).merge(mapping, on="code_id")
    if frame.empty:
        return None
    counts = frame.groupby(["column", "valence"]).size().unstack("valence")
    counts = counts.reindex(index=columns, columns=[v for v, _ in VALENCE_SIGNS]).fillna(0)
    counts = counts[counts.sum(axis=1) > 0].astype(int)
    counts.index.name = None
    counts.columns.name = None
    return counts


def collect(project, framework: str = "sis", by: str = "setting") -> ReportData:
    """Everything the report shows, from the project (one pass over its codings)."""
    data = ReportData(title=project.name, today=date.today().isoformat(), has_data=False)
    citation = project.memos_frame(target_type="project")
    if len(citation):
        data.citation = str(citation["text"].iloc[0])
    attrs = project.attribute_types()
    table1 = _try(lambda: project.case_table(by=by if by in attrs else None))
    if table1 is not None and len(table1.frame) > 1:
        frame = table1.frame.rename(
            columns={"group": "Region", "respondents": "Respondents", "services": "Services"}
        )
        data.table1, data.table1_notes = frame, table1.notes
    fw = _try(lambda: project.framework(framework))
    if fw is not None:
        data.framework_name, data.framework_key = fw.name, fw.key
        data.table2 = _table2(fw)
    with project.store.read() as conn:
        codes = queries.codes_table(conn)
        groups = queries.document_groups(conn, "respondent", allow_missing=("respondent",))
        codings = queries.load_codings(conn, with_text=True)
        data.has_data = not codings.empty
        coverage = _try(lambda: project.coverage(framework)) if fw is not None else None
        data.methods = _methods(project, conn, fw, codes, coverage)
    if len(codes):
        data.table3 = _table3(codes)
        quotes = build_quotes(codings, groups, codes)
        data.sections = _sections(codes, quotes, _descriptions(project))
        book = project.codes_frame()
        data.codebook = book[
            ["path", "kind", "origin", "component", "maps_to", "description", "codings"]
        ].fillna("")
    summary = _try(lambda: project.profiles_summary(framework))
    if summary and summary.get("sites"):
        data.profiles = summary
    if not data.has_data:
        return data
    if coverage is not None:
        data.coverage = coverage
        data.heatmap_title = f"Codings per site and {fw.name} component"
    data.valence = _valence_counts(codings, codes)
    for rows in ("respondent", "document"):
        for cols in ("categories", "codes"):
            data.matrix = _try(lambda r=rows, c=cols: project.matrix(r, c, "count"))
            if data.matrix is not None:
                data.matrix_title = f"Framework matrix: coded passages per {rows} and " + (
                    "category" if cols == "categories" else "code"
                )
                return data
    return data
