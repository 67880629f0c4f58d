"""What a suggestion request reads from the store, in one go: the target codes and what a method
may know about them, the units to suggest for and the human-coded units to learn from.

Rules (docs/suggestions.md, "Workflow"): units are the meaning units of one scheme per document
(``imported`` where present, else ``turn``, ...; or the scheme asked for); a training unit
carries code c when a human coding of c overlaps it by at least half of the shorter of the two;
the documents suggested for are those named, or else those where no human applied any target
code; the model learns from the other documents a human coded, never from those it codes.
Speaker labels are blanked and headings, interviewer turns and very short units skipped
(`caseframe.suggest.units`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from caseframe.errors import InvalidInput, NotFound
from caseframe.store.lookup import code_path, code_row, document_row, framework_row
from caseframe.store.queries import agreement as aq
from caseframe.store.queries import suggestions as q

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from caseframe.suggest.base import CodeSpec
    from caseframe.suggest.units import UnitRules

SCHEMES = ("imported", "turn", "paragraph", "sentences")  # analysis.agreement_spans.SCHEME_ORDER
UNIT_COLUMNS = ["id", "document_id", "scheme", "start", "end", "speaker", "document"]


@dataclass
class SuggestData:
    """Units, texts and labels for one request."""

    code_ids: list[int]
    specs: list[CodeSpec]
    target_docs: list[int]
    target_units: pd.DataFrame  # UNIT_COLUMNS, the units a method reads
    target_texts: list[str]  # speaker labels blanked
    train_units: pd.DataFrame
    train_texts: list[str]
    Y: np.ndarray  # training units x codes, 0/1
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> target units skipped
    interviewers: list[str] = field(default_factory=list)  # speakers learned to be asking


def collect(
    conn: Connection,
    framework: str | None,
    codes: Sequence[str | int] | None,
    documents: Sequence[str | int] | None,
    scheme: str | None,
    rules: UnitRules,
) -> SuggestData:
    import numpy as np

    from caseframe.suggest.units import select_units, silent_speakers

    if scheme is not None and scheme not in SCHEMES:
        raise InvalidInput(
            f"unknown unit scheme '{scheme}'", hint=f"use one of {', '.join(SCHEMES)}"
        )
    humans = q.coder_ids(conn, "human")
    code_ids, specs = codebook(conn, framework, codes, humans)
    if documents:
        targets = list(dict.fromkeys(document_row(conn, d).id for d in documents))
    else:
        coded = q.documents_with(conn, humans, code_ids)
        targets = [d for d in q.document_ids_by_name(conn) if d not in coded]
        if not targets:
            raise InvalidInput(
                "every document already has human codings of these codes",
                hint="name the documents to get suggestions for with --documents",
            )
    target_set = set(targets)
    seen = [d for d in aq.seen_documents(conn, humans, None) if d not in target_set]
    label_speakers = q.speakers(conn, targets + seen)

    train_units, train_raw = _units(conn, seen, scheme) if seen and humans else _no_units()
    Y = np.zeros((len(train_units), len(code_ids)), dtype=np.int8)
    if len(train_units):
        from caseframe.analysis.agreement_spans import overlaps

        raw = np.array(aq.coding_spans(conn, humans, set(code_ids), seen), dtype=np.int64)
        hits = overlaps(raw.reshape(-1, 5), train_units, humans, [[c] for c in code_ids])
        Y[hits[:, 0], hits[:, 2]] = 1
    speakers = _speakers(train_units)
    asking = sorted(silent_speakers(speakers, list(Y.any(axis=1)))) if speakers else []
    chosen = select_units(
        train_raw,
        speakers,
        list(train_units["scheme"]) if len(train_units) else [],
        rules,
        label_speakers=label_speakers,
        interviewers=asking,
    )
    # a unit a person coded is always learned from, whatever the rules say about its kind
    keep = sorted(set(chosen.keep) | {int(i) for i in np.flatnonzero(Y.any(axis=1))})
    keep = [i for i in keep if chosen.texts[i].strip()]
    train_texts = [chosen.texts[i] for i in keep]
    train_units, Y = train_units.iloc[keep].reset_index(drop=True), Y[keep]

    target_units, target_raw = _units(conn, targets, scheme)
    picked = select_units(
        target_raw,
        _speakers(target_units),
        list(target_units["scheme"]),
        rules,
        label_speakers=label_speakers,
        interviewers=asking,
    )
    if not picked.keep:
        said = ", ".join(f"{n} {r}" for r, n in picked.skipped.items())
        raise InvalidInput(
            "the chosen documents have no meaning units with text"
            + (f" left to read (skipped: {said})" if said else ""),
            hint="build them with `caseframe documents segment --units turn`"
            + (", or loosen the unit rules (--min-words, --keep-headings)" if said else ""),
        )
    # every document with text counts as looked at, also one whose units were all skipped
    looked_at = [i for i, text in enumerate(target_raw) if text.strip()]
    target_docs = sorted(set(target_units["document_id"].iloc[looked_at].astype(int)))
    target_units = target_units.iloc[picked.keep].reset_index(drop=True)
    return SuggestData(
        code_ids=code_ids,
        specs=specs,
        target_docs=target_docs,
        target_units=target_units,
        target_texts=[picked.texts[i] for i in picked.keep],
        train_units=train_units,
        train_texts=train_texts,
        Y=Y,
        skipped=picked.skipped,
        interviewers=asking,
    )


def _speakers(units: pd.DataFrame) -> list[str | None]:
    return [s if isinstance(s, str) and s else None for s in units["speaker"]]


def _no_units() -> tuple[pd.DataFrame, list[str]]:
    import pandas as pd

    return pd.DataFrame(columns=UNIT_COLUMNS), []


def _units(
    conn: Connection, doc_ids: Sequence[int], scheme: str | None
) -> tuple[pd.DataFrame, list[str]]:
    """The units of each document's first scheme (or `scheme`) and their raw texts."""
    import pandas as pd

    from caseframe.analysis.agreement_spans import choose_schemes

    chosen = choose_schemes(aq.unit_schemes(conn, [scheme] if scheme else list(SCHEMES)), doc_ids)
    if not chosen:
        return _no_units()
    rows = q.unit_rows(conn, list(chosen), sorted(set(chosen.values())))
    frame = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    frame = frame[frame["document_id"].map(chosen).eq(frame["scheme"])].reset_index(drop=True)
    texts = aq.document_texts(conn, frame["document_id"])
    raw = [
        texts[d][s:e]
        for d, s, e in zip(frame["document_id"], frame["start"], frame["end"], strict=True)
    ]
    return frame, raw


