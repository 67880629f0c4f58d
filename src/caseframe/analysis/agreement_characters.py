"""Character-level agreement per code: kappa on characters (two coders) and unitized alpha.

The unit set is stated: the characters of the documents every selected coder coded (a coder
who did not code a document cannot disagree on its characters). Pooled figures treat those
documents as one continuum. Figures stay within [-1, 1] or are ``None`` with a reason; codes
that no selected coder put on any of these characters are listed apart.
"""

from __future__ import annotations

from typing import Any

from caseframe.analysis.agreement_readings import character_reading
from caseframe.analysis.agreement_spans import merge
from caseframe.analysis.unitized import character_kappa, unitized_alpha

UNITS = "characters of the documents every selected coder coded"
NOT_ON_CHARACTERS = "not computed on characters: read cohen_kappa (two coders) and u_alpha"

Spans = dict[tuple[int, int, int], list[tuple[int, int]]]  # (doc id, coder, code) -> spans


def _bounded(value: float | None, reason: str | None) -> tuple[float | None, str | None]:
    if value is None:
        return None, reason or "no variation"
    if value < -1 - 1e-9 or value > 1 + 1e-9:
        return None, f"computed value {value:.3g} lies outside [-1, 1]"
    return min(max(value, -1.0), 1.0), None


def _stat(value: float | None, units: int, reason: str | None = None) -> dict[str, Any]:
    return {"value": value, "units": units, "convention": "complete", "reason": reason}


def character_rows(
    docs: list[tuple[int, str, str]],
    spans: Spans,
    labels: list[str],
    coders: list[str],
) -> dict[str, Any]:
    """Per code: pooled kappa and uα over `docs` (id, name, text), with a per-document table."""
    two = len(coders) == 2
    offsets, total = {}, 0
    for doc_id, _name, text in docs:
        offsets[doc_id] = total
        total += len(text)
    per_code, not_applied = [], []
    for j, label in enumerate(labels):
        per_doc, pooled = [], {k: [] for k in range(len(coders))}
        for doc_id, name, text in docs:
            merged = {k: merge(spans.get((doc_id, k, j), [])) for k in range(len(coders))}
            for k, s in merged.items():
                pooled[k].extend((a + offsets[doc_id], b + offsets[doc_id]) for a, b in s)
            if not any(merged.values()) or not text:
                continue  # nobody used the code here: nothing to show
            per_doc.append(_document_entry(name, text, merged, label, coders))
        if not any(pooled.values()):
            not_applied.append(label)
            continue
        per_code.append(_code_row(label, total, pooled, coders, per_doc, two))
    return {
        "per_code": per_code,
        "codes_not_applied": not_applied,
        "characters": total,
        "offsets": offsets,
    }


def _document_entry(name, text, merged, label, coders) -> dict[str, Any]:
    entry: dict[str, Any] = {"document": name, "characters": len(text)}
    if len(coders) == 2:
        ck = character_kappa(len(text), merged[0], merged[1])
        kappa, _ = _bounded(ck.kappa, ck.reason)
        entry.update(percent_agreement=ck.percent_agreement, cohen_kappa=kappa)
    ua = unitized_alpha(
        len(text), {c: [(a, b, label) for a, b in merged[k]] for k, c in enumerate(coders)}
    )
    entry["u_alpha"], _ = _bounded(ua.u_alpha, ua.reasons.get("u_alpha"))
    return entry


def _code_row(label, total, pooled, coders, per_doc, two) -> dict[str, Any]:
    row: dict[str, Any] = {"code": label, "units": total, "documents": len(per_doc)}
    stats: dict[str, dict[str, Any]] = {}
    if two:
        ck = character_kappa(total, pooled[0], pooled[1])
        kappa, reason = _bounded(ck.kappa, ck.reason)
        row.update(percent_agreement=ck.percent_agreement, cohen_kappa=kappa)
        stats["percent_agreement"] = _stat(ck.percent_agreement, total)
        stats["cohen_kappa"] = _stat(kappa, total, reason)
    else:
        row.update(percent_agreement=None, cohen_kappa=None)
        why = f"kappa on characters compares two coders; {len(coders)} are selected"
        stats["percent_agreement"] = _stat(None, total, why)
        stats["cohen_kappa"] = _stat(None, total, why)
    alpha = unitized_alpha(
        total, {c: [(a, b, label) for a, b in pooled[k]] for k, c in enumerate(coders)}
    )
    u_alpha, reason = _bounded(alpha.u_alpha, alpha.reasons.get("u_alpha"))
    stats["u_alpha"] = _stat(u_alpha, total, reason)
    stats["krippendorff_alpha"] = _stat(u_alpha, total, reason)
    for name in ("fleiss_kappa", "gwet_ac1"):
        stats[name] = _stat(None, total, NOT_ON_CHARACTERS)
    row.update(
        fleiss_kappa=None,
        krippendorff_alpha=u_alpha,
        gwet_ac1=None,
        u_alpha=u_alpha,
        coded={c: int(sum(b - a for a, b in pooled[k])) for k, c in enumerate(coders)},
        per_document=per_doc,
        statistics=stats,
    )
    row["reading"] = character_reading(row, len(coders))
    return row


def domain_alpha(
    docs: list[tuple[int, str, str]],
    offsets: dict[int, int],
    total: int,
    spans: Spans,
    labels: list[str],
    coders: list[str],
) -> dict[str, Any]:
    """uα, |uα, |cuα over all chosen codes when they form one semantic domain."""
    if len(labels) < 2 or not total:
        return {"domain": None, "domain_note": "one code: see u_alpha per code"}
    layout: dict[str, list[tuple[int, int, str]]] = {c: [] for c in coders}
    for doc_id, name, _text in docs:
        for k, coder in enumerate(coders):
            own = sorted(
                (a, b, j) for j in range(len(labels)) for a, b in spans.get((doc_id, k, j), [])
            )
            for (_, e1, _), (s2, _, _) in zip(own, own[1:], strict=False):
                if s2 < e1:
                    return {
                        "domain": None,
                        "domain_note": f"{coder}'s codes overlap in {name}, so the codes are "
                        "not one semantic domain; |cuα is not computed",
                    }
            layout[coder].extend(
                (a + offsets[doc_id], b + offsets[doc_id], labels[j]) for a, b, j in own
            )
    result = unitized_alpha(total, layout)
    values = {}
    reasons = dict(result.reasons)
    for key in ("u_alpha", "binary_u_alpha", "cu_alpha"):
        values[key], why = _bounded(getattr(result, key), reasons.get(key))
        if values[key] is None:
            reasons[key] = why or reasons.get(key, "")
    return {
        "domain": {
            **values,
            "per_value": {
                k: _bounded(v, None)[0] if v is not None else None
                for k, v in result.per_value.items()
            },
            "cu_coverage": result.cu_coverage,
            "reasons": reasons,
            "units": total,
            "convention": "complete",
        },
        "domain_note": "the chosen codes never overlap within a coder's coding: one domain",
    }
