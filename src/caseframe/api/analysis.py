"""Analyses: quotes, the framework matrix and its summaries, co-occurrence, framework coverage,
the study report and the matrix workbook.

Each method reads what it needs with one set-based query over codings (plus the small code and
case tables) and hands DataFrames to the pure functions in caseframe.analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select

from caseframe.analysis import frames as fr
from caseframe.analysis.cooccurrence import (
    MEASURES,
    SCOPES,
    overlap_cooccurrence,
    place_in_units,
    unit_cooccurrence,
)
from caseframe.analysis.coverage import Coverage, build_coverage
from caseframe.analysis.matrix import (
    CELLS,
    KIND_WORDS,
    MatrixSummary,
    build_matrix,
    code_columns,
    code_components,
    code_labels,
    evidence_fingerprint,
    placed,
    summary_matrix,
)
from caseframe.analysis.quotes import Quote, build_quotes, quotes_to_frame
from caseframe.api.codings import VALENCES
from caseframe.errors import InvalidInput, NotFound
from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.store.lookup import case_row, code_row, framework_row

RESPONDENT = "respondent"
SITE = "site"


def _valences(valence: str | Sequence[str] | None) -> list[str] | None:
    if valence is None:
        return None
    wanted = [valence] if isinstance(valence, str) else list(valence)
    wanted = [v.strip() for w in wanted for v in w.split(",") if v.strip()]
    for v in wanted:
        if v not in VALENCES:
            raise InvalidInput(f"unknown valence '{v}'", hint=f"use {', '.join(sorted(VALENCES))}")
    return wanted or None


class AnalysisMixin:
    store: Any
    root: Path

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
        wanted = _valences(valence)
        with self.store.read() as conn:
            root = code_row(conn, code)
            codes = fr.codes_table(conn)
            ids = fr.descendants(codes, root.id, exact)
            groups = fr.document_groups(conn, by, allow_missing=(RESPONDENT,))
            codings = fr.load_codings(
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
        return quotes_to_frame(self.quotes(code, by, coder, valence, exact, include_machine))

    # -- framework matrix ---------------------------------------------------------------------

    def _columns(self, conn: Connection, cols: str, framework: str | None, codes: pd.DataFrame):
        """(code_id → column map, ordered columns, column kind 'code'|'framework')."""
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
            known = list(conn.scalars(select(t.frameworks.c.key)))
            raise NotFound(
                f"unknown matrix columns '{cols}'",
                hint=f"use codes, categories, main_categories, themes or a framework "
                f"({', '.join(known)})",
            ) from None
        components = fr.frame_of(
            conn,
            select(t.framework_components.c.id, t.framework_components.c.key)
            .where(t.framework_components.c.framework_id == fw.id)
            .order_by(t.framework_components.c.position, t.framework_components.c.id),
        )
        links = code_components(codes, fr.frame_of(conn, select(t.code_mappings)))
        keys = dict(zip(components["id"], components["key"], strict=True))
        links = links[links["component_id"].isin(keys)]
        mapping = pd.DataFrame(
            {"code_id": links["code_id"], "column": links["component_id"].map(keys)}
        )
        return mapping, list(components["key"]), "framework"

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
        if cell not in CELLS:
            raise InvalidInput(f"unknown matrix cell '{cell}'", hint=f"use {', '.join(CELLS)}")
        with self.store.read() as conn:
            mode = fr.check_grouping(conn, rows, allow_missing=(RESPONDENT,))
            row_keys = fr.group_members(conn, rows, allow_missing=(RESPONDENT,))
            codes = fr.codes_table(conn)
            col_map, columns, col_kind = self._columns(conn, cols, framework, codes)
            row_groups = fr.document_groups(conn, rows, allow_missing=(RESPONDENT,))
            respondents = (
                row_groups
                if rows == RESPONDENT
                else fr.document_groups(conn, RESPONDENT, allow_missing=(RESPONDENT,))
            )
            needed = ["id", "document_id", "code_id"]
            needed += {"valence": ["valence"], "quotes": ["start", "end"]}.get(cell, [])
            codings = fr.load_codings(
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

    def _evidence(self, conn: Connection, pairs: list[tuple[int, int]]) -> dict:
        """{(case_id, code_id): codings frame} for summaries: codings of the code or below, in
        documents of the case or below (human codings)."""
        if not pairs:
            return {}
        codes = fr.codes_table(conn)
        cases, _attrs = fr.case_tree(conn)
        chain = fr.chains(cases)
        links = fr.frame_of(conn, select(t.document_cases))
        code_ids = {c for _case, code in pairs for c in fr.descendants(codes, code)}
        codings = fr.load_codings(conn, code_ids=sorted(code_ids))
        codings = codings.merge(links, on="document_id")
        out = {}
        for case_id, code_id in pairs:
            under = {c for c, ch in chain.items() if case_id in ch}
            sub = codings[
                codings["case_id"].isin(under)
                & codings["code_id"].isin(fr.descendants(codes, code_id))
            ]
            out[(case_id, code_id)] = sub.drop_duplicates("id").sort_values("id")
        return out

    def summarise(
        self, row_case: str, code: str | int, text: str, author: str | None = None
    ) -> MatrixSummary:
        """Write (or rewrite) the matrix summary for one row case and one column code; it is
        linked to the codings it summarises and goes stale when they change."""
        if not text or not text.strip():
            raise InvalidInput("empty summary", hint="write the summary's text")
        with self.store.transaction() as conn:
            case = case_row(conn, row_case)
            code_id = code_row(conn, code).id
            evidence = self._evidence(conn, [(case.id, code_id)])[(case.id, code_id)]
            stamp = now()
            existing = conn.execute(
                select(t.matrix_summaries.c.id).where(
                    t.matrix_summaries.c.case_id == case.id,
                    t.matrix_summaries.c.code_id == code_id,
                )
            ).first()
            values = {
                "text": text.strip(),
                "author": author,
                "evidence_fingerprint": evidence_fingerprint(evidence),
                "updated_at": stamp,
            }
            if existing:
                summary_id = existing.id
                conn.execute(
                    t.matrix_summaries.update()
                    .where(t.matrix_summaries.c.id == summary_id)
                    .values(**values)
                )
                conn.execute(
                    delete(t.matrix_summary_codings).where(
                        t.matrix_summary_codings.c.summary_id == summary_id
                    )
                )
            else:
                summary_id = conn.execute(
                    t.matrix_summaries.insert().values(
                        case_id=case.id, code_id=code_id, created_at=stamp, **values
                    )
                ).inserted_primary_key[0]
            if len(evidence):
                conn.execute(
                    t.matrix_summary_codings.insert(),
                    [{"summary_id": summary_id, "coding_id": int(i)} for i in evidence["id"]],
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
            codings=tuple(int(i) for i in evidence["id"]),
            stale=bool(row["stale"]),
        )

    def summaries(self) -> pd.DataFrame:
        """Every matrix summary with its case, code, linked codings and `stale` flag."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(t.matrix_summaries, t.cases.c.key.label("case"))
                .join(t.cases, t.cases.c.id == t.matrix_summaries.c.case_id)
                .order_by(t.matrix_summaries.c.id)
            ).all()
            linked: dict[int, list[int]] = {}
            for sid, cid in conn.execute(select(t.matrix_summary_codings)):
                linked.setdefault(sid, []).append(cid)
            codes = fr.codes_table(conn).set_index("id")
            evidence = self._evidence(conn, [(r.case_id, r.code_id) for r in rows])
        records = []
        for r in rows:
            now_ev = evidence[(r.case_id, r.code_id)]
            records.append(
                {
                    "id": r.id,
                    "case": r.case,
                    "code": codes.at[r.code_id, "name"],
                    "code_id": r.code_id,
                    "code_path": codes.at[r.code_id, "path"],
                    "text": r.text,
                    "author": r.author,
                    "codings": len(linked.get(r.id, [])),
                    "stale": evidence_fingerprint(now_ev) != r.evidence_fingerprint,
                    "updated_at": r.updated_at,
                }
            )
        columns = ["id", "case", "code", "code_id", "code_path", "text", "author", "codings"]
        return pd.DataFrame.from_records(records, columns=[*columns, "stale", "updated_at"])

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
        from caseframe.reports.report import atomic_write
        from caseframe.util.output import checked_output

        out = checked_output(out, {"xlsx"}, fmt)
        col_list = [cols] if isinstance(cols, str) else list(cols or [])
        if not col_list:
            col_list = ["categories"]
            with self.store.read() as conn:
                if conn.execute(
                    select(t.frameworks.c.id).where(t.frameworks.c.key == "sis")
                ).first():
                    col_list.append("sis")
        sheets: dict[str, pd.DataFrame] = {}
        problems: list[str] = []
        for c in col_list:
            for cell in cells or CELLS:
                if cell == "summary" and c not in KIND_WORDS and c != "codes":
                    continue
                try:
                    sheets[f"{c} {cell}"[:31]] = self.matrix(rows, c, cell, framework, coder)
                except InvalidInput as exc:
                    problems.append(exc.message)
        if not sheets:
            raise InvalidInput(problems[0] if problems else "nothing to export")

        def write(tmp: Path) -> None:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                for name, frame in sheets.items():
                    frame.to_excel(writer, sheet_name=name, index_label=rows)

        return atomic_write(out, write)

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
        if scope not in SCOPES:
            raise InvalidInput(f"unknown scope '{scope}'", hint=f"use {', '.join(SCOPES)}")
        if measure not in MEASURES:
            raise InvalidInput(f"unknown measure '{measure}'", hint=f"use {', '.join(MEASURES)}")
        with self.store.read() as conn:
            groups = fr.document_groups(conn, by) if by else None
            codes = fr.codes_table(conn)
            codings = fr.load_codings(
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
                scheme = scheme or _main_scheme(conn)
                if scheme:
                    units = fr.int_frame(
                        conn,
                        select(
                            t.meaning_units.c.id,
                            t.meaning_units.c.document_id,
                            t.meaning_units.c.start,
                            t.meaning_units.c.end,
                        ).where(t.meaning_units.c.scheme == scheme),
                    )
                elif codings["meaning_unit_id"].isna().all():
                    raise InvalidInput(
                        "the project has no meaning units to count co-occurrence in",
                        hint="use scope 'overlap', or segment the documents ('caseframe "
                        "resegment')",
                    )
        if groups is not None:
            # group by integer codes; the names come back once the pairs are counted
            group_codes, group_names = pd.factorize(groups["group"])
            codings = codings.merge(groups.assign(group=group_codes), on="document_id")
        labels = code_labels(codes, [int(i) for i in codes["id"]])
        columns = [*(["group"] if by else []), "code_a", "code_b", "count"]
        columns += ["jaccard"] if measure == "jaccard" else []
        if codings.empty:
            return pd.DataFrame(columns=columns)
        codings = codings.reset_index(drop=True)
        if scope == "unit":
            placements = place_in_units(codings, units)
            result = unit_cooccurrence(codings, placements, labels, measure, bool(by))
        else:
            result = overlap_cooccurrence(codings, labels, measure, bool(by))
        sort = [*(["group"] if by else []), measure if measure == "jaccard" else "count"]
        result = result.sort_values(sort, ascending=[True] * bool(by) + [False], kind="stable")
        if by:
            names = np.asarray(group_names, dtype=object)[result["group"].to_numpy(np.int64)]
            result["group"] = pd.Categorical(names, fr.natural_sorted(set(names)), ordered=True)
            result = result.sort_values("group", kind="stable")
            result["group"] = result["group"].astype(str)
        return result.reset_index(drop=True)

    # -- framework coverage -------------------------------------------------------------------

    def coverage(
        self, framework: str = "sis", unit_kind: str = RESPONDENT, site_kind: str = SITE
    ) -> Coverage:
        """Per component of `framework`: respondents and sites with evidence, valence counts,
        codings; a site × component heatmap; the components never evidenced."""
        with self.store.read() as conn:
            fw = framework_row(conn, framework)
            components = fr.frame_of(
                conn,
                select(
                    t.framework_components.c.id,
                    t.framework_components.c.key,
                    t.framework_components.c.name,
                    t.framework_components.c.level,
                )
                .where(t.framework_components.c.framework_id == fw.id)
                .order_by(t.framework_components.c.position, t.framework_components.c.id),
            )
            codes = fr.codes_table(conn)
            links = code_components(codes, fr.frame_of(conn, select(t.code_mappings)))
            links = links[links["component_id"].isin(set(components["id"]))]
            codings = fr.load_codings(
                conn,
                code_ids=sorted(set(links["code_id"])),
                columns=("id", "document_id", "code_id", "valence"),
            )
            respondents = fr.document_groups(conn, unit_kind, allow_missing=(unit_kind,))
            sites = fr.document_groups(conn, site_kind, allow_missing=(site_kind,))
            site_keys = fr.natural_sorted(
                conn.scalars(select(t.cases.c.key).where(t.cases.c.kind == site_kind))
            )
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
        framework: str = "sis",
        by: str = "setting",
    ) -> Path:
        """The study report (Tables 1–3, results with quotes, coverage, matrix, methods,
        codebook) as one self-contained HTML file, a Word document or Markdown."""
        from caseframe.reports.report import write_report

        return write_report(self, fmt, out or self.root / f"report.{fmt}", framework, by)


def _main_scheme(conn: Connection) -> str | None:
    from sqlalchemy import func

    row = conn.execute(
        select(t.meaning_units.c.scheme, func.count().label("n"))
        .group_by(t.meaning_units.c.scheme)
        .order_by(func.count().desc())
    ).first()
    return row.scheme if row else None
