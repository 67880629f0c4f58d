"""From the store to a CodingMatrix: the selection rules shared by agreement and consensus.

* coders: by default the human coders with work whose role is independent; reference and
  consensus coders (and a coder named ``consensus``, the reference coder of a coded-segment
  dataset) take part only when named;
* coder k saw unit u when k marked u's document as done (``coder_documents``) or has any coding
  in it; units of documents no chosen coder saw are left out;
* units, overlap and code groups: :mod:`caseframe.analysis.agreement_spans`.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from caseframe.errors import InvalidInput, TooFewCoders
from caseframe.store.lookup import code_row, coder_row, document_row
from caseframe.store.queries import agreement as q

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.agreement_matrix import CodingMatrix, UnitInfo

DATASET_CONSENSUS = "consensus"  # FORMATS.md: the reference coder of a coded-segment dataset
SCHEMES = ("imported", "turn", "paragraph", "sentences")  # analysis.agreement_spans.SCHEME_ORDER


@dataclass
class Built:
    """A CodingMatrix and the store rows behind its axes."""

    matrix: CodingMatrix
    units: pd.DataFrame  # id, document_id, scheme, start, end, document (matrix unit order)
    code_ids: list[int]  # the code each matrix code stands for (root of its group)
    coder_ids: list[int]
    schemes: dict[str, int] = field(default_factory=dict)  # scheme -> documents using it
    not_counted: dict[str, str] = field(default_factory=dict)  # coder -> role, left out


def check_scheme(scheme: str | None) -> None:
    if scheme is not None and scheme not in SCHEMES:
        raise InvalidInput(
            f"unknown unit scheme '{scheme}'", hint=f"use one of {', '.join(SCHEMES)}"
        )


def default_coders(conn: Connection) -> tuple[list[str], list[int], dict[str, str]]:
    """Independent human coders with work; and the ones left out with their role."""
    consensus = set(q.registry(conn))
    names, ids, left_out = [], [], {}
    for c in q.coders_with_work(conn):
        role = c["role"]
        if role == "independent" and (c["name"] in consensus or c["name"] == DATASET_CONSENSUS):
            role = "consensus" if c["name"] in consensus else "reference"
        if role != "independent":
            left_out[c["name"]] = role
            continue
        names.append(c["name"])
        ids.append(c["id"])
    return names, ids, left_out


def choose_coders(
    conn: Connection, coders: Sequence[str] | None
) -> tuple[list[str], list[int], dict[str, str]]:
    if coders is None:
        names, ids, left_out = default_coders(conn)
        if len(names) < 2:
            raise TooFewCoders(
                "agreement needs at least two coders; the project has "
                + (
                    f"only one human coder ('{names[0]}')"
                    if names
                    else "no independent human coder's codings"
                )
                + (f" (not counted: {', '.join(left_out)})" if left_out else ""),
                hint="add a second coder's codings, or name the coders with --coders",
            )
        return names, ids, left_out
    chosen = list(dict.fromkeys(c.strip() for c in coders if c.strip()))
    rows = [coder_row(conn, c) for c in chosen]
    if len(rows) < 2:
        raise TooFewCoders(
            "agreement needs at least two coders; you chose "
            + (f"only '{rows[0].name}'" if rows else "none"),
            hint="name two or more coders, e.g. --coders A,B",
        )
    return [r.name for r in rows], [r.id for r in rows], {}


def document_ids(conn: Connection, documents: Sequence[str | int] | None) -> list[int] | None:
    if documents is None:
        return None
    return list(dict.fromkeys(document_row(conn, d).id for d in documents))


def code_roots(conn: Connection, codes: Sequence[str | int] | None) -> list[int] | None:
    if codes is None:
        return None
    roots = [int(code_row(conn, c.strip() if isinstance(c, str) else c).id) for c in codes]
    if not roots:
        raise InvalidInput("no codes to compare", hint="choose at least one code")
    return roots


def read_matrix(
    conn: Connection,
    coders: Sequence[str] | None,
    codes: Sequence[str | int] | None,
    documents: Sequence[str | int] | None,
    scheme: str | None,
    exact: bool,
    with_text: bool,
) -> Built:
    """units x coders x codes from the store, in one read transaction's connection."""
    import numpy as np

    from caseframe.analysis import agreement_spans as spans
    from caseframe.analysis.agreement_matrix import CodingMatrix

    check_scheme(scheme)
    coder_names, coder_ids, left_out = choose_coders(conn, coders)
    doc_ids = document_ids(conn, documents)
    docseen = q.seen_documents(conn, coder_ids, doc_ids)
    if not docseen:
        raise InvalidInput(
            f"coders {', '.join(coder_names)} have coded none of the "
            f"{'chosen ' if documents else ''}documents",
            hint="mark documents as coded (import-coded does) or add codings",
        )
    tree = q.code_rows(conn)
    roots = code_roots(conn, codes)
    used = q.used_code_ids(conn, coder_ids) if roots is None else []
    groups = spans.code_groups(tree, roots, used, exact)
    if not groups:
        raise InvalidInput("the chosen coders have applied no code", hint="code some passages")
    chosen = spans.choose_schemes(
        q.unit_schemes(conn, [scheme] if scheme else list(SCHEMES)), docseen
    )
    if not chosen:
        raise InvalidInput(
            f"the coded documents have no meaning units{f' of scheme {scheme}' if scheme else ''}",
            hint="build them with `caseframe documents segment --units turn`",
        )
    units = spans.unit_frame(q.units_frame(conn, chosen.values()), chosen)
    all_codes = {cid for g in groups for cid in g}
    raw = q.coding_span_array(conn, coder_ids, all_codes, doc_ids)
    pairs = spans.overlaps(raw, units, coder_ids, groups)
    texts = (
        spans.unit_texts(units, q.document_texts(conn, units["document_id"])) if with_text else None
    )
    n_u, n_k, n_c = len(units), len(coder_ids), len(groups)
    applied = np.zeros((n_u, n_k, n_c), dtype=bool)
    applied[pairs[:, 0], pairs[:, 1], pairs[:, 2]] = True
    doc_pos = {d: i for i, d in enumerate(docseen)}
    seen_by_doc = np.array(list(docseen.values()), dtype=bool).reshape(-1, n_k)
    seen = seen_by_doc[units["document_id"].map(doc_pos).to_numpy(dtype=np.int64)]
    labels = spans.code_labels(tree, [g[0] for g in groups])
    info = unit_infos(units["id"].tolist(), units["document"].tolist(), texts)
    matrix = CodingMatrix(info, coder_names, labels, applied, seen)
    return Built(
        matrix,
        units,
        [g[0] for g in groups],
        coder_ids,
        spans.scheme_counts(chosen),
        left_out,
    )


