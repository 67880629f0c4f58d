"""Analyses: quotes, co-occurrence, framework coverage and the study report (the framework
matrix, its summaries and workbook are in api/matrix.py).

Each method reads what it needs with one set-based query over codings (plus the small code and
case tables, `store/queries/analysis.py`) and hands DataFrames to the pure functions in
caseframe.analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from caseframe.api.kept import kept
from caseframe.api.matrix import RESPONDENT, SITE, MatrixMixin, check_choice, framework_key
from caseframe.errors import InvalidInput
from caseframe.model import Valence
from caseframe.store.lookup import code_row, framework_row
from caseframe.store.queries import analysis as q
from caseframe.util.names import unknown

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.coverage import Coverage
    from caseframe.analysis.quotes import Quote

SCOPES = ("unit", "overlap")
MEASURES = ("count", "jaccard")
VALENCES = tuple(v.value for v in Valence)


def _valences(valence: str | Sequence[str] | None) -> list[str] | None:
    if valence is None:
        return None
    wanted = [valence] if isinstance(valence, str) else list(valence)
    wanted = [v.strip() for w in wanted for v in w.split(",") if v.strip()]
    for v in wanted:
        if v not in VALENCES:
            raise InvalidInput(f"unknown valence '{v}'", hint=f"use {', '.join(sorted(VALENCES))}")
    return wanted or None


class AnalysisMixin(MatrixMixin):
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

    def quote_page(
        self,
        code: str | int,
        by: str = RESPONDENT,
        coder: str | None = None,
        valence: str | Sequence[str] | None = None,
        exact: bool = False,
        offset: int = 0,
        limit: int = 100,
    ) -> dict:
        """One page of `quotes(...)`: {"total": every quote's count, "offset", "limit",
        "quotes": the `limit` quotes from `offset`}. The whole list is kept until the project
        changes, so the next page (or the same one again) is a slice, not a new read."""
        if offset < 0 or limit < 1:
            raise InvalidInput("offset must be 0 or more and limit 1 or more")
        with self.store.read() as conn:
            code_id = code_row(conn, code).id
        wanted = _valences(valence)
        key = ("quotes", code_id, by, coder, tuple(wanted or ()), exact)
        found = kept(
            self,
            key,
            lambda: self.quotes(code_id, by, coder, wanted, exact),
            copy_out=False,  # Quote is frozen: the kept list is only sliced
        )
        return {
            "total": len(found),
            "offset": offset,
            "limit": limit,
            "quotes": found[offset : offset + limit],
        }

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

        check_choice("scope", scope, SCOPES)
        check_choice("measure", measure, MEASURES)
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
        codings; a site × component heatmap; the components never evidenced. Kept (as a copy)
        until the project changes."""
        key = ("coverage", framework, unit_kind, site_kind)
        return kept(self, key, lambda: self._coverage(framework, unit_kind, site_kind))

    def _coverage(self, framework: str, unit_kind: str, site_kind: str) -> Coverage:
        from caseframe.analysis.coverage import build_coverage
        from caseframe.analysis.matrix import code_components

        with self.store.read() as conn:
            fw = framework_row(conn, framework_key(conn, framework))
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
                framework = framework_key(conn, framework)
            else:
                framework = "sis"
            if by:
                names = q.grouping_names(conn)[1]
                if by not in names:
                    raise unknown("attribute", by, sorted(names), "caseframe cases list")
            else:
                by = "setting"
        return write_report(self, fmt, out or self.root / f"report.{fmt}", framework, by)
