"""Codings: (segment, code, coder) with valence, strength and memo; import and export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.base import ProjectBase
from caseframe.errors import CaseframeError, InvalidInput, NotFound
from caseframe.model import Coding, CodingStatus
from caseframe.store.lookup import code_row, coder_row, document_case_keys
from caseframe.store.queries import codings as q
from caseframe.store.queries import documents as doc_q

# The checks live beside the queries; they are named here too for the modules that import them.
from caseframe.store.queries.codings import VALENCES, check_range, check_valence

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["VALENCES", "CodingsMixin", "check_range", "check_valence"]

FRAME_COLUMNS = [
    "id",
    "document",
    "document_id",
    "start",
    "end",
    "text",
    "code",
    "code_id",
    "code_path",
    "coder",
    "coder_kind",
    "valence",
    "strength",
    "memo",
    "score",
    "status",
    "cases",
    "guid",
]


class CodingsMixin(ProjectBase):
    def add_coding(
        self,
        document: str | int,
        start: int,
        end: int,
        code: str | int,
        coder: str,
        valence: str | None = None,
        strength: int | None = None,
        memo: str | None = None,
        *,
        actor: str | None = None,
    ) -> Coding:
        with self.writing(actor) as w:
            coding_id = q.add(w.conn, document, start, end, code, coder, valence, strength, memo)
            coding = q.to_coding(q.get(w.conn, coding_id))
            w.audit("add", "coding", coding.id, None, asdict(coding))
        return coding

    def update_coding(
        self, coding_id: int, coder: str | None = None, *, actor: str | None = None, **changes: Any
    ) -> Coding:
        """Change a coding's code, range, valence, strength or memo. With `coder`, only that
        coder's own coding may be changed."""
        allowed = {"code", "start", "end", "valence", "strength", "memo"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} of a coding")
        with self.writing(actor) as w:
            row = q.require(w.conn, coding_id, coder)
            values: dict[str, Any] = {}
            if "code" in changes:
                values["code_id"] = code_row(w.conn, changes["code"]).id
            start, end = changes.get("start", row.start), changes.get("end", row.end)
            if "start" in changes or "end" in changes:
                doc = doc_q.find(w.conn, row.document_id)
                check_range(start, end, len(doc.text), doc.name)
                values.update(start=start, end=end)
            valence = changes.get("valence", row.valence)
            strength = changes.get("strength", row.strength)
            check_valence(valence, strength)
            for key in ("valence", "strength", "memo"):
                if key in changes:
                    values[key] = changes[key]
            q.update(w.conn, coding_id, values)
            after = q.to_coding(q.get(w.conn, coding_id))
            w.audit("update", "coding", coding_id, asdict(q.to_coding(row)), asdict(after))
        return after

    def delete_coding(
        self, coding_id: int, coder: str | None = None, *, actor: str | None = None
    ) -> None:
        with self.writing(actor) as w:
            row = q.require(w.conn, coding_id, coder)
            q.delete_one(w.conn, coding_id)
            w.audit("delete", "coding", coding_id, asdict(q.to_coding(row)), None)

    def coding(self, coding_id: int) -> Coding:
        with self.store.read() as conn:
            return q.to_coding(q.require(conn, coding_id))

    def coders_records(self) -> list[dict[str, Any]]:
        """One dict per coder: id, name, kind."""
        with self.store.read() as conn:
            return [{"id": r.id, "name": r.name, "kind": r.kind} for r in q.coders(conn)]

    def coders_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.coders_records(), columns=["id", "name", "kind"])

    def codings_records(
        self,
        codes: Sequence[str | int] | None = None,
        coders: Sequence[str] | None = None,
        documents: Sequence[str | int] | None = None,
        include_machine: bool = False,
        exact: bool = True,
    ) -> list[dict[str, Any]]:
        """Every coding with its text and context (one dict per coding, the columns of
        `codings_frame`). Machine suggestions only when asked for."""
        code_ids: list[int] | None = None
        if codes:
            code_ids = []
            for ref in codes:
                code_ids.extend(self.descendant_code_ids(ref, exact=exact))
        with self.store.read() as conn:
            rows = q.listing(
                conn,
                code_ids=code_ids,
                coder_ids=[coder_row(conn, c).id for c in coders] if coders else None,
                document_ids=[doc_q.find(conn, d).id for d in documents] if documents else None,
                human_only=not include_machine,
            )
            paths = q.code_paths(conn) if rows else {}
            cases = document_case_keys(conn) if rows else {}
        return [
            {
                "id": r.id,
                "document": r.document,
                "document_id": r.document_id,
                "start": r.start,
                "end": r.end,
                "text": r.doc_text[r.start : r.end],
                "code": r.code,
                "code_id": r.code_id,
                "code_path": paths[r.code_id],
                "coder": r.coder,
                "coder_kind": r.coder_kind,
                "valence": r.valence,
                "strength": r.strength,
                "memo": r.memo,
                "score": r.score,
                "status": r.status,
                "cases": ", ".join(sorted(cases.get(r.document_id, []))),
                "guid": r.guid,
            }
            for r in rows
        ]

    def codings_frame(
        self,
        codes: Sequence[str | int] | None = None,
        coders: Sequence[str] | None = None,
        documents: Sequence[str | int] | None = None,
        include_machine: bool = False,
        exact: bool = True,
    ) -> pd.DataFrame:
        """`codings_records` as a DataFrame."""
        import pandas as pd

        records = self.codings_records(codes, coders, documents, include_machine, exact)
        return pd.DataFrame.from_records(records, columns=FRAME_COLUMNS)

    def import_codings(
        self,
        path: str | Path,
        coder: str | None = None,
        skip_unplaced: bool = False,
        *,
        actor: str | None = None,
    ) -> tuple[int, list[str]]:
        """Codings from a CSV: document, code, coder and either start+end or the exact quote
        (`occurrence` picks the n-th match of a repeated quote). Every row is checked first;
        unless `skip_unplaced`, one bad row stores nothing. Returns (stored, problems).

        Documents, codes and coders are resolved once per import (each document's text read
        once), then all rows are inserted with one executemany in the one transaction."""
        from caseframe.interop.codings_csv import read_codings_csv

        rows = read_codings_csv(path, coder)
        problems: list[str] = []
        with self.writing(actor) as w:
            docs = doc_q.find_many(w.conn, (row["document"] for _line, row in rows))
            codes = _memo(lambda ref: code_row(w.conn, ref).id)
            coders = _memo(lambda name: coder_row(w.conn, name, create=True).id)
            taken = {
                key: f"coding {cid}"
                for key, cid in q.existing(
                    w.conn, (d.id for d in docs.values() if not isinstance(d, NotFound))
                ).items()
            }
            values = []
            for line, row in rows:
                where = f"{path}:{line}"
                try:
                    placed = _place(row, docs[row["document"]], codes, coders, coder, taken)
                except ValueError:
                    problems.append(f"{where}: strength '{row.get('strength')}' is not 1 or 2.")
                except CaseframeError as exc:
                    problems.append(f"{where}: {exc.line()}")
                else:
                    taken[_key(placed)] = f"line {line}"
                    values.append(placed)
            if problems and not skip_unplaced:
                first = problems[0]
                more = f" (and {len(problems) - 1} more rows)" if len(problems) > 1 else ""
                raise InvalidInput(
                    f"{first.rstrip('.')}{more}; nothing was stored",
                    hint="fix the rows or pass --skip-unplaced to store the others",
                )
            stored = q.insert_many(w.conn, values)
            w.audit(
                "import",
                "coding",
                None,
                None,
                {"file": Path(path).name, "stored": stored, "skipped": len(problems)},
            )
        return stored, problems

    def export_codings(self, fmt: str, out: str | Path, include_machine: bool = False) -> Path:
        """Every coding as CSV or XLSX; cells that a spreadsheet would run as formulas are
        neutralised (`codings import` restores them)."""
        from caseframe.interop.tables import write_csv, write_xlsx
        from caseframe.util.output import checked_output

        out = checked_output(out, {"csv", "xlsx"}, fmt)
        frame = self.codings_frame(include_machine=include_machine).drop(columns=["document_id"])
        frame["strength"] = frame["strength"].astype("Int64")  # "2", not "2.0", beside blanks
        if fmt == "csv":
            return write_csv(frame, out)
        return write_xlsx({"codings": frame}, out)