def unit_infos(ids: list, documents: list, texts: list[str] | None) -> list[UnitInfo]:
    """One UnitInfo per unit. 80k fresh objects hold no reference cycles: pausing the cyclic
    collector while they are made saves its repeated walks over them."""
    from caseframe.analysis.agreement_matrix import UnitInfo

    paused = gc.isenabled()
    gc.disable()
    try:
        if texts is None:
            return [UnitInfo(str(u), d, None) for u, d in zip(ids, documents, strict=True)]
        return [UnitInfo(str(u), d, x) for u, d, x in zip(ids, documents, texts, strict=True)]
    finally:
        if paused:
            gc.enable()


def character_input(
    conn: Connection,
    coders: Sequence[str] | None,
    codes: Sequence[str | int] | None,
    documents: Sequence[str | int] | None,
    exact: bool,
) -> dict[str, Any]:
    """Documents every chosen coder saw, each coder's spans per (document, code) and labels."""
    from caseframe.analysis import agreement_spans as spans

    coder_names, coder_ids, left_out = choose_coders(conn, coders)
    docseen = q.seen_documents(conn, coder_ids, document_ids(conn, documents))
    common = [d for d, s in docseen.items() if all(s)]
    if not common:
        raise InvalidInput(
            f"coders {', '.join(coder_names)} have no document in common",
            hint="character-level agreement needs documents every chosen coder coded",
        )
    tree = q.code_rows(conn)
    roots = code_roots(conn, codes)
    used = q.used_code_ids(conn, coder_ids) if roots is None else []
    groups = spans.code_groups(tree, roots, used, exact)
    if not groups:
        raise InvalidInput("the chosen coders have applied no code", hint="code some passages")
    member: dict[int, list[int]] = {}
    for j, g in enumerate(groups):
        for cid in g:
            member.setdefault(cid, []).append(j)
    pos = {c: i for i, c in enumerate(coder_ids)}
    found: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for coder_id, code_id, doc_id, start, end in q.coding_spans(conn, coder_ids, None, common):
        for j in member.get(code_id, []):
            found.setdefault((doc_id, pos[coder_id], j), []).append((start, end))
    return {
        "coders": coder_names,
        "not_counted": left_out,
        "docs": q.documents_by_name(conn, common),
        "spans": found,
        "labels": spans.code_labels(tree, [g[0] for g in groups]),
    }
