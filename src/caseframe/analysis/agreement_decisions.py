"""The consensus meeting's record: items to walk (with context and code definitions) and the
decisions table as a frame, XLSX or DOCX for a study's audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from caseframe.analysis.agreement_consensus import MeetingItem

ACTION_LABELS = {
    "accept": "accept {source}",
    "both": "both",
    "neither": "neither",
    "other": "another code: {source}",
    "apply": "apply",
    "skip": "skip",
    "rule": "rule: {source}",
}
DECISION_COLUMNS = [
    "document",
    "start",
    "end",
    "text",
    "code",
    "applied",
    "decision",
    "note",
    "coders",
    "decided_by",
    "decided_at",
    "coding_id",
]


def action_label(action: str, source: str | None) -> str:
    return ACTION_LABELS.get(action, action).format(source=source or "")


def item_view(
    item: MeetingItem,
    start: int,
    end: int,
    document_text: str,
    definitions: dict[str, str],
    context: int = 200,
) -> dict[str, Any]:
    """One item for the meeting page: the passage, text around it, and per code who applied
    it and its definition."""
    before = document_text[max(0, start - context) : start]
    after = document_text[end : end + context]
    coders = list(item.by_coder)

    def code_entry(code: str) -> dict[str, Any]:
        return {
            "code": code,
            "definition": definitions.get(code, ""),
            "applied_by": [c for c in coders if code in item.by_coder[c]],
            "not_applied_by": [c for c in coders if code not in item.by_coder[c]],
        }

    return {
        "unit": item.unit,
        "document": item.document,
        "start": start,
        "end": end,
        "text": document_text[start:end],
        "before": before,
        "after": after,
        "disputed": [code_entry(c) for c in item.disputed],
        "agreed": [code_entry(c) for c in item.agreed],
        "by_coder": {c: list(v) for c, v in item.by_coder.items()},
        "not_coded_by": list(item.not_coded_by),
    }


def decisions_frame(rows: list[dict[str, Any]], texts: dict[int, str]) -> pd.DataFrame:
    """Decision rows (store) as a table: one line per (unit, code) decided."""
    records = []
    for r in rows:
        text = texts.get(r["document_id"], "")
        coders = r.get("coders") or {}
        records.append(
            {
                "document": r["document"],
                "start": r["start"],
                "end": r["end"],
                "text": text[r["start"] : r["end"]],
                "code": r["code"],
                "applied": "yes" if r["applied"] else "no",
                "decision": action_label(r["action"], r.get("source")),
                "note": r.get("note") or "",
                "coders": "; ".join(
                    f"{c}: {'applied' if v else 'not applied'}" for c, v in coders.items()
                ),
                "decided_by": r["decided_by"],
                "decided_at": _iso(r["decided_at"]),
                "coding_id": r.get("coding_id"),
            }
        )
    return pd.DataFrame.from_records(records, columns=DECISION_COLUMNS)


def _iso(value: Any) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def write_decisions_docx(
    frame: pd.DataFrame, out: str | Path, coder: str, coders: list[str], figures: str
) -> Path:
    """A Word record of the meeting: who met, agreement before consensus, then one entry per
    unit with the passage, each code's decision and the note."""
    import docx

    from caseframe.util.atomic import atomic_write

    document = docx.Document()
    document.add_heading(f"Consensus decisions: {coder}", level=1)
    document.add_paragraph(
        f"Coders compared: {', '.join(coders) or 'as recorded per decision'}. "
        f"{len(frame)} decisions on "
        f"{frame[['document', 'start', 'end']].drop_duplicates().shape[0]} units."
    )
    if figures:
        document.add_paragraph(f"Agreement before consensus: {figures}")
    for (doc_name, start, end), group in frame.groupby(["document", "start", "end"], sort=False):
        document.add_heading(f"{doc_name}, characters {start}–{end}", level=2)
        document.add_paragraph(str(group["text"].iloc[0])).style = "Quote"
        for r in group.itertuples():
            line = document.add_paragraph(style="List Bullet")
            line.add_run(f"{r.code}: ").bold = True
            line.add_run(f"{'applied' if r.applied == 'yes' else 'not applied'} ({r.decision})")
            if r.coders:
                line.add_run(f"; coders: {r.coders}")
        notes = [n for n in dict.fromkeys(group["note"]) if n]
        for note in notes:
            document.add_paragraph(f"Note: {note}")
        who = ", ".join(dict.fromkeys(group["decided_by"]))
        document.add_paragraph(f"Decided by {who} on {group['decided_at'].iloc[0]}.")
    return atomic_write(out, lambda tmp: document.save(str(tmp)))
