"""Machine coding suggestions in the project: run a method over meaning units, store the results
as a machine coder's codings, review them, and list the units to code next.

Rules (docs/suggestions.md, "Workflow"):

* units are the meaning units of one scheme per document (``imported`` where present, else
  ``turn``, ...; or the scheme asked for), chosen as for agreement;
* a unit carries code c for training when a human coding of c overlaps it by at least half of the
  shorter of the two (the agreement module's rule and helper);
* the documents to suggest for are those named, or else those where no human applied any of the
  target codes; the model learns from the units of the other documents a human coded (coded in
  or marked done), never from the documents it codes;
* suggestions are codings of coder ``suggest:<method>`` (kind machine, status ``suggested``, with
  a score); every analysis leaves machine coders out unless asked. Accepting one gives the
  reviewer a human coding of the same range and code; rejected ones are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select, update

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import CoderKind, CodingStatus
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import code_path, code_row, coder_row, document_row, framework_row
from caseframe.suggest import CodeSpec, SuggestionMethod, get_method

MACHINE_PREFIX = "suggest:"
MIN_CODINGS = 3  # human-coded units a code needs before `supervised` learns it
ZERO_SHOT = ("definitions", "embeddings", "llm")  # methods that work from the codebook alone
_CHUNK = 500  # bound parameters per IN (...) list

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


@dataclass
class ReviewResult:
    reviewer: str
    accepted: int
    rejected: int
    codings_created: int  # accepted suggestions the reviewer had not coded already


@dataclass
class _Data:
    """Units, texts and labels for one request, read in one go."""

    code_ids: list[int]
    specs: list[CodeSpec]
    target_docs: list[int]
    target_units: pd.DataFrame
    target_texts: list[str]
    train_texts: list[str]
    Y: np.ndarray  # training units x codes, 0/1


class SuggestMixin:
    store: Any

    # -- running ------------------------------------------------------------------------------

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
    ) -> SuggestionRun:
        """Suggest codes for the meaning units of `documents` and store them in one transaction.

        Target codes: a framework's deductive codes, the named `codes`, or every leaf code with
        human codings. The method defaults to `supervised` when every target code has enough
        human-coded units, else `definitions`. Earlier pending suggestions of the same method
        for these documents and codes are replaced; human codings are never touched.
        """
        say = on_progress or (lambda _msg: None)
        if method:
            get_method(method)  # an unknown name fails before any work
        with self.store.read() as conn:
            data = _collect(conn, framework, codes, documents, scheme)
        name, reason = choose_method(method, data.Y, data.specs)
        say(f"fitting {name} on {len(data.train_texts)} units ({reason})")
        fitted, fit_s = _fit(name, data, options, reason)
        say(f"scoring {len(data.target_texts)} units")
        start = time.perf_counter()
        P = fitted.predict_proba(data.target_texts)
        D = fitted.decide(P)
        predict_s = time.perf_counter() - start
        say("storing suggestions")
        with self.store.transaction() as conn:
            coder_id = _machine_coder(conn, MACHINE_PREFIX + name)
            replaced = _delete_pending(conn, coder_id, data.target_docs, data.code_ids)
            reviewed = _reviewed_keys(conn, coder_id, data.target_docs)
            rows, kept, per_code = _suggestion_rows(data, P, D, coder_id, reviewed)
            if rows:
                conn.execute(t.codings.insert(), rows)
            _mark_done(conn, coder_id, data.target_docs)
            run = SuggestionRun(
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
            )
            self._audit(
                conn,
                run.coder,
                "suggest.run",
                "coding",
                None,
                None,
                {"documents": run.documents, "stored": run.stored, "replaced": replaced},
            )
        return run

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
    ) -> pd.DataFrame:
        """The uncoded meaning units whose human coding should teach the model most.

        Ranks by uncertainty (scores near a code's threshold) plus a bonus for units likely to
        carry codes with few human codings (`caseframe.suggest.active.next_units`). Columns:
        rank, unit_id, document, start, end, snippet, priority, why.
        """
        from caseframe.suggest.active import next_units

        if n < 1:
            raise InvalidInput(f"--n {n} is not a positive number")
        if method:
            get_method(method)
        with self.store.read() as conn:
            data = _collect(conn, framework, codes, documents, scheme)
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
        why = _reasons(P, np.asarray(fitted.thresholds_, dtype=float), counts, data.specs)
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

    # -- reading ------------------------------------------------------------------------------

    def suggestions_frame(
        self,
        document: str | int | None = None,
        method: str | None = None,
        status: str | None = CodingStatus.SUGGESTED,
        min_score: float | None = None,
        codes: Sequence[str | int] | None = None,
    ) -> pd.DataFrame:
        """Machine suggestions, best score first within each document. `status=None` gives
        every status (suggested, accepted, rejected)."""
        if status is not None and status not in {s.value for s in CodingStatus}:
            raise InvalidInput(
                f"unknown status '{status}'", hint="use suggested, accepted or rejected"
            )
        with self.store.read() as conn:
            query = select(t.coders.c.name).where(t.coders.c.kind == CoderKind.MACHINE)
            if method:
                query = query.where(t.coders.c.name == _coder_name(method))
            machine = list(conn.scalars(query))
        if method and not machine:
            raise NotFound(
                f"no suggestions of method '{method}' in this project",
                hint="run `caseframe suggest run` first",
            )
        if not machine:
            return pd.DataFrame(columns=SUGGESTION_COLUMNS)
        frame = self.codings_frame(
            codes=codes, coders=machine, documents=[document] if document is not None else None
        )
        if status is not None:
            frame = frame[frame["status"] == status]
        if min_score is not None:
            frame = frame[frame["score"].fillna(0) >= min_score]
        frame = frame.assign(method=frame["coder"].str.removeprefix(MACHINE_PREFIX))
        frame = frame.sort_values(
            ["document", "start", "score"], ascending=[True, True, False], kind="stable"
        )
        return frame[SUGGESTION_COLUMNS].reset_index(drop=True)

    # -- reviewing ----------------------------------------------------------------------------

    def review_suggestions(
        self, reviewer: str, accept: Iterable[int] = (), reject: Iterable[int] = ()
    ) -> ReviewResult:
        """Accept and reject pending suggestions in one transaction. Accepting gives `reviewer`
        a human coding of the same range and code; rejected suggestions stay, marked."""
        accept, reject = list(dict.fromkeys(accept)), list(dict.fromkeys(reject))
        both = set(accept) & set(reject)
        if both:
            raise InvalidInput(
                f"suggestion {min(both)} is both accepted and rejected", hint="decide once"
            )
        created = 0
        with self.store.transaction() as conn:
            person = _reviewer(conn, reviewer)
            rows = _pending(conn, accept + reject)
            stamp = now()
            for sid in accept:
                row = rows[sid]
                exists = conn.execute(
                    select(t.codings.c.id).where(
                        t.codings.c.document_id == row.document_id,
                        t.codings.c.start == row.start,
                        t.codings.c.end == row.end,
                        t.codings.c.code_id == row.code_id,
                        t.codings.c.coder_id == person.id,
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        t.codings.insert().values(
                            document_id=row.document_id,
                            start=row.start,
                            end=row.end,
                            code_id=row.code_id,
                            coder_id=person.id,
                            meaning_unit_id=row.meaning_unit_id,
                            status=CodingStatus.FINAL.value,
                            guid=new_guid(),
                            created_at=stamp,
                            updated_at=stamp,
                        )
                    )
                    created += 1
            for ids, status in ((accept, CodingStatus.ACCEPTED), (reject, CodingStatus.REJECTED)):
                for chunk in _chunks(ids):
                    conn.execute(
                        update(t.codings)
                        .where(t.codings.c.id.in_(chunk))
                        .values(status=status.value, updated_at=stamp)
                    )
            if accept or reject:
                self._audit(
                    conn,
                    reviewer,
                    "suggest.review",
                    "coding",
                    None,
                    None,
                    {"accepted": accept, "rejected": reject},
                )
        return ReviewResult(reviewer, len(accept), len(reject), created)

    def accept_suggestions(self, reviewer: str, **selection: Any) -> ReviewResult:
        """Accept every pending suggestion in `selection` (document, method, min_score, codes)."""
        ids = self.suggestions_frame(**selection)["id"].tolist()
        return self.review_suggestions(reviewer, accept=ids)

    def reject_suggestions(self, reviewer: str, **selection: Any) -> ReviewResult:
        """Reject every pending suggestion in `selection` (document, method, min_score, codes)."""
        ids = self.suggestions_frame(**selection)["id"].tolist()
        return self.review_suggestions(reviewer, reject=ids)


SUGGESTION_COLUMNS = [
    "id",
    "document",
    "start",
    "end",
    "text",
    "code",
    "code_path",
    "method",
    "score",
    "status",
]
NEXT_COLUMNS = ["rank", "unit_id", "document", "start", "end", "snippet", "priority", "why"]


# -- choosing the method ----------------------------------------------------------------------


def choose_method(method: str | None, Y: np.ndarray, specs: Sequence[CodeSpec]) -> tuple[str, str]:
    """(method name, why): the one asked for, or supervised when every code can be learned."""
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
    name: str, data: _Data, options: dict[str, Any] | None, why: str = "as asked"
) -> tuple[SuggestionMethod, float]:
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


# -- reading the store ------------------------------------------------------------------------


def _collect(
    conn: Connection,
    framework: str | None,
    codes: Sequence[str | int] | None,
    documents: Sequence[str | int] | None,
    scheme: str | None,
) -> _Data:
    from caseframe.api.agreement import SCHEME_ORDER, _overlaps, _seen_documents, _texts, _units

    if scheme is not None and scheme not in SCHEME_ORDER:
        raise InvalidInput(
            f"unknown unit scheme '{scheme}'", hint=f"use one of {', '.join(SCHEME_ORDER)}"
        )
    humans = list(conn.scalars(select(t.coders.c.id).where(t.coders.c.kind == CoderKind.HUMAN)))
    code_ids, specs = _codebook(conn, framework, codes, humans)
    coded_with_targets = _documents_with(conn, humans, code_ids)
    if documents:
        targets = list(dict.fromkeys(document_row(conn, d).id for d in documents))
    else:
        all_docs = list(conn.scalars(select(t.documents.c.id).order_by(t.documents.c.name)))
        targets = [d for d in all_docs if d not in coded_with_targets]
        if not targets:
            raise InvalidInput(
                "every document already has human codings of these codes",
                hint="name the documents to get suggestions for with --documents",
            )
    target_set = set(targets)
    seen = [d for d in _seen_documents(conn, humans, None) if d not in target_set]
    try:
        target_units, _ = _units(conn, targets, scheme)
    except InvalidInput:
        target_units = pd.DataFrame(columns=["id", "document_id", "start", "end", "document"])
    target_units, target_texts = _with_text(target_units, _texts(conn, target_units))
    if target_units.empty:
        raise InvalidInput(
            "the chosen documents have no meaning units with text",
            hint="build them with `caseframe documents segment --units turn`",
        )
    Y = np.zeros((0, len(code_ids)), dtype=np.int8)
    train_texts: list[str] = []
    if seen and humans:
        try:
            train_units, _ = _units(conn, seen, scheme)
        except InvalidInput:  # coded documents without units of this scheme: nothing to learn
            train_units = pd.DataFrame(columns=["id", "document_id", "start", "end"])
        if not train_units.empty:
            hits = _overlaps(conn, humans, [[c] for c in code_ids], train_units, seen)
            Y = np.zeros((len(train_units), len(code_ids)), dtype=np.int8)
            Y[hits[:, 0], hits[:, 2]] = 1
            keep_units, train_texts = _with_text(train_units, _texts(conn, train_units))
            Y = Y[keep_units.index.to_numpy()]
    return _Data(
        code_ids=code_ids,
        specs=specs,
        target_docs=sorted(set(target_units["document_id"].astype(int))),
        target_units=target_units.reset_index(drop=True),
        target_texts=target_texts,
        train_texts=train_texts,
        Y=Y,
    )


def _with_text(units: pd.DataFrame, texts: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Units that hold some text (blank lines between turns say nothing to a model)."""
    keep = [i for i, text in enumerate(texts) if text.strip()]
    return units.iloc[keep], [texts[i] for i in keep]


def _documents_with(conn: Connection, coder_ids: list[int], code_ids: list[int]) -> set[int]:
    if not coder_ids:
        return set()
    found: set[int] = set()
    for chunk in _chunks(code_ids):
        found.update(
            conn.scalars(
                select(t.codings.c.document_id)
                .where(t.codings.c.coder_id.in_(coder_ids), t.codings.c.code_id.in_(chunk))
                .distinct()
            )
        )
    return found


def _codebook(
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
        rows = conn.execute(
            select(t.codes)
            .join(t.framework_components, t.framework_components.c.id == t.codes.c.component_id)
            .where(t.framework_components.c.framework_id == fw.id)
            .order_by(t.framework_components.c.position, t.codes.c.id)
        ).all()
        if not rows:
            raise NotFound(
                f"the project has no codes of framework '{fw.key}'",
                hint=f"create them with `caseframe codes add-framework {fw.key}`",
            )
    elif codes:
        rows = list({r.id: r for r in (code_row(conn, c) for c in codes)}.values())
    else:
        parents = set(
            conn.scalars(select(t.codes.c.parent_id).where(t.codes.c.parent_id.is_not(None)))
        )
        used = (
            set(
                conn.scalars(
                    select(t.codings.c.code_id).where(t.codings.c.coder_id.in_(humans)).distinct()
                )
            )
            if humans
            else set()
        )
        rows = [
            r
            for r in conn.execute(select(t.codes).order_by(t.codes.c.position, t.codes.c.id))
            if r.id in used and r.id not in parents
        ]
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
    meta = row.meta or {}
    definition = row.description or ""
    examples, keywords = _listed(meta.get("examples")), _listed(meta.get("keywords"))
    if row.component_id is not None:
        comp = conn.execute(
            select(t.framework_components).where(t.framework_components.c.id == row.component_id)
        ).one()
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


# -- writing ----------------------------------------------------------------------------------


def _coder_name(method: str) -> str:
    return method if method.startswith(MACHINE_PREFIX) else MACHINE_PREFIX + method


def _machine_coder(conn: Connection, name: str) -> int:
    row = coder_row(conn, name, create=True, kind=CoderKind.MACHINE.value)
    if row.kind != CoderKind.MACHINE:
        raise Conflict(
            f"coder '{name}' is a person, not a machine method",
            hint="rename that coder; names starting with 'suggest:' are kept for suggestions",
        )
    return row.id


def _delete_pending(conn: Connection, coder_id: int, docs: list[int], code_ids: list[int]) -> int:
    removed = 0
    for chunk in _chunks(docs):
        for codes in _chunks(code_ids):
            removed += conn.execute(
                t.codings.delete().where(
                    t.codings.c.coder_id == coder_id,
                    t.codings.c.status == CodingStatus.SUGGESTED.value,
                    t.codings.c.document_id.in_(chunk),
                    t.codings.c.code_id.in_(codes),
                )
            ).rowcount
    return removed


def _reviewed_keys(conn: Connection, coder_id: int, docs: list[int]) -> set[tuple[int, ...]]:
    keys: set[tuple[int, ...]] = set()
    for chunk in _chunks(docs):
        keys.update(
            tuple(r)
            for r in conn.execute(
                select(
                    t.codings.c.document_id, t.codings.c.start, t.codings.c.end, t.codings.c.code_id
                ).where(t.codings.c.coder_id == coder_id, t.codings.c.document_id.in_(chunk))
            )
        )
    return keys


def _suggestion_rows(
    data: _Data, P: np.ndarray, D: np.ndarray, coder_id: int, reviewed: set[tuple[int, ...]]
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    units = data.target_units
    stamp = now()
    rows, kept = [], 0
    per_code = {s.code: 0 for s in data.specs}
    for u, j in zip(*np.nonzero(D), strict=True):
        unit = units.iloc[int(u)]
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
                "status": CodingStatus.SUGGESTED.value,
                "guid": new_guid(),
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return rows, kept, per_code


def _mark_done(conn: Connection, coder_id: int, docs: list[int]) -> None:
    """The method looked at every unit of these documents (agreement counts them as seen)."""
    have = set(
        conn.scalars(
            select(t.coder_documents.c.document_id).where(t.coder_documents.c.coder_id == coder_id)
        )
    )
    new = [
        {"coder_id": coder_id, "document_id": d, "status": "done"} for d in docs if d not in have
    ]
    if new:
        conn.execute(t.coder_documents.insert(), new)


def _reviewer(conn: Connection, name: str) -> Any:
    if not name or not name.strip():
        raise InvalidInput("no reviewer", hint="name the reviewer with --coder")
    row = coder_row(conn, name.strip(), create=True)
    if row.kind != CoderKind.HUMAN:
        raise InvalidInput(
            f"'{name}' is a machine coder", hint="the reviewer must be a person (--coder NAME)"
        )
    return row


def _pending(conn: Connection, ids: list[int]) -> dict[int, Any]:
    rows: dict[int, Any] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(t.codings, t.coders.c.kind)
            .join(t.coders, t.coders.c.id == t.codings.c.coder_id)
            .where(t.codings.c.id.in_(chunk))
        ):
            rows[r.id] = r
    for sid in ids:
        row = rows.get(sid)
        if row is None or row.kind != CoderKind.MACHINE:
            raise NotFound(f"no suggestion {sid}", hint="list them with `caseframe suggest list`")
        if row.status != CodingStatus.SUGGESTED:
            raise Conflict(f"suggestion {sid} was already {row.status}")
    return rows


def _chunks(items: Sequence[int]) -> Iterable[list[int]]:
    items = list(items)
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# -- explaining ---------------------------------------------------------------------------------


def _reasons(
    P: np.ndarray, thresholds: np.ndarray, counts: np.ndarray, specs: Sequence[CodeSpec]
) -> list[str]:
    """Why each unit was picked: the code it is least sure about, and a rare code it may carry."""
    out = []
    span = np.where(P >= thresholds, 1 - thresholds, thresholds)
    closeness = 1 - np.abs(P - thresholds) / np.maximum(span, 1e-9)
    scarcity = 1.0 / (1.0 + counts.astype(float))
    for i in range(P.shape[0]):
        j = int(closeness[i].argmax())
        parts = [f"uncertain: {specs[j].code} {P[i, j]:.2f} (threshold {thresholds[j]:.2f})"]
        k = int((P[i] * scarcity).argmax())
        if counts[k] < MIN_CODINGS and P[i, k] > 0:
            parts.append(f"may carry {specs[k].code}, which has {int(counts[k])} human-coded units")
        out.append("; ".join(parts))
    return out


def _snippet(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["MACHINE_PREFIX", "ReviewResult", "SuggestMixin", "SuggestionRun", "choose_method"]
