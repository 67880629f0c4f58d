"""The consensus meeting behind `Project.consensus_meeting` / `decide_consensus`, the decision
file reader and the decisions export. Orchestration only: store queries and analysis functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.agreement_input import read_matrix
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store.lookup import code_row
from caseframe.store.queries import agreement as q

if TYPE_CHECKING:
    from sqlalchemy import Connection

FORMATS = {"xlsx", "csv", "docx"}
SPAN = ("document_id", "start", "end")


def meeting(
    conn: Connection,
    coders: Sequence[str] | None = None,
    codes: Sequence[str | int] | None = None,
    documents: Sequence[str | int] | None = None,
    scheme: str | None = None,
    as_coder: str = "consensus",
    position: int = 0,
    context: int = 200,
) -> dict[str, Any]:
    """The units where the coders differ (on the chosen codes, in the chosen documents), which
    of them `as_coder` has settled (n of N), and the full view of the item at `position`."""
    from caseframe.analysis.agreement_consensus import meeting_items
    from caseframe.analysis.agreement_decisions import item_view

    built = read_matrix(conn, coders, codes, documents, scheme, False, False)
    m, units = built.matrix, built.units
    label_id = dict(zip(m.codes, built.code_ids, strict=True))
    items = meeting_items(m)
    coder = q.coder_by_name(conn, as_coder)
    decided: dict[tuple, dict] = {}
    if coder is not None:
        for d in q.decisions(conn, coder.id, with_rules=False):
            decided[(d["document_id"], d["start"], d["end"], d["code_id"])] = d
    rows = []
    # plain lists: a pandas lookup per item and column cost seconds on 50,000 items
    spans = [units[c].tolist() for c in ("document_id", "start", "end")]
    for item in items:
        doc_id, start, end = (int(values[item.position]) for values in spans)
        mine = [decided.get((doc_id, start, end, label_id[c])) for c in item.disputed]
        rows.append(
            {
                "unit": item.unit,
                "document": item.document,
                "start": start,
                "end": end,
                "disputed": list(item.disputed),
                "settled": all(mine),
                "decision": _decision_summary([d for d in mine if d]),
            }
        )
    out = {
        "coders": list(m.coders),
        "consensus": as_coder,
        "codes": list(m.codes),
        "total": len(rows),
        "settled": sum(r["settled"] for r in rows),
        "items": rows,
        "position": None,
        "item": None,
    }
    if rows:
        position = max(0, min(position, len(rows) - 1))
        item = items[position]
        doc_id = int(units["document_id"].iat[item.position])
        text = q.document_texts(conn, [doc_id])[doc_id]
        descriptions = q.code_descriptions(conn, built.code_ids)
        definitions = {c: descriptions.get(label_id[c], "") for c in m.codes}
        view = item_view(item, rows[position]["start"], rows[position]["end"], text, definitions,
                         context)  # fmt: skip
        out.update(position=position, item={**rows[position], **view})
    return out


def _decision_summary(rows: list[dict]) -> dict[str, Any] | None:
    if not rows:
        return None
    last = max(rows, key=lambda r: r["decided_at"])
    return {
        "action": last["action"],
        "source": last["source"],
        "note": last["note"],
        "decided_by": last["decided_by"],
    }


def decide(
    w,
    unit: int | str,
    action: str,
    coders: Sequence[str] | None,
    coder: str | None,
    other: str | None,
    note: str,
    as_coder: str,
    codes: Sequence[str | int] | None,
    scheme: str | None,
) -> dict[str, Any]:
    """One unit's resolution written into the consensus coder (see Project.decide_consensus)."""
    from caseframe.analysis.agreement_consensus import item_at, resolution

    conn = w.conn
    try:
        mu = q.meaning_unit(conn, int(str(unit).strip()))
    except ValueError:
        raise InvalidInput(f"unit '{unit}' is not a unit id") from None
    if mu is None:
        raise NotFound(f"unknown meaning unit {unit}")
    built = read_matrix(conn, coders, codes, [mu.document_id], scheme, False, False)
    m = built.matrix
    ids = [u.id for u in m.units]
    if str(mu.id) not in ids:
        raise InvalidInput(
            f"unit {mu.id} is not among the compared units of its document",
            hint="it belongs to another unit scheme; choose that scheme",
        )
    if as_coder in m.coders:
        raise InvalidInput(
            f"the consensus coder '{as_coder}' is one of the coders compared",
            hint="choose another consensus coder",
        )
    item = item_at(m, ids.index(str(mu.id)))
    other_id = None
    if action == "other":
        if not other:
            raise InvalidInput("name the other code", hint="choose a code for 'another code'")
        other_id = int(code_row(conn, other).id)
    result = resolution(item, action, coder, other)
    label_id = dict(zip(m.codes, built.code_ids, strict=True))
    if other is not None and other_id is not None:
        label_id[other] = other_id
    coder_id = _meeting_coder(conn, as_coder, list(m.coders), built.schemes)
    source = coder if action == "accept" else other if action == "other" else None
    changes = {}
    for label, applied in result.items():
        who = {c: label in item.by_coder[c] for c in item.by_coder}
        changes[label] = set_unit_code(
            w, coder_id, mu, label_id[label], applied, action, source, note, who
        )
    _drop_pending(conn, as_coder, mu.id, {label_id[c] for c in result})
    return {"unit": str(mu.id), "codes": result, "changes": changes}


