"""Machine coding suggestions in the project: run a method over meaning units and store what it
suggests, with its reasons, as a machine coder's codings; list the units to code next.

What is read (units, codes, training labels) is in `api.suggest_input`; reviewing, listing and
the review queue are in `api.suggest_review`. Suggestions are codings of coder
``suggest:<method>`` (kind machine, status ``suggested``, with a score and a
`suggestion_details` row); every analysis leaves machine coders out unless asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from caseframe.api.suggest_input import SuggestData, collect
from caseframe.api.suggest_review import MACHINE_PREFIX, ReviewResult, SuggestReviewMixin
from caseframe.errors import Conflict, InvalidInput
from caseframe.model import CoderKind
from caseframe.store.lookup import coder_row
from caseframe.store.queries import suggestions as q

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from caseframe.suggest.base import CodeSpec, SuggestionMethod
    from caseframe.suggest.units import UnitRules

MIN_CODINGS = 3  # human-coded units a code needs before `supervised` learns it
MIN_KAPPA = 0.4  # a code is offered only when its cross-validated κ reaches this
ZERO_SHOT = ("definitions", "embeddings", "llm")  # methods that work from the codebook alone

Progress = Callable[[str], None]


@dataclass
class SuggestionRun:
    """What `suggest` did."""

    method: str
    coder: str
    reason: str  # why this method
    codes: list[str]
    documents: int
    units: int  # units scored
    training_units: int
    stored: int
    replaced: int  # earlier pending suggestions removed
    kept_reviewed: int  # unit/code pairs already accepted or rejected, not suggested again
    untrained: dict[str, int] = field(default_factory=dict)  # code -> codings still needed
    per_code: dict[str, int] = field(default_factory=dict)  # code -> suggestions stored
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)  # heading / interviewer / short
    skipped_note: str = ""  # the same in words
    gated: dict[str, float] = field(default_factory=dict)  # code -> its κ, below min_kappa
    min_kappa: float = MIN_KAPPA
    code_kappa: dict[str, float | None] = field(default_factory=dict)  # None: not measured


def unit_rules(
    min_words: int = 3, skip_headings: bool = True, skip_interviewer: bool = True
) -> UnitRules:
    from caseframe.suggest.units import UnitRules

    if min_words < 0:
        raise InvalidInput(f"--min-words {min_words} is negative", hint="use 0 to keep every unit")
    return UnitRules(skip_headings, skip_interviewer, min_words)


class SuggestMixin(SuggestReviewMixin):
    def suggest(
        self,
        method: str | None = None,
        *,
        framework: str | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        options: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
        min_words: int = 3,
        skip_headings: bool = True,
        skip_interviewer: bool = True,
        min_kappa: float = MIN_KAPPA,
        actor: str | None = None,
    ) -> SuggestionRun:
        """Suggest codes for the meaning units of `documents` and store them in one transaction.

        Target codes: a framework's deductive codes, the named `codes`, or every leaf code with
        human codings. The method defaults to `supervised` when every target code has enough
        human-coded units, else `definitions`. Headings, interviewer turns and units under
        `min_words` words are skipped (imported units never); a code whose cross-validated κ on
        the project's codings is below `min_kappa` is not offered. Earlier pending suggestions
        of the same method for these documents and codes are replaced; human codings are never
        touched.
        """
        from caseframe.suggest.base import get_method
        from caseframe.suggest.units import describe_skipped

        say = on_progress or (lambda _msg: None)
        if method:
            get_method(method)  # an unknown name fails before any work
        rules = unit_rules(min_words, skip_headings, skip_interviewer)
        with self.store.read() as conn:
            data = collect(conn, framework, codes, documents, scheme, rules)
        name, reason = choose_method(method, data.Y, data.specs)
        say(f"fitting {name} on {len(data.train_texts)} units ({reason})")
        fitted, fit_s = _fit(name, data, options, reason)
        say(f"scoring {len(data.target_texts)} units")
        start = time.perf_counter()
        P = fitted.predict_proba(data.target_texts)
        D = fitted.decide(P)
        predict_s = time.perf_counter() - start
        kappas, gated = _gate(fitted, data.specs, min_kappa)
        offered = D.copy()
        for j, spec in enumerate(data.specs):
            if spec.code in gated:
                offered[:, j] = 0
        say("explaining suggestions")
        details = _details(fitted, data, P, offered, kappas)
        say("storing suggestions")
        with self.writing(actor) as w:
            coder_id = _machine_coder(w.conn, MACHINE_PREFIX + name)
            replaced = q.delete_pending(w.conn, coder_id, data.target_docs, data.code_ids)
            reviewed = q.reviewed_keys(w.conn, coder_id, data.target_docs)
            rows, notes, kept, per_code = _rows(data, P, details, coder_id, reviewed)
            q.insert_suggestions(w.conn, rows, notes)
            q.mark_done(w.conn, coder_id, data.target_docs)
            w.audit(
                "suggest.run",
                "coding",
                None,
                None,
                {
                    "method": MACHINE_PREFIX + name,
                    "documents": len(data.target_docs),
                    "stored": len(rows),
                    "replaced": replaced,
                },
            )
        return SuggestionRun(
            method=name,
            coder=MACHINE_PREFIX + name,
            reason=reason,
            codes=[s.code for s in data.specs],
            documents=len(data.target_docs),
            units=len(data.target_texts),
            training_units=len(data.train_texts),
            stored=len(rows),
            replaced=replaced,
            kept_reviewed=kept,
            untrained=dict(getattr(fitted, "untrained_codes_", {}) or {}),
            per_code=per_code,
            fit_seconds=fit_s,
            predict_seconds=predict_s,
            skipped=data.skipped,
            skipped_note=describe_skipped(data.skipped, rules),
            gated=gated,
            min_kappa=min_kappa,
            code_kappa=kappas,
        )

    def suggest_next(
        self,
        n: int = 20,
        method: str | None = None,
        *,
        framework: str | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        options: dict[str, Any] | None = None,
        min_words: int = 3,
        skip_headings: bool = True,
        skip_interviewer: bool = True,
    ) -> pd.DataFrame:
        """The uncoded meaning units whose human coding should teach the model most.

        Ranks by uncertainty (scores near a code's threshold) plus a bonus for units likely to
        carry codes with few human codings (`caseframe.suggest.active.next_units`). Columns:
        rank, unit_id, document, start, end, snippet, priority, why.
        """
        import numpy as np
        import pandas as pd

        from caseframe.suggest.active import next_units, why_next
        from caseframe.suggest.base import get_method

        if n < 1:
            raise InvalidInput(f"--n {n} is not a positive number")
        if method:
            get_method(method)
        rules = unit_rules(min_words, skip_headings, skip_interviewer)
        with self.store.read() as conn:
            data = collect(conn, framework, codes, documents, scheme, rules)
        name, reason = choose_method(method, data.Y, data.specs)
        if name == "llm":
            raise InvalidInput(
                "the 'llm' method gives yes/no answers, not scores, so it cannot rank units",
                hint="use --method supervised or definitions",
            )
        fitted, _ = _fit(name, data, options, reason)
        counts = data.Y.sum(axis=0)
        chosen = next_units(fitted, data.target_texts, counts, n)
        if not chosen:
            return pd.DataFrame(columns=NEXT_COLUMNS)
        idx = [i for i, _ in chosen]
        P = fitted.predict_proba([data.target_texts[i] for i in idx])
        thresholds = np.asarray(fitted.thresholds_, dtype=float)
        why = why_next(P, thresholds, counts, [s.code for s in data.specs], MIN_CODINGS)
        units = data.target_units.iloc[idx]
        return pd.DataFrame(
            {
                "rank": range(1, len(idx) + 1),
                "unit_id": units["id"].to_numpy(),
                "document": units["document"].to_numpy(),
                "start": units["start"].to_numpy(),
                "end": units["end"].to_numpy(),
                "snippet": [_snippet(data.target_texts[i]) for i in idx],
                "priority": [round(p, 3) for _, p in chosen],
                "why": why,
            },
            columns=NEXT_COLUMNS,
        )


NEXT_COLUMNS = ["rank", "unit_id", "document", "start", "end", "snippet", "priority", "why"]


# -- choosing and fitting the method ------------------------------------------------------------


def choose_method(method: str | None, Y: np.ndarray, specs: Sequence[CodeSpec]) -> tuple[str, str]:
    """(method name, why): the one asked for, or supervised when every code can be learned."""
    import numpy as np

    if method:
        return method, "as asked"
    counts = Y.sum(axis=0) if Y.size else np.zeros(len(specs), dtype=int)
    short = [(s.code, MIN_CODINGS - int(k)) for s, k in zip(specs, counts, strict=True)]
    short = [(c, k) for c, k in short if k > 0]
    if not short:
        return "supervised", f"every code has at least {MIN_CODINGS} human-coded units"
    if len(short) == len(specs) and not counts.any():
        return "definitions", "no human-coded units of these codes yet"
    shown = ", ".join(f"{c} ({k} more)" for c, k in short[:5])
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    return "definitions", (
        f"{len(short)} of {len(specs)} codes have fewer than {MIN_CODINGS} human-coded units: "
        f"{shown}{more}"
    )


def _fit(
    name: str, data: SuggestData, options: dict[str, Any] | None, why: str = "as asked"
) -> tuple[SuggestionMethod, float]:
    from caseframe.suggest.base import get_method

    method = get_method(name, **(options or {}))
    start = time.perf_counter()
    try:
        if name in ZERO_SHOT and not data.Y.any():
            # nothing to learn from: the unit texts only inform the vocabulary
            method.fit(data.train_texts + data.target_texts, None, data.specs)
        else:
            method.fit(data.train_texts, data.Y, data.specs)
    except InvalidInput as exc:
        if why == "as asked":
            raise
        # chosen for the user: say both why supervised was out and why this failed too
        raise InvalidInput(
            f"cannot suggest: not with 'supervised', as {why}; not with '{name}', as {exc.message}",
            where=exc.where,
            hint=f"add definitions, examples or keywords to the codes, or code at least "
            f"{MIN_CODINGS} units per code",
        ) from None
    return method, time.perf_counter() - start


def _gate(
    fitted: SuggestionMethod, specs: Sequence[CodeSpec], floor: float
) -> tuple[dict[str, float | None], dict[str, float]]:
    """(κ per code, None where unmeasured; the codes below the floor and their κ)."""
    import math

    kappas: dict[str, float | None] = {s.code: None for s in specs}
    if fitted.code_kappa_ is not None:
        for spec, k in zip(specs, fitted.code_kappa_, strict=True):
            kappas[spec.code] = None if math.isnan(k) else round(float(k), 3)
    gated = {c: k for c, k in kappas.items() if k is not None and k < floor}
    return kappas, gated


# -- what is stored -----------------------------------------------------------------------------


def _details(
    fitted: SuggestionMethod,
    data: SuggestData,
    P: np.ndarray,
    offered: np.ndarray,
    kappas: dict[str, float | None],
) -> dict[tuple[int, int], dict[str, Any]]:
    """(unit index, code index) -> the suggestion's details row (no text: offsets and ids)."""
    import numpy as np

    from caseframe.suggest.reasons import similar_passages

    pairs = [(int(u), int(j)) for u, j in zip(*np.nonzero(offered), strict=True)]
    phrases = fitted.explain(data.target_texts, pairs)
    language = getattr(fitted, "language_", None) or "en"
    similar = similar_passages(data.train_texts, data.Y, data.target_texts, pairs, language)
    train_ids = data.train_units["id"].to_numpy() if len(data.train_units) else []
    per_unit = fitted.unit_details_ or []
    thresholds = np.asarray(fitted.thresholds_, dtype=float)
    out = {}
    for n, (u, j) in enumerate(pairs):
        unit = per_unit[u] if u < len(per_unit) else {}
        out[(u, j)] = {
            "model": unit.get("model") or fitted.name,
            "prompt_version": unit.get("prompt_version"),
            "seconds": unit.get("seconds"),
            "threshold": round(float(thresholds[j]), 4),
            "code_kappa": kappas.get(data.specs[j].code),
            "phrases": [[s, e] for s, e, _ in phrases[n]],
            "similar": [int(train_ids[i]) for i in similar[n]],
            "unit_length": len(data.target_texts[u]),
        }
    return out


def _rows(
    data: SuggestData,
    P: np.ndarray,
    details: dict[tuple[int, int], dict[str, Any]],
    coder_id: int,
    reviewed: set[tuple[int, ...]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, dict[str, int]]:
    units = data.target_units
    rows, notes, kept = [], [], 0
    per_code = {s.code: 0 for s in data.specs}
    for (u, j), note in details.items():
        unit = units.iloc[u]
        key = (int(unit["document_id"]), int(unit["start"]), int(unit["end"]), data.code_ids[j])
        if key in reviewed:
            kept += 1
            continue
        per_code[data.specs[j].code] += 1
        rows.append(
            {
                "document_id": key[0],
                "start": key[1],
                "end": key[2],
                "code_id": key[3],
                "coder_id": coder_id,
                "meaning_unit_id": int(unit["id"]),
                "score": round(float(P[u, j]), 4),
            }
        )
        notes.append(note)
    return rows, notes, kept, per_code


def _machine_coder(conn: Any, name: str) -> int:
    row = coder_row(conn, name, create=True, kind=CoderKind.MACHINE.value)
    if row.kind != CoderKind.MACHINE:
        raise Conflict(
            f"coder '{name}' is a person, not a machine method",
            hint="rename that coder; names starting with 'suggest:' are kept for suggestions",
        )
    return row.id


def _snippet(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "MACHINE_PREFIX",
    "ReviewResult",
    "SuggestMixin",
    "SuggestionRun",
    "choose_method",
]
