"""Quotes: coded passages with the study's attribution, "(A5)" or "(B12, C15)".

The same passage text coded with the same code in several documents is one quote made by several
respondents; its attribution lists them in natural order. Every quote keeps its items (document,
offsets, coding, coder) so it traces back to its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from caseframe.analysis.frames import natural_sorted


class QuoteItem(NamedTuple):
    document: str
    document_id: int
    start: int
    end: int
    coding_id: int
    coder: str


@dataclass(frozen=True)
class Quote:
    text: str
    attribution: str  # "(B12, C15)"
    cases: tuple[str, ...]  # the attributed keys (or attribute values), natural order
    code: str
    code_path: str
    valence: str | None  # the one valence of its codings, "mixed" if they differ, else None
    valences: tuple[str, ...]
    items: tuple[QuoteItem, ...]


def attribution(keys: list[str] | tuple[str, ...]) -> str:
    return f"({', '.join(keys)})" if keys else ""


def combined_valence(values: tuple[str, ...]) -> str | None:
    if not values:
        return None
    return values[0] if len(values) == 1 else "mixed"


def build_quotes(codings: pd.DataFrame, groups: pd.DataFrame, codes: pd.DataFrame) -> list[Quote]:
    """`codings`: id, document_id, document, start, end, code_id, coder, valence, text.
    `groups`: document_id → group (attribution keys). `codes`: codes_table() (tree order)."""
    if codings.empty:
        return []
    frame = codings.merge(groups, on="document_id", how="left")
    # a document with no case of the wanted kind is attributed to its own name
    frame["group"] = frame["group"].fillna(frame["document"]).astype(str)
    order = {int(i): n for n, i in enumerate(codes["id"])}
    docs = natural_sorted(frame["document"].unique())
    frame["code_order"] = frame["code_id"].map(order).fillna(len(order))
    frame["doc_order"] = frame["document"].map({d: n for n, d in enumerate(docs)})
    frame = frame.sort_values(["code_order", "doc_order", "start", "id"], kind="stable")
    frame["quote"] = frame.groupby(["code_id", "text"], sort=False).ngroup()
    names = dict(zip(codes["id"], codes["name"], strict=True))
    paths = dict(zip(codes["id"], codes["path"], strict=True))
    size = frame.groupby("quote")["id"].transform("size")
    quotes: dict[int, Quote] = {}
    # most passages are coded once: build those straight from the columns (as plain lists:
    # stepping through pandas' string arrays one item at a time is slow)
    single = frame[size == 1]
    for qid, text, code_id, group, valence, doc, doc_id, start, end, cid, coder in zip(
        *(single[c].tolist() for c in ("quote", "text", "code_id", "group", "valence", "document")),
        *(single[c].tolist() for c in ("document_id", "start", "end", "id", "coder")),
        strict=True,
    ):
        vals = (valence,) if isinstance(valence, str) else ()
        quotes[qid] = Quote(
            text,
            f"({group})",
            (group,),
            names.get(code_id, ""),
            paths.get(code_id, ""),
            vals[0] if vals else None,
            vals,
            (QuoteItem(doc, int(doc_id), int(start), int(end), int(cid), coder),),
        )
    acc: dict[int, tuple[int, str, set, set, list, set]] = {}
    multi = frame[size > 1]
    for qid, text, code_id, group, valence, doc, doc_id, start, end, cid, coder in zip(
        *(multi[c].tolist() for c in ("quote", "text", "code_id", "group", "valence", "document")),
        *(multi[c].tolist() for c in ("document_id", "start", "end", "id", "coder")),
        strict=True,
    ):
        entry = acc.get(qid)
        if entry is None:
            entry = acc[qid] = (code_id, text, set(), set(), [], set())
        entry[2].add(group)
        if isinstance(valence, str):
            entry[3].add(valence)
        if cid not in entry[5]:
            entry[5].add(cid)
            entry[4].append(QuoteItem(doc, int(doc_id), int(start), int(end), int(cid), coder))
    for qid, (code_id, text, cases, valences, items, _ids) in acc.items():
        keys = tuple(natural_sorted(cases))
        vals = tuple(sorted(valences))
        quotes[qid] = Quote(
            text,
            attribution(keys),
            keys,
            names.get(code_id, ""),
            paths.get(code_id, ""),
            combined_valence(vals),
            vals,
            tuple(items),
        )
    return [quotes[q] for q in sorted(quotes)]


QUOTE_COLUMNS = [
    "code",
    "code_path",
    "text",
    "attribution",
    "cases",
    "valence",
    "codings",
    "document",
    "start",
    "end",
    "coding_ids",
]


def quotes_to_frame(quotes: list[Quote]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "code": q.code,
                "code_path": q.code_path,
                "text": q.text,
                "attribution": q.attribution,
                "cases": ", ".join(q.cases),
                "valence": q.valence,
                "codings": len(q.items),
                "document": q.items[0].document,
                "start": q.items[0].start,
                "end": q.items[0].end,
                "coding_ids": ", ".join(str(i.coding_id) for i in q.items),
            }
            for q in quotes
        ],
        columns=QUOTE_COLUMNS,
    )
