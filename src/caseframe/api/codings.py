"""Codings: (segment, code, coder) with valence, strength and memo; import and export."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, select

from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound
from caseframe.model import Coding, CodingStatus, Valence
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import code_path, code_row, coder_row, document_case_keys, document_row
from caseframe.util.csvfile import read_csv_rows

VALENCES = {v.value for v in Valence}


def check_range(start: int, end: int, length: int, document: str) -> None:
    """The one validation of a segment range, used by every interface."""
    if start < 0 or end > length or start >= end:
        raise InvalidInput(
            f"offsets {start}–{end} do not fit document '{document}' (valid: 0–{length}, "
            "start before end)",
            hint="give a start and an end inside the document",
        )


def check_valence(valence: str | None, strength: int | None) -> None:
    if valence is not None and valence not in VALENCES:
        raise InvalidInput(
            f"unknown valence '{valence}'", hint=f"use {', '.join(sorted(VALENCES))}"
        )
    if strength is not None:
        if strength not in (1, 2):
            raise InvalidInput(f"strength {strength} is not 1 or 2")
        if valence is None:
            raise InvalidInput("a strength needs a valence", hint="add --valence")


class CodingsMixin:
    store: Any

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
    ) -> Coding:
        with self.store.transaction() as conn:
            coding_id = self._insert_coding(
                conn, document, start, end, code, coder, valence, strength, memo
            )
        return self.coding(coding_id)

    def _insert_coding(
        self,
        conn: Connection,
        document: str | int,
        start: int,
        end: int,
        code: str | int,
        coder: str,
        valence: str | None = None,
        strength: int | None = None,
        memo: str | None = None,
        *,
        score: float | None = None,
        status: str = CodingStatus.FINAL,
        coder_kind: str = "human",
        meaning_unit_id: int | None = None,
        guid: str | None = None,
    ) -> int:
        doc = document_row(conn, document)
        check_range(start, end, len(doc.text), doc.name)
        check_valence(valence, strength)
        code_id = code_row(conn, code).id
        coder_id = coder_row(conn, coder, create=True, kind=coder_kind).id
        same = conn.execute(
            select(t.codings.c.id).where(
                t.codings.c.document_id == doc.id,
                t.codings.c.start == start,
                t.codings.c.end == end,
                t.codings.c.code_id == code_id,
                t.codings.c.coder_id == coder_id,
            )
        ).first()
        if same is not None:
            raise Conflict(
                f"{coder} has already coded {start}–{end} of '{doc.name}' with this code "
                f"(coding {same.id})",
                hint="edit that coding instead",
            )
        stamp = now()
        return conn.execute(
            t.codings.insert().values(
                document_id=doc.id,
                start=start,
                end=end,
                code_id=code_id,
                coder_id=coder_id,
                meaning_unit_id=meaning_unit_id,
                valence=valence,
                strength=strength,
                memo=memo or None,
                score=score,
                status=status,
                guid=guid or new_guid(),
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key[0]

    def update_coding(self, coding_id: int, coder: str | None = None, **changes: Any) -> Coding:
        """Change a coding's code, range, valence, strength or memo. With `coder`, only that
        coder's own coding may be changed."""
        allowed = {"code", "start", "end", "valence", "strength", "memo"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))} of a coding")
        with self.store.transaction() as conn:
            row = _coding_row(conn, coding_id, coder)
            values: dict[str, Any] = {}
            if "code" in changes:
                values["code_id"] = code_row(conn, changes["code"]).id
            start, end = changes.get("start", row.start), changes.get("end", row.end)
            if "start" in changes or "end" in changes:
                doc = conn.execute(
                    select(t.documents).where(t.documents.c.id == row.document_id)
                ).one()
                check_range(start, end, len(doc.text), doc.name)
                values.update(start=start, end=end)
            valence = changes.get("valence", row.valence)
            strength = changes.get("strength", row.strength)
            check_valence(valence, strength)
            for key in ("valence", "strength", "memo"):
                if key in changes:
                    values[key] = changes[key]
            conn.execute(
                t.codings.update()
                .where(t.codings.c.id == coding_id)
                .values(updated_at=now(), **values)
            )
        return self.coding(coding_id)

    def delete_coding(self, coding_id: int, coder: str | None = None) -> None:
        with self.store.transaction() as conn:
            _coding_row(conn, coding_id, coder)
            conn.execute(delete(t.codings).where(t.codings.c.id == coding_id))

    def coding(self, coding_id: int) -> Coding:
        with self.store.read() as conn:
            r = _coding_row(conn, coding_id)
            return Coding(
                id=r.id,
                document_id=r.document_id,
                start=r.start,
                end=r.end,
                code_id=r.code_id,
                coder_id=r.coder_id,
                valence=r.valence,
                strength=r.strength,
                memo=r.memo,
                score=r.score,
                status=r.status,
                guid=r.guid,
            )

    def coders_frame(self) -> pd.DataFrame:
        with self.store.read() as conn:
            rows = conn.execute(select(t.coders).order_by(t.coders.c.name)).all()
        return pd.DataFrame.from_records(
            [{"id": r.id, "name": r.name, "kind": r.kind} for r in rows],
            columns=["id", "name", "kind"],
        )

    def codings_frame(
        self,
        codes: Sequence[str | int] | None = None,
        coders: Sequence[str] | None = None,
        documents: Sequence[str | int] | None = None,
        include_machine: bool = False,
        exact: bool = True,
    ) -> pd.DataFrame:
        """Every coding with its text and context. Machine suggestions only when asked for."""
        code_ids: list[int] | None = None
        if codes:
            code_ids = []
            for ref in codes:
                code_ids.extend(self.descendant_code_ids(ref, exact=exact))
        with self.store.read() as conn:
            query = (
                select(
                    t.codings,
                    t.documents.c.name.label("document"),
                    t.documents.c.text.label("doc_text"),
                    t.codes.c.name.label("code"),
                    t.coders.c.name.label("coder"),
                    t.coders.c.kind.label("coder_kind"),
                )
                .join(t.documents, t.documents.c.id == t.codings.c.document_id)
                .join(t.codes, t.codes.c.id == t.codings.c.code_id)
                .join(t.coders, t.coders.c.id == t.codings.c.coder_id)
                .order_by(t.documents.c.name, t.codings.c.start, t.codings.c.id)
            )
            if code_ids is not None:
                query = query.where(t.codings.c.code_id.in_(code_ids))
            if coders:
                ids = [coder_row(conn, c).id for c in coders]
                query = query.where(t.codings.c.coder_id.in_(ids))
            elif not include_machine:
                query = query.where(t.coders.c.kind == "human")
            if documents:
                query = query.where(
                    t.codings.c.document_id.in_([document_row(conn, d).id for d in documents])
                )
            rows = conn.execute(query).all()
            paths = {cid: code_path(conn, cid) for cid in {r.code_id for r in rows}}
            cases = document_case_keys(conn)
        columns = [
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
        return pd.DataFrame.from_records(
            [
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
            ],
            columns=columns,
        )

    def import_codings(
        self, path: str | Path, coder: str | None = None, skip_unplaced: bool = False
    ) -> tuple[int, list[str]]:
        """Codings from a CSV: document, code, coder and either start+end or the exact quote
        (`occurrence` picks the n-th match of a repeated quote). Every row is checked first;
        unless `skip_unplaced`, one bad row stores nothing. Returns (stored, problems)."""
        header, rows = read_csv_rows(path, required=("document", "code"))
        if "coder" not in header and not coder:
            raise InvalidInput(
                "no coder column", where=f"{path}:1", hint="add a coder column or pass --coder"
            )
        if "quote" not in header and not {"start", "end"} <= set(header):
            raise InvalidInput(
                "codings need start and end columns or a quote column", where=f"{path}:1"
            )
        problems: list[str] = []
        stored = 0
        with self.store.transaction() as conn:
            for line, row in rows:
                where = f"{path}:{line}"
                try:
                    doc = document_row(conn, row["document"])
                    start, end = _locate(row, doc.text, doc.name)
                    strength = int(row["strength"]) if row.get("strength") else None
                    self._insert_coding(
                        conn,
                        doc.id,
                        start,
                        end,
                        row["code"],
                        row.get("coder") or coder,
                        row.get("valence") or None,
                        strength,
                        row.get("memo") or None,
                    )
                    stored += 1
                except ValueError:
                    problems.append(f"{where}: strength '{row.get('strength')}' is not 1 or 2.")
                except CaseframeError as exc:
                    problems.append(f"{where}: {exc.line()}")
            if problems and not skip_unplaced:
                first = problems[0]
                more = f" (and {len(problems) - 1} more rows)" if len(problems) > 1 else ""
                raise InvalidInput(
                    f"{first.rstrip('.')}{more}; nothing was stored",
                    hint="fix the rows or pass --skip-unplaced to store the others",
                )
        return stored, problems

    def export_codings(self, fmt: str, out: str | Path, include_machine: bool = False) -> Path:
        from caseframe.util.output import checked_output

        out = checked_output(out, {"csv", "xlsx"}, fmt)
        frame = self.codings_frame(include_machine=include_machine).drop(columns=["document_id"])
        if fmt == "csv":
            frame.to_csv(out, index=False)
        else:
            frame.to_excel(out, index=False, sheet_name="codings")
        return out


def _coding_row(conn: Connection, coding_id: int, coder: str | None = None):
    row = conn.execute(select(t.codings).where(t.codings.c.id == coding_id)).first()
    if row is None:
        raise NotFound(f"unknown coding {coding_id}")
    if coder is not None:
        owner = coder_row(conn, coder, create=True)
        if row.coder_id != owner.id:
            raise Conflict(
                f"coding {coding_id} belongs to another coder", hint="you can change only your own"
            )
    return row


def _locate(row: dict[str, str], text: str, name: str) -> tuple[int, int]:
    """A coding's range from its offsets, or from its quote found verbatim in the text."""
    if row.get("start") and row.get("end"):
        try:
            return int(row["start"]), int(row["end"])
        except ValueError:
            raise InvalidInput(
                f"offsets '{row['start']}', '{row['end']}' are not numbers"
            ) from None
    quote = row.get("quote", "")
    if not quote:
        raise InvalidInput("neither offsets nor a quote given")
    hits = []
    at = text.find(quote)
    while at != -1:
        hits.append(at)
        at = text.find(quote, at + 1)
    if not hits:
        raise NotFound(f"quote not found in '{name}': \"{_short(quote)}\"")
    occurrence = row.get("occurrence")
    if occurrence:
        n = int(occurrence) if occurrence.isdigit() else 0
        if not 1 <= n <= len(hits):
            raise InvalidInput(f"occurrence {occurrence} of a quote found {len(hits)} times")
        return hits[n - 1], hits[n - 1] + len(quote)
    if len(hits) > 1:
        raise InvalidInput(
            f"quote occurs {len(hits)} times in '{name}': \"{_short(quote)}\"",
            hint="add an occurrence column or give offsets",
        )
    return hits[0], hits[0] + len(quote)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