def _memo(resolve: Callable[[str], int]) -> Callable[[str], int]:
    """`resolve` asked once per distinct name; a failure is remembered and raised again."""
    known: dict[str, int | CaseframeError] = {}

    def get(name: str) -> int:
        if name not in known:
            try:
                known[name] = resolve(name)
            except CaseframeError as exc:
                known[name] = exc
        found = known[name]
        if isinstance(found, CaseframeError):
            raise found
        return found

    return get


def _key(values: dict[str, Any]) -> q.Key:
    return (
        values["document_id"],
        values["start"],
        values["end"],
        values["code_id"],
        values["coder_id"],
    )


def _place(
    row: dict[str, str],
    doc: Any,
    codes: Callable[[str], int],
    coders: Callable[[str], int],
    default_coder: str | None,
    taken: dict[q.Key, str],
) -> dict[str, Any]:
    """One CSV row as coding values, checked in the order `add_coding` checks them."""
    from caseframe.interop.codings_csv import locate

    if isinstance(doc, CaseframeError):
        raise doc
    start, end = locate(row, doc.text, doc.name)
    strength = int(row["strength"]) if row.get("strength") else None
    valence = row.get("valence") or None
    check_range(start, end, len(doc.text), doc.name)
    check_valence(valence, strength)
    code_id = codes(row.get("code_path") or row["code"])
    coder = row.get("coder") or default_coder or ""
    coder_id = coders(coder)
    values = {
        "document_id": doc.id,
        "start": start,
        "end": end,
        "code_id": code_id,
        "coder_id": coder_id,
        "valence": valence,
        "strength": strength,
        "memo": row.get("memo") or None,
        "status": CodingStatus.FINAL.value,
    }
    other = taken.get(_key(values))
    if other is not None:
        raise q.duplicate(coder, start, end, doc.name, other)
    return values