def _meeting_coder(conn: Connection, name: str, compared: list[str], schemes: dict) -> int:
    """The consensus coder, made (role consensus) at the meeting's first decision."""
    registry = q.registry(conn)
    row = q.coder_by_name(conn, name)
    if row is not None:
        if name not in registry and q.role_of(conn, row.id) != "consensus":
            raise Conflict(
                f"'{name}' is a coder of their own, not a consensus coder",
                hint="choose another name for the consensus coder",
            )
        coder_id = row.id
    else:
        coder_id = q.create_coder(conn, name)
    q.set_role(conn, coder_id, "consensus")
    if name not in registry:
        registry[name] = {"from": compared, "rule": "meeting", "schemes": schemes, "pending": []}
        q.save_registry(conn, registry)
    return coder_id


def _drop_pending(conn: Connection, name: str, unit_id: int, code_ids: set[int]) -> None:
    registry = q.registry(conn)
    entry = registry.get(name)
    if not entry or not entry.get("pending"):
        return
    keep = [p for p in entry["pending"] if not (p["unit"] == unit_id and p["code"] in code_ids)]
    if len(keep) != len(entry["pending"]):
        registry[name] = {**entry, "pending": keep}
        q.save_registry(conn, registry)


# --------------------------------------------------------------------------- files


def read_decision_file(path: Path) -> tuple[list[tuple], list[str]]:
    """(unit, code, decision, where) items and their notes from an edited CSV/XLSX list."""
    from caseframe.interop.tables import restore_cell

    if not path.is_file():
        raise NotFound("file not found", where=str(path))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import pandas as pd

        frame = pd.read_excel(path, dtype=str).fillna("")
        header = [str(c) for c in frame.columns]
        rows = [(i + 2, {k: str(v).strip() for k, v in r.items()}) for i, r in frame.iterrows()]
    elif suffix == ".csv":
        from caseframe.util.csvfile import read_csv_rows

        header, rows = read_csv_rows(path)
    else:
        raise InvalidInput("decisions must be a .csv or .xlsx file", where=str(path))
    missing = {"unit", "code", "decision"} - set(header)
    if missing:
        raise InvalidInput(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(sorted(missing))}",
            where=f"{path}:1",
            hint="use the list written by `agreement disagreements` or `consensus`",
        )
    items, notes = [], []
    for line, r in rows:
        if not r.get("decision", "").strip():
            continue
        code = restore_cell(r["code"])
        items.append((r["unit"], code, r["decision"].strip().lower(), f"{path}:{line}"))
        notes.append(restore_cell(r.get("note", "")))
    if not items:
        raise InvalidInput(
            "no decisions in the file",
            where=str(path),
            hint="fill the decision column with apply or skip",
        )
    return items, notes


def export(project: Any, out: Path, as_coder: str, fmt: str | None) -> Path:
    from caseframe.interop.tables import write_csv, write_xlsx
    from caseframe.util.output import checked_output

    fmt = fmt or (out.suffix.lstrip(".").lower() or "xlsx")
    out = checked_output(out, FORMATS, fmt)
    frame = project.consensus_decisions(as_coder)
    compared = project.consensus_coders().get(as_coder, {}).get("from", [])
    before = ""
    if len(compared) >= 2:
        try:
            before = project.agreement_summary(bootstrap=0, coders=compared)["text"]
        except (InvalidInput, NotFound):
            before = ""
    if fmt == "csv":
        return write_csv(frame, out)
    if fmt == "xlsx":
        import pandas as pd

        about = pd.DataFrame(
            {"item": ["consensus coder", "coders compared", "agreement before consensus"],
             "value": [as_coder, ", ".join(compared), before]}
        )  # fmt: skip
        widths = {"text": 70, "note": 50, "coders": 40, "value": 100, "decision": 24}
        return write_xlsx(
            {"decisions": frame, "about": about}, out, widths=widths, freeze_header=True
        )
    from caseframe.analysis.agreement_decisions import write_decisions_docx

    return write_decisions_docx(frame, out, as_coder, compared, before)


def set_unit_code(
    w, coder_id: int, mu: Any, code_id: int, applied: bool, action: str, source: str | None,
    note: str, coders: dict[str, bool],
) -> str:  # fmt: skip
    """Make the consensus coder's coding of `code_id` on unit `mu` match the decision and save
    the decision (replacing an earlier one); audited. Returns applied/removed/unchanged."""
    conn = w.conn
    existing = q.coding_at(conn, coder_id, mu.document_id, mu.start, mu.end, code_id)
    coding_id, change = existing, "unchanged"
    if applied and existing is None:
        span = {"document_id": mu.document_id, "start": mu.start, "end": mu.end}
        row = {**span, "code_id": code_id, "coder_id": coder_id, "meaning_unit_id": mu.id}
        coding_id, change = q.insert_unit_codings(conn, [row])[0], "applied"
    elif not applied and existing is not None:
        q.delete_coding(conn, existing)
        coding_id, change = None, "removed"
    before = q.decision_at(conn, coder_id, mu.document_id, mu.start, mu.end, code_id)
    decision = {
        "coder_id": coder_id, "document_id": mu.document_id, "meaning_unit_id": mu.id,
        "start": mu.start, "end": mu.end, "code_id": code_id, "applied": applied,
        "action": action, "source": source, "note": note or "", "coders": coders,
        "coding_id": coding_id, "decided_by": w.actor,
    }  # fmt: skip
    decision_id = q.save_decisions(conn, [decision])[0]
    w.audit("decide", "consensus_decision", decision_id, before, decision)
    return change
