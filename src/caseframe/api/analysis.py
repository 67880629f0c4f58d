"""Analyses: quotes, the framework matrix and its summaries, co-occurrence, framework coverage,
the study report and the matrix workbook.

Each method reads what it needs with one set-based query over codings (plus the small code and
case tables, `store/queries/analysis.py`) and hands DataFrames to the pure functions in
caseframe.analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from caseframe.api.base import ProjectBase
from caseframe.errors import InvalidInput, NotFound
from caseframe.model import Valence
from caseframe.store.core import now
from caseframe.store.lookup import case_row, code_row, framework_row
from caseframe.store.queries import analysis as q
from caseframe.util.names import closest, unknown

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.coverage import Coverage
    from caseframe.analysis.matrix import MatrixSummary
    from caseframe.analysis.quotes import Quote

RESPONDENT = "respondent"
SITE = "site"
CELLS = ("count", "respondents", "valence", "quotes", "summary")
CODE_COLUMN_WORDS = ("codes", "categories", "main_categories", "themes")
SCOPES = ("unit", "overlap")
MEASURES = ("count", "jaccard")
VALENCES = tuple(v.value for v in Valence)
FRAMEWORKS_LIST = "caseframe framework list"


def _valences(valence: str | Sequence[str] | None) -> list[str] | None:
    if valence is None:
        return None
    wanted = [valence] if isinstance(valence, str) else list(valence)
    wanted = [v.strip() for w in wanted for v in w.split(",") if v.strip()]
    for v in wanted:
        if v not in VALENCES:
            raise InvalidInput(f"unknown valence '{v}'", hint=f"use {', '.join(sorted(VALENCES))}")
    return wanted or None


def _choice(kind: str, value: str, allowed: Sequence[str]) -> str:
    """A value from a fixed set, or InvalidInput with the closest ones and every option."""
    if value in allowed:
        return value
    near = closest(value, allowed)
    guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
    raise InvalidInput(f"unknown {kind} '{value}'", hint=f"{guess}use {', '.join(allowed)}")


def _framework_key(conn: Connection, name: str) -> str:
    """A framework key as stored, or the unknown-name error with the closest keys."""
    keys = q.framework_keys(conn)
    for key in keys:
        if key.casefold() == name.strip().casefold():
            return key
    raise unknown("framework", name, keys, FRAMEWORKS_LIST)


class AnalysisMixin(ProjectBase):
    # -- quotes -------------------------------------------------------------------------------

    def quotes(
        self,
        code: str | int,
        by: str = RESPONDENT,
        coder: str | None = None,
        valence: str | Sequence[str] | None = None,
        exact: bool = False,
        include_machine: bool = False,
    ) -> list[Quote]:
        """Every passage coded with `code` (and, unless `exact`, the codes below it), attributed
        to the `by` cases of its documents ("(B12, C15)"), with document and offsets."""
        from caseframe.analysis.frames import descendants
        from caseframe.analysis.quotes import build_quotes

        wanted = _valences(valence)
        with self.store.read() as conn:
            root = code_row(conn, code)
            codes = q.codes_table(conn)
            ids = descendants(codes, root.id, exact)
            groups = q.document_groups(conn, by, allow_missing=(RESPONDENT,))
            codings = q.load_codings(
                conn, code_ids=ids, coder=coder, include_machine=include_machine, with_text=True
            )
        if wanted:
            codings = codings[codings["valence"].isin(wanted)]
        return build_quotes(codings, groups, codes)

    def quotes_frame(
        self,
        code: str | int,
        by: str = RESPONDENT,
        coder: str | None = None,
        valence: str | Sequence[str] | None = None,
        exact: bool = False,
        include_machine: bool = False,
    ) -> pd.DataFrame:
        from caseframe.analysis.quotes import quotes_to_frame

        return quotes_to_frame(self.quotes(code, by, coder, valence, exact, include_machine))

    # -- framework matrix ---------------------------------------------------------------------

    def _matrix_columns(self, conn: Connection, cols: str, framework: str | None, codes):
        """(code_id → column map, ordered columns, column kind 'code'|'framework')."""
        from caseframe.analysis.matrix import KIND_WORDS, code_columns, framework_columns

        if framework:  # a framework named for nothing is still a typo worth refusing
            framework = _framework_key(conn, framework)
        if cols == "codes" or cols in KIND_WORDS:
            mapping, columns = code_columns(codes, cols)
            if not columns:
                what = "codes" if cols == "codes" else f"codes of kind '{KIND_WORDS[cols]}'"
                raise InvalidInput(
                    f"the matrix would be empty: the project has no {what}",
                    hint="add codes"
                    if cols == "codes"
                    else "use --cols codes, or set the kind of your codes",
                )
            return mapping, columns, "code"
        key = framework or "sis" if cols == "framework" else cols
        try:
            fw = framework_row(conn, key)
        except NotFound:
            known = [*CODE_COLUMN_WORDS, *q.framework_keys(conn)]
            near = closest(cols, known)
            guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
            raise NotFound(
                f"unknown matrix columns '{cols}'",
                hint=f"{guess}use codes, categories, main_categories, themes or a framework "
                f"({', '.join(q.framework_keys(conn))})",
            ) from None
        mapping, columns = framework_columns(
            q.components(conn, fw.id), codes, q.code_mappings(conn)
        )
        return mapping, columns, "framework"

    def matrix(
        self,
        rows: str = RESPONDENT,
        cols: str = "categories",
        cell: str = "count",
        framework: str | None = None,
        coder: str | None = None,
    ) -> pd.DataFrame:
        """Rows (case kind, attribute or 'document') × columns (codes, a code kind or a
        framework's components); cells: count, respondents, valence, quotes or summary."""
        from caseframe.analysis.matrix import build_matrix, code_columns, placed, summary_matrix

        _choice("matrix cell", cell, CELLS)
        with self.store.read() as conn:
            mode = q.check_grouping(conn, rows, allow_missing=(RESPONDENT,))
            row_keys = q.group_members(conn, rows, allow_missing=(RESPONDENT,))
            codes = q.codes_table(conn)
            col_map, columns, col_kind = self._matrix_columns(conn, cols, framework, codes)
            row_groups = q.document_groups(conn, rows, allow_missing=(RESPONDENT,))
            respondents = (
                row_groups
                if rows == RESPONDENT
                else q.document_groups(conn, RESPONDENT, allow_missing=(RESPONDENT,))
            )
            needed = ["id", "document_id", "code_id"]
            needed += {"valence": ["valence"], "quotes": ["start", "end"]}.get(cell, [])
            codings = q.load_codings(
                conn,
                code_ids=sorted(set(col_map["code_id"])),
                coder=coder,
                with_text=cell == "quotes",
                columns=needed,
            )
        if not row_keys:
            raise InvalidInput(
                f"the matrix would be empty: the project has no '{rows}' rows",
                hint="add cases, or choose other --rows",
            )
        cells = placed(codings, row_groups, col_map)
        if cells.empty:
            raise InvalidInput(
                f"the matrix would be empty: no codings fall into {rows} × {cols}"
                + (f" for coder '{coder}'" if coder else ""),
                hint="code some passages, link documents to cases, or choose other rows/columns",
            )
        if cell != "summary":
            return build_matrix(cells, row_keys, columns, cell, respondents)
        if mode != "kind" or col_kind != "code":
            raise InvalidInput(
                "summary cells need case rows (e.g. --rows respondent) and code columns "
                "(--cols codes or categories)"
            )
        chosen = code_columns(codes, cols)[0]
        labels = dict(zip(chosen["code_id"], chosen["column"], strict=True))
        return summary_matrix(self.summaries(), row_keys, columns, labels)

    def matrix_columns(self, cols: str = "categories", framework: str | None = None) -> dict:
        """{column label: full name} for a matrix's columns: a code's path, or a framework
        component's name (for headers that show the id and the full text on hover)."""
        with self.store.read() as conn:
            codes = q.codes_table(conn)
            _map, columns, kind = self._matrix_columns(conn, cols, framework, codes)
            if kind == "code":
                from caseframe.analysis.matrix import code_labels

                labels = code_labels(codes, [int(i) for i in codes["id"]])
                full = {labels[int(i)]: p for i, p in zip(codes["id"], codes["path"], strict=True)}
                return {c: full.get(c, c) for c in columns}
            key = framework or "sis" if cols == "framework" else cols
            comps = q.components(conn, framework_row(conn, key).id, details=True)
            names = dict(zip(comps["key"], comps["name"], strict=True))
            return {c: names.get(c, c) for c in columns}

    def _summary_evidence(self, conn: Connection, pairs: list[tuple[int, int]]) -> dict:
        from caseframe.analysis.frames import descendants
        from caseframe.analysis.matrix import summary_evidence

        if not pairs:
            return {}
        codes = q.codes_table(conn)
        cases, _attrs = q.case_tree(conn)
        code_ids = {c for _case, code in pairs for c in descendants(codes, code)}
        codings = q.load_codings(conn, code_ids=sorted(code_ids))
        return summary_evidence(pairs, codes, q.chains(cases), q.document_cases(conn), codings)

    def summarise(
        self,
        row_case: str,
        code: str | int,
        text: str,
        author: str | None = None,
        *,
        actor: str | None = None,
    ) -> MatrixSummary:
        """Write (or rewrite) the matrix summary for one row case and one column code; it is
        linked to the codings it summarises and goes stale when they change."""
        from caseframe.analysis.matrix import MatrixSummary, evidence_fingerprint

        if not text or not text.strip():
            raise InvalidInput("empty summary", hint="write the summary's text")
        with self.writing(actor) as w:
            case = case_row(w.conn, row_case)
            code_id = code_row(w.conn, code).id
            before = q.summary_of(w.conn, case.id, code_id)
            evidence = self._summary_evidence(w.conn, [(case.id, code_id)])[(case.id, code_id)]
            values = {
                "text": text.strip(),
                "author": author,
                "evidence_fingerprint": evidence_fingerprint(evidence),
            }
            ids = [int(i) for i in evidence["id"]]
            summary_id = q.save_summary(w.conn, case.id, code_id, values, ids, now())
            w.audit(
                "update" if before else "add",
                "matrix_summary",
                summary_id,
                {"text": before.text, "author": before.author} if before else None,
                {"case": case.key, "code_id": code_id, **values, "codings": ids},
            )
        frame = self.summaries()
        row = frame[frame["id"] == summary_id].iloc[0]
        return MatrixSummary(
            id=int(row["id"]),
            case=row["case"],
            code=row["code"],
            code_path=row["code_path"],
            text=row["text"],
            author=row["author"],
            codings=tuple(ids),
            stale=bool(row["stale"]),
        )

    def summaries(self) -> pd.DataFrame:
        """Every matrix summary with its case, code, linked codings and `stale` flag."""
        from caseframe.analysis.matrix import summaries_frame

        with self.store.read() as conn:
            rows = q.summary_rows(conn)
            linked = q.summary_links(conn)
            codes = q.codes_table(conn)
            evidence = self._summary_evidence(conn, [(r.case_id, r.code_id) for r in rows])
        return summaries_frame(rows, linked, codes, evidence)

    def export_matrix(
        self,
        out: str | Path,
        rows: str = RESPONDENT,
        cols: str | Sequence[str] | None = None,
        cells: Sequence[str] | None = None,
        framework: str | None = None,
        coder: str | None = None,
        fmt: str = "xlsx",
    ) -> Path:
        """A workbook with one sheet per matrix (each column kind × cell kind)."""
        from caseframe.analysis.matrix import KIND_WORDS
        from caseframe.interop.tables import write_xlsx
        from caseframe.util.output import checked_output

        out = checked_output(out, {"xlsx"}, fmt)
        col_list = [cols] if isinstance(cols, str) else list(cols or [])
        if not col_list:
            col_list = ["categories"]
            with self.store.read() as conn:
                if "sis" in q.framework_keys(conn):
                    col_list.append("sis")
        for cell in cells or ():
            _choice("matrix cell", cell, CELLS)
        sheets: dict[str, pd.DataFrame] = {}
        problems: list[str] = []
        for c in col_list:
            for cell in cells or CELLS:
                if cell == "summary" and c not in KIND_WORDS and c != "codes":
                    continue
                try:
                    sheets[f"{c} {cell}"[:31]] = self.matrix(rows, c, cell, framework, coder)
                except NotFound:
                    raise  # an unknown name is a typo, not an empty sheet
                except InvalidInput as exc:
                    problems.append(exc.message)
        if not sheets:
            raise InvalidInput(problems[0] if problems else "nothing to export")
        return write_xlsx(sheets, out, index=True, index_label=rows)

    # -- co-occurrence ------------------------------------------------------------------------

    def cooccurrence(
        self,
        scope: str = "unit",
        measure: str = "count",
        by: str | None = None,
        coder: str | None = None,
        include_machine: bool = False,
        scheme: str | None = None,
    ) -> pd.DataFrame:
        """Pairs of codes that occur together (long form: [group], code_a, code_b, count,
        [jaccard]); `by` splits it by a case kind or attribute (e.g. region, setting)."""
        import pandas as pd

        from caseframe.analysis.cooccurrence import cooccurrence_table

        _choice("scope", scope, SCOPES)
        _choice("measure", measure, MEASURES)
        with self.store.read() as conn:
            groups = q.document_groups(conn, by) if by else None
            codes = q.codes_table(conn)
            codings = q.load_codings(
                conn,
                coder=coder,
                include_machine=include_machine,
                # the unit scope never looks at coding ids: one column fewer of 100k to fetch
                columns=(
                    *(("id",) if scope == "overlap" else ()),
                    "document_id",
                    "start",
                    "end",
                    "code_id",
                    "meaning_unit_id",
                ),
            )
            units = pd.DataFrame(columns=["id", "document_id", "start", "end"])
            if scope == "unit" and codings["meaning_unit_id"].isna().any():
                scheme = scheme or q.main_scheme(conn)
                if scheme:
                    units = q.meaning_units(conn, scheme)
                elif codings["meaning_unit_id"].isna().all():
                    raise InvalidInput(
                        "the project has no meaning units to count co-occurrence in",
                        hint="use scope 'overlap', or segment the documents ('caseframe "
                        "resegment')",
                    )
        return cooccurrence_table(codings, units, codes, groups, scope, measure)

    # -- framework coverage -------------------------------------------------------------------

    def coverage(
        self, framework: str = "sis", unit_kind: str = RESPONDENT, site_kind: str = SITE
    ) -> Coverage:
        """Per component of `framework`: respondents and sites with evidence, valence counts,
        codings; a site × component heatmap; the components never evidenced."""
        from caseframe.analysis.coverage import build_coverage
        from caseframe.analysis.matrix import code_components

        with self.store.read() as conn:
            fw = framework_row(conn, _framework_key(conn, framework))
            components = q.components(conn, fw.id, details=True)
            codes = q.codes_table(conn)
            links = code_components(codes, q.code_mappings(conn))
            links = links[links["component_id"].isin(set(components["id"]))]
            codings = q.load_codings(
                conn,
                code_ids=sorted(set(links["code_id"])),
                columns=("id", "document_id", "code_id", "valence"),
            )
            respondents = q.document_groups(conn, unit_kind, allow_missing=(unit_kind,))
            sites = q.document_groups(conn, site_kind, allow_missing=(site_kind,))
            site_keys = q.case_keys(conn, site_kind)
        evidence = codings.merge(links, on="code_id")
        result = build_coverage(fw.key, components, evidence, respondents, sites, site_keys)
        if links.empty:
            result.notes.append(
                f"no code is linked to framework '{fw.key}': give codes a framework component or "
                "map categories to components ('caseframe codes map')"
            )
        elif codings.empty:
            result.notes.append(f"no human codings on codes linked to '{fw.key}' yet")
        return result

    # -- report -------------------------------------------------------------------------------

    def report(
        self,
        fmt: str = "html",
        out: str | Path | None = None,
        framework: str | None = None,
        by: str | None = None,
    ) -> Path:
        """The study report (Tables 1–3, results with quotes, coverage, matrix, methods,
        codebook) as one self-contained HTML file, a Word document or Markdown.

        `framework` (default: sis when the project has it) and `by` (the attribute Table 1
        counts; default: setting when the cases have it) must name what exists: a typo is
        refused rather than giving a report without those sections."""
        from caseframe.reports.report import write_report

        with self.store.read() as conn:
            if framework:
                framework = _framework_key(conn, framework)
            else:
                framework = "sis"
            if by:
                names = q.grouping_names(conn)[1]
                if by not in names:
                    raise unknown("attribute", by, sorted(names), "caseframe cases list")
            else:
                by = "setting"
        return write_report(self, fmt, out or self.root / f"report.{fmt}", framework, by)