def codebook(
    conn: Connection,
    framework: str | None,
    codes: Sequence[str | int] | None,
    humans: list[int],
) -> tuple[list[int], list[CodeSpec]]:
    """The target codes and what a method may know about each (definition, examples, ...)."""
    if framework and codes:
        raise InvalidInput("choose a framework or codes, not both")
    if framework:
        fw = framework_row(conn, framework)
        rows = q.framework_code_rows(conn, fw.id)
        if not rows:
            raise NotFound(
                f"the project has no codes of framework '{fw.key}'",
                hint=f"create them with `caseframe codes add-framework {fw.key}`",
            )
    elif codes:
        rows = list({r.id: r for r in (code_row(conn, c) for c in codes)}.values())
    else:
        rows = q.used_leaf_code_rows(conn, humans)
        if not rows:
            raise InvalidInput(
                "no codes to suggest: no human has coded anything yet",
                hint="name codes with --codes, or a framework with --framework sis",
            )
    names = [r.name for r in rows]
    clash = {n for n in names if names.count(n) > 1}
    specs = [_spec(conn, r, code_path(conn, r.id) if r.name in clash else r.name) for r in rows]
    return [r.id for r in rows], specs


def _spec(conn: Connection, row: Any, key: str) -> CodeSpec:
    from caseframe.suggest.base import CodeSpec

    meta = row.meta or {}
    definition = row.description or ""
    examples, keywords = _listed(meta.get("examples")), _listed(meta.get("keywords"))
    if row.component_id is not None:
        comp = q.component(conn, row.component_id)
        definition = comp.definition or definition
        examples = list(comp.examples or []) + examples
        keywords = list(comp.keywords or []) + keywords
    return CodeSpec(
        code=key, definition=definition, examples=tuple(examples), keywords=tuple(keywords)
    )


def _listed(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(" | ") if p.strip()]
    return [str(v) for v in value if str(v).strip()]
