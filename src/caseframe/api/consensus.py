"""The consensus coder: built by a rule, settled unit by unit in a meeting, traced to decisions.

A consensus coder is a human coder with the role ``consensus``; agreement leaves it out unless
named, so agreement before consensus stays what it was. Every consensus coding has a decision
row (``consensus_decisions``: action, note, who, when, what each coder had applied) that it
traces back to. Every write takes `actor` and audits in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.agreement_input import read_matrix
from caseframe.api.base import ProjectBase
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store.lookup import code_row, coder_row
from caseframe.store.queries import agreement as q

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Connection

DECISIONS = ("apply", "skip")


@dataclass
class ConsensusResult:
    coder: str
    rule: str
    coders: list[str]
    codings: int  # consensus codings written
    decided: int  # (unit, code) decisions the rule settled
    unresolved: pd.DataFrame  # code, unit, document, start, end, text, applied_by, ..., reason


class ConsensusMixin(ProjectBase):
    # -- a consensus coder by rule ----------------------------------------------------------

    def consensus(
        self,
        coders: Sequence[str] | None = None,
        as_coder: str = "consensus",
        rule: str = "majority",
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
        replace: bool = False,
        *,
        actor: str | None = None,
    ) -> ConsensusResult:
        """Write the codings of a consensus coder from `coders` by `rule`, in one transaction.

        Settled (unit, code) decisions become codings of `as_coder` spanning the unit, each
        with a decision row; units the rule cannot settle stay pending for
        :meth:`resolve_consensus` or the meeting. The original coders' codings are not touched.
        `replace` first removes `as_coder`'s own codings and decisions.
        """
        from caseframe.analysis.agreement_consensus import RULES, unit_list
        from caseframe.analysis.agreement_consensus import consensus as by_rule

        if rule not in RULES:
            raise InvalidInput(f"unknown consensus rule '{rule}'", hint=f"use {', '.join(RULES)}")
        if coders is not None and len(set(coders)) < 2:
            raise InvalidInput(
                "consensus needs at least two coders", hint="name them with --coders A,B"
            )
        with self.store.read() as conn:
            built = read_matrix(conn, coders, codes, documents, scheme, exact, True)
        if as_coder in built.matrix.coders:
            raise InvalidInput(
                f"the consensus coder '{as_coder}' is one of the coders it is built from",
                hint="choose another name with --as",
            )
        decided, unresolved = by_rule(built.matrix, rule=rule)
        units, m = built.units, built.matrix
        unit_pos = {u.id: i for i, u in enumerate(m.units)}
        code_pos = {c: j for j, c in enumerate(m.codes)}
        apply = [(unit_pos[u], code_pos[c]) for (u, c), yes in decided.items() if yes]
        pending = [
            {
                "unit": int(x.unit),
                "code": built.code_ids[code_pos[x.code]],
                "document": int(units["document_id"].iat[unit_pos[x.unit]]),
                "reason": x.reason,
                "applied_by": list(x.applied_by),
                "not_applied_by": list(x.not_applied_by),
            }
            for x in unresolved
        ]
        with self.writing(actor) as w:
            coder_id = _consensus_coder(w.conn, as_coder, replace)
            spans = [
                {
                    "document_id": int(units["document_id"].iat[u]),
                    "start": int(units["start"].iat[u]),
                    "end": int(units["end"].iat[u]),
                    "code_id": built.code_ids[j],
                    "coder_id": coder_id,
                    "meaning_unit_id": int(units["id"].iat[u]),
                }
                for u, j in apply
            ]
            ids = q.insert_unit_codings(w.conn, spans)
            who = {
                (u, j): {
                    c: bool(m.applied[u, k, j]) for k, c in enumerate(m.coders) if m.seen[u, k]
                }
                for u, j in apply
            }
            q.insert_decisions(
                w.conn,
                [
                    {**s, "applied": True, "action": "rule", "source": rule, "coders": who[key],
                     "coding_id": cid, "decided_by": w.actor}
                    for s, cid, key in zip(spans, ids, apply, strict=True)
                ],
            )  # fmt: skip
            open_docs = {p["document"] for p in pending}
            docs = sorted(set(int(d) for d in units["document_id"]))
            q.set_coder_documents(
                w.conn, coder_id, {d: "assigned" if d in open_docs else "done" for d in docs}
            )
            entry = {"from": list(m.coders), "rule": rule, "schemes": built.schemes}
            _save_entry(w.conn, as_coder, {**entry, "pending": pending})
            w.audit(
                "build", "consensus", as_coder, None, {**entry, "codings": len(ids)} | {
                    "pending": len(pending)}
            )  # fmt: skip
        frame = unit_list(units, m, unresolved)
        return ConsensusResult(as_coder, rule, list(m.coders), len(ids), len(decided), frame)

    def consensus_pending(self, as_coder: str = "consensus") -> pd.DataFrame:
        """The units a consensus coder still needs a decision on (with text, for a meeting)."""
        from caseframe.analysis.agreement_consensus import unit_frame_rows
        from caseframe.analysis.agreement_spans import code_labels

        with self.store.read() as conn:
            pending = _entry(conn, as_coder)["pending"]
            rows = q.units_with_text(conn, [p["unit"] for p in pending])
            tree = q.code_rows(conn)
        codes = list({p["code"] for p in pending})
        labels = dict(zip(codes, code_labels(tree, codes), strict=True))
        records = [
            {
                "code": labels[p["code"]],
                "unit": str(p["unit"]),
                "document": r.name,
                "start": r.start,
                "end": r.end,
                "text": r.text[r.start : r.end],
                "applied_by": ", ".join(p.get("applied_by", [])),
                "not_applied_by": ", ".join(p.get("not_applied_by", [])),
                "reason": p["reason"],
                "decision": "",
            }
            for p in pending
            if (r := rows.get(p["unit"])) is not None  # a unit gone by resegmenting: moot
        ]
        return unit_frame_rows(records)

    def resolve_consensus(
        self,
        unit: int | str,
        code: str | int,
        decision: str,
        as_coder: str = "consensus",
        *,
        note: str = "",
        actor: str | None = None,
    ) -> str:
        """Settle one (unit, code) for a consensus coder: `apply` writes its coding, `skip`
        records "not applied" (removing its coding if there was one). Returns what changed."""
        with self.writing(actor) as w:
            return _resolve(w, as_coder, [(unit, code, decision, None)], note)[0]

    def resolve_consensus_file(
        self, path: str | Path, as_coder: str = "consensus", *, actor: str | None = None
    ) -> int:
        """Decisions from an edited disagreement/pending list (CSV or XLSX with columns unit,
        code, decision = apply|skip, optional note; rows with an empty decision are left as
        they are), all in one transaction. Returns how many decisions were recorded."""
        from caseframe.api.consensus_meeting import read_decision_file

        items, notes = read_decision_file(Path(path))
        with self.writing(actor) as w:
            _resolve(w, as_coder, items, notes)
        return len(items)

    def consensus_coders(self) -> dict[str, dict[str, Any]]:
        """Consensus coders made in this project: name -> {from, rule, schemes, pending}."""
        with self.store.read() as conn:
            return q.registry(conn)

    # -- the meeting, unit by unit ---------------------------------------------------------

    def consensus_meeting(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Items to settle with progress; see caseframe.api.consensus_meeting.meeting. Kept
        (as a copy) until the project changes: a page reloaded is not worked out again."""
        import copy
        import gc

        from caseframe.api.consensus_meeting import meeting
        from caseframe.api.kept import kept

        def compute() -> dict[str, Any]:
            # tens of thousands of new row dicts with no reference cycles: the cyclic
            # collector's repeated walks over them cost more than making them
            paused = gc.isenabled()
            gc.disable()
            try:
                with self.store.read() as conn:
                    return meeting(conn, *args, **kwargs)
            finally:
                if paused:
                    gc.enable()

        def frozen(value: Any) -> Any:
            if isinstance(value, list | tuple):
                return tuple(frozen(v) for v in value)
            return value

        key = (
            "consensus meeting",
            frozen(args),
            tuple(sorted((k, frozen(v)) for k, v in kwargs.items())),
        )
        found = kept(self, key, compute, copy_out=False)
        # a copy of what a caller may change (a deep copy of 50,000 rows costs a second)
        items = [{**r, "disputed": list(r["disputed"])} for r in found["items"]]
        return {
            **found,
            "coders": list(found["coders"]),
            "codes": list(found["codes"]),
            "items": items,
            "item": copy.deepcopy(found["item"]),
        }

    def decide_consensus(
        self,
        unit: int | str,
        action: str,
        *,
        coders: Sequence[str] | None = None,
        coder: str | None = None,
        other: str | None = None,
        note: str = "",
        as_coder: str = "consensus",
        codes: Sequence[str | int] | None = None,
        scheme: str | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Record the meeting's resolution of one unit into `as_coder`: ``accept`` `coder`'s
        codes, ``both``, ``neither`` (only the codes all agreed on) or ``other`` (the agreed
        codes and code `other`), with a note. Returns code -> applied and the decision ids."""
        from caseframe.api.consensus_meeting import decide

        with self.writing(actor) as w:
            return decide(w, unit, action, coders, coder, other, note, as_coder, codes, scheme)

    def consensus_decisions(self, as_coder: str = "consensus") -> pd.DataFrame:
        """Every decision of a consensus coder: passage, code, applied, decision, note, who."""
        from caseframe.analysis.agreement_decisions import decisions_frame

        with self.store.read() as conn:
            coder_id = _entry_coder(conn, as_coder)
            rows = q.decisions(conn, coder_id)
            texts = q.document_texts(conn, {r["document_id"] for r in rows})
        return decisions_frame(rows, texts)

    def export_consensus_decisions(
        self, out: str | Path, as_coder: str = "consensus", fmt: str | None = None
    ) -> Path:
        """The decisions as XLSX, CSV or DOCX (by the extension unless `fmt`), with agreement
        before consensus for the audit trail."""
        from caseframe.api.consensus_meeting import export

        return export(self, Path(out), as_coder, fmt)

    def consensus_trace(self, coding_id: int) -> dict[str, Any] | None:
        """The decision (action, note, who, when) behind a consensus coding, or None."""
        with self.store.read() as conn:
            return q.decision_for_coding(conn, int(coding_id))


# --------------------------------------------------------------------------- helpers


def _who(m, u: int, j: int) -> dict[str, bool]:
    """coder -> applied code j to unit u, for the coders who coded the unit."""
    return {c: bool(m.applied[u, k, j]) for k, c in enumerate(m.coders) if m.seen[u, k]}


def _consensus_coder(conn: Connection, name: str, replace: bool) -> int:
    row = q.coder_by_name(conn, name)
    if row is None:
        coder_id = q.create_coder(conn, name)
        q.set_role(conn, coder_id, "consensus")
        return coder_id
    if row.kind != "human":
        raise Conflict(f"'{name}' is a machine coder", hint="choose another name with --as")
    count = q.count_codings(conn, row.id)
    if name not in q.registry(conn) and q.role_of(conn, row.id) != "consensus":
        if count:
            raise Conflict(
                f"'{name}' is a coder with codings of their own",
                hint="choose another name for the consensus coder with --as",
            )
    elif count and not replace:
        raise Conflict(
            f"consensus coder '{name}' already has {count} codings",
            hint="pass --replace to build it again, or choose another name with --as",
        )
    q.delete_coder_work(conn, row.id)
    q.set_role(conn, row.id, "consensus")
    return row.id


def _entry(conn: Connection, name: str) -> dict[str, Any]:
    registry = q.registry(conn)
    if name not in registry:
        raise NotFound(
            f"no consensus coder '{name}'",
            hint="make one with `caseframe consensus --coders A,B --as NAME`"
            + (f"; known: {', '.join(sorted(registry))}" if registry else ""),
        )
    return registry[name]


def _entry_coder(conn: Connection, name: str) -> int:
    _entry(conn, name)
    return coder_row(conn, name).id


def _save_entry(conn: Connection, name: str, entry: dict[str, Any]) -> None:
    registry = q.registry(conn)
    registry[name] = entry
    q.save_registry(conn, registry)


def _resolve(w, name: str, items: list[tuple], notes: str | list[str]) -> list[str]:
    """Apply decisions (unit, code, apply|skip, where) for consensus coder `name`."""
    conn = w.conn
    entry = _entry(conn, name)
    coder_id = coder_row(conn, name).id
    pending = {(p["unit"], p["code"]): p for p in entry["pending"]}
    changes: list[str] = []
    touched: set[int] = set()
    for i, (unit, code, decision, where) in enumerate(items):
        decision = str(decision).strip().lower()
        if decision not in DECISIONS:
            raise InvalidInput(
                f"unknown decision '{decision}'", where=where, hint="use apply or skip"
            )
        try:
            unit_id = int(str(unit).strip())
        except ValueError:
            raise InvalidInput(f"unit '{unit}' is not a unit id", where=where) from None
        mu = q.meaning_unit(conn, unit_id)
        if mu is None:
            raise NotFound(f"unknown meaning unit {unit_id}", where=where)
        code_id = code_row(conn, code.strip() if isinstance(code, str) else code).id
        note = notes[i] if isinstance(notes, list) else notes
        p = pending.pop((unit_id, code_id), None) or {}
        who = {c: True for c in p.get("applied_by", [])} | {
            c: False for c in p.get("not_applied_by", [])
        }
        from caseframe.api.consensus_meeting import set_unit_code

        change = set_unit_code(
            w, coder_id, mu, code_id, decision == "apply", decision, None, note, who
        )
        changes.append(change)
        touched.add(mu.document_id)
    # a document with no pending unit left is now fully coded by the consensus coder
    q.mark_documents_done(conn, coder_id, touched - {p["document"] for p in pending.values()})
    _save_entry(conn, name, {**entry, "pending": list(pending.values())})
    return changes
