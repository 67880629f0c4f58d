"""The framework matrix (rows × codes, categories or a framework's components), its written
summaries and the matrix workbook; the name checks the analyses share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from caseframe.api.base import ProjectBase
from caseframe.api.kept import kept
from caseframe.errors import InvalidInput, NotFound
from caseframe.store.core import now
from caseframe.store.lookup import case_row, code_row, framework_row
from caseframe.store.queries import analysis as q
from caseframe.util.names import closest, unknown

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.matrix import MatrixSummary

RESPONDENT = "respondent"
SITE = "site"
CELLS = ("count", "respondents", "valence", "quotes", "summary")
CODE_COLUMN_WORDS = ("codes", "categories", "main_categories", "themes")
FRAMEWORKS_LIST = "caseframe framework list"


def check_choice(kind: str, value: str, allowed: Sequence[str]) -> str:
    """A value from a fixed set, or InvalidInput with the closest ones and every option."""
    if value in allowed:
        return value
    near = closest(value, allowed)
    guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
    raise InvalidInput(f"unknown {kind} '{value}'", hint=f"{guess}use {', '.join(allowed)}")


def framework_key(conn: Connection, name: str) -> str:
    """A framework key as stored, or the unknown-name error with the closest keys."""
    keys = q.framework_keys(conn)
    for key in keys:
        if key.casefold() == name.strip().casefold():
            return key
    raise unknown("framework", name, keys, FRAMEWORKS_LIST)


class MatrixMixin(ProjectBase):
    # -- framework matrix ---------------------------------------------------------------------

    def _matrix_columns(self, conn: Connection, cols: str, framework: str | None, codes):
        """(code_id → column map, ordered columns, column kind 'code'|'framework')."""
        from caseframe.analysis.matrix import KIND_WORDS, code_columns, framework_columns

        if framework:  # a framework named for nothing is still a typo worth refusing
            framework = framework_key(conn, framework)
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
        framework's components); cells: count, respondents, valence, quotes or summary.
        Kept (as a copy) until the project changes."""
        key = ("matrix", rows, cols, cell, framework, coder)
        return kept(self, key, lambda: self._matrix(rows, cols, cell, framework, coder))

    def _matrix(
        self,
        rows: str,
        cols: str,
        cell: str,
        framework: str | None,
        coder: str | None,
    ) -> pd.DataFrame:
        from caseframe.analysis.matrix import build_matrix, code_columns, placed, summary_matrix

        check_choice("matrix cell", cell, CELLS)
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

    def matrix_cell(
        self,
        row: str,
        column: str,
        rows: str = RESPONDENT,
        cols: str = "categories",
        framework: str | None = None,
        coder: str | None = None,
    ) -> list[str]:
        """The passages of one quote cell, one per item: what `matrix(rows, cols, "quotes",
        ...).at[row, column]` holds line by line, with only that cell's passages read and
        attributed (the whole quotes matrix slices the text of every coding)."""
        from caseframe.analysis.matrix import build_matrix, placed

        def read() -> dict:
            with self.store.read() as conn:
                q.check_grouping(conn, rows, allow_missing=(RESPONDENT,))
                codes = q.codes_table(conn)
                col_map, columns, _kind = self._matrix_columns(conn, cols, framework, codes)
                row_groups = q.document_groups(conn, rows, allow_missing=(RESPONDENT,))
                return {
                    "rows": q.group_members(conn, rows, allow_missing=(RESPONDENT,)),
                    "columns": columns,
                    "col_map": col_map,
                    "row_groups": row_groups,
                    "respondents": row_groups
                    if rows == RESPONDENT
                    else q.document_groups(conn, RESPONDENT, allow_missing=(RESPONDENT,)),
                    # the same read as the whole matrix (same codes, so the same row order);
                    # only the opened cell's codings get their text
                    "codings": q.load_codings(
                        conn,
                        code_ids=sorted(set(col_map["code_id"])),
                        coder=coder,
                        columns=["id", "document_id", "code_id", "start", "end"],
                    ),
                }

        # kept until the project changes: the next cell of the same matrix is a filter
        key = ("matrix cell inputs", rows, cols, framework, coder)
        got = kept(self, key, read, copy_out=False)  # read only below, never changed
        if row not in got["rows"] or column not in got["columns"]:
            raise InvalidInput(
                f"the matrix has no cell '{row}' × '{column}'", hint="open a cell from the matrix"
            )

        def lines() -> list[str]:
            in_row = got["row_groups"][got["row_groups"]["group"] == row]
            in_column = got["col_map"][got["col_map"]["column"] == column]
            codings = got["codings"]
            keep = codings["document_id"].isin(set(in_row["document_id"]))
            keep &= codings["code_id"].isin(set(in_column["code_id"]))
            codings = codings[keep].reset_index(drop=True)
            with self.store.read() as conn:
                q.attach_text(conn, codings)
            cells = placed(codings, in_row, in_column)
            if cells.empty:
                return []
            found = build_matrix(cells, [row], [column], "quotes", got["respondents"])
            return [line for line in str(found.at[row, column] or "").split("\n") if line]

        return list(kept(self, ("matrix cell", row, column, *key[1:]), lines, copy_out=False))

    def matrix_columns(self, cols: str = "categories", framework: str | None = None) -> dict:
        """{column label: full name} for a matrix's columns: a code's path, or a framework
        component's name (for headers that show the id and the full text on hover)."""
        return kept(
            self, ("matrix columns", cols, framework), lambda: self._columns(cols, framework)
        )

    def _columns(self, cols: str, framework: str | None) -> dict:
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
            check_choice("matrix cell", cell, CELLS)
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
