"""Listing and reviewing machine suggestions, with their reasons, and the review queue across
documents.

Accepting a suggestion gives the reviewer a human coding of the same range and code; rejected
ones are kept, marked. The review queue lists units with pending suggestions in the order
`suggest next` would ask for them (`caseframe.suggest.queue`); its model is fitted in the
background and refitted after every k decisions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from caseframe.api.base import ProjectBase
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import CoderKind, CodingStatus
from caseframe.store.core import now
from caseframe.store.lookup import coder_row
from caseframe.store.queries import codings as coding_q
from caseframe.store.queries import suggestions as q

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.suggest.queue import QueueModel

MACHINE_PREFIX = "suggest:"
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
REASON_COLUMNS = ["phrases", "similar", "reliability", "code_kappa", "model", "prompt_version",
                  "seconds", "threshold"]  # fmt: skip
QUEUE_K = 10  # the queue's model is refitted after this many decisions


@dataclass
class ReviewResult:
    reviewer: str
    accepted: int
    rejected: int
    codings_created: int  # accepted suggestions the reviewer had not coded already


class SuggestReviewMixin(ProjectBase):
    # -- reading ------------------------------------------------------------------------------

    def suggestions_frame(
        self,
        document: str | int | None = None,
        method: str | None = None,
        status: str | None = CodingStatus.SUGGESTED,
        min_score: float | None = None,
        codes: Sequence[str | int] | None = None,
        *,
        reasons: bool = False,
    ) -> pd.DataFrame:
        """Machine suggestions, best score first within each document. `status=None` gives
        every status (suggested, accepted, rejected). `reasons` adds the phrases that drove each
        suggestion, similar passages people coded with the code, the code's reliability in
        words, and the model, prompt version and seconds the method recorded."""
        import pandas as pd

        if status is not None and status not in {s.value for s in CodingStatus}:
            raise InvalidInput(
                f"unknown status '{status}'", hint="use suggested, accepted or rejected"
            )
        with self.store.read() as conn:
            machine = q.machine_coder_names(conn, _coder_name(method) if method else None)
        columns = SUGGESTION_COLUMNS + (REASON_COLUMNS if reasons else [])
        if method and not machine:
            raise NotFound(
                f"no suggestions of method '{method}' in this project",
                hint="run `caseframe suggest run` first",
            )
        if not machine:
            return pd.DataFrame(columns=columns)
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
        if reasons:
            frame = _with_reasons(self, frame)
        return frame[columns].reset_index(drop=True)

    # -- reviewing ----------------------------------------------------------------------------

    def review_suggestions(
        self,
        reviewer: str,
        accept: Iterable[int] = (),
        reject: Iterable[int] = (),
        *,
        actor: str | None = None,
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
        with self.writing(actor or reviewer) as w:
            person = _reviewer(w.conn, reviewer)
            rows = _pending(w.conn, accept + reject)
            stamp = now()
            for sid in accept:
                row = rows[sid]
                key = (row.document_id, row.start, row.end, row.code_id, person.id)
                if coding_q.same(w.conn, key) is None:
                    coding_q.insert(
                        w.conn,
                        {
                            "document_id": row.document_id,
                            "start": row.start,
                            "end": row.end,
                            "code_id": row.code_id,
                            "coder_id": person.id,
                            "meaning_unit_id": row.meaning_unit_id,
                        },
                        stamp,
                    )
                    created += 1
            q.set_status(w.conn, accept, CodingStatus.ACCEPTED.value, stamp)
            q.set_status(w.conn, reject, CodingStatus.REJECTED.value, stamp)
            if accept or reject:
                w.audit(
                    "suggest.review", "coding", None, None, {"accepted": accept, "rejected": reject}
                )
        self._queue_learn(rows, set(accept))
        return ReviewResult(reviewer, len(accept), len(reject), created)

    def accept_suggestions(self, reviewer: str, **selection: Any) -> ReviewResult:
        """Accept every pending suggestion in `selection` (document, method, min_score, codes)."""
        actor = selection.pop("actor", None)
        ids = self.suggestions_frame(**selection)["id"].tolist()
        return self.review_suggestions(reviewer, accept=ids, actor=actor)

    def reject_suggestions(self, reviewer: str, **selection: Any) -> ReviewResult:
        """Reject every pending suggestion in `selection` (document, method, min_score, codes)."""
        actor = selection.pop("actor", None)
        ids = self.suggestions_frame(**selection)["id"].tolist()
        return self.review_suggestions(reviewer, reject=ids, actor=actor)

    # -- the review queue ---------------------------------------------------------------------

    def review_queue(
        self, limit: int = 50, method: str | None = None, *, wait: bool = False
    ) -> dict[str, Any]:
        """Units with pending suggestions, most useful to decide first, each with its
        suggestions (and their reasons); `model` says how the order was made. The order is the
        queue model's once it is fitted (in the background; `wait` blocks until it is), else the
        closeness of each stored score to its code's threshold."""
        from caseframe.suggest.queue import order_units

        if limit < 1:
            raise InvalidInput(f"limit {limit} is not a positive number")
        frame = self.suggestions_frame(method=method, reasons=True)
        with self.store.read() as conn:
            units = q.pending_units(conn, frame["id"].tolist())
        queue = self._queue_for(frame, units)
        if wait and queue is not None:
            queue.wait()
        if queue is not None and queue.model is not None:
            ordered = order_units(frame, units, queue.model, queue.unit_index, queue.code_index)
        else:
            ordered = order_units(frame, units)[:limit]
        ids = dict(zip(*(self.documents_frame()[c] for c in ("name", "id")), strict=True))
        for unit in ordered:
            unit["document_id"] = int(ids[unit["document"]])
        return {"model": _queue_state(queue), "pending": len(frame), "units": ordered}

    def _queue_for(self, frame: pd.DataFrame, units: dict[int, tuple[int, int]]) -> _Queue | None:
        """The queue (model in the background) for these pending suggestions; a new one when
        they include units or codes the current one does not know."""
        if frame.empty:
            return None
        lock = self.__dict__.setdefault("_suggest_queue_lock", threading.Lock())
        needed_units = {u for u, _ in units.values()}
        needed_codes = {c for _, c in units.values()}
        with lock:
            queue: _Queue | None = self.__dict__.get("_suggest_queue")
            if queue is None or not queue.covers(needed_units, needed_codes):
                queue = _Queue(self, sorted(needed_codes), sorted({d for d in frame["document"]}))
                self.__dict__["_suggest_queue"] = queue
                queue.start()
        return queue

    def _queue_learn(self, rows: dict[int, Any], accepted: set[int]) -> None:
        queue: _Queue | None = self.__dict__.get("_suggest_queue")
        if queue is not None:
            queue.learn(
                [(r.meaning_unit_id, r.code_id, int(sid in accepted)) for sid, r in rows.items()]
            )


class _Queue:
    """A review queue's model, fitted and refitted on a background thread."""

    def __init__(self, project: SuggestReviewMixin, code_ids: list[int], documents: list[str]):
        self.project, self.code_ids, self.documents = project, code_ids, documents
        self.model: QueueModel | None = None
        self.unit_index: dict[int, int] = {}
        self.code_index = {c: j for j, c in enumerate(code_ids)}
        self.state, self.error = "fitting", ""
        self._thread: threading.Thread | None = None

    def covers(self, unit_ids: set[int], code_ids: set[int]) -> bool:
        if self.state == "fitting":
            return code_ids <= set(self.code_ids)
        return code_ids <= set(self.code_ids) and unit_ids <= set(self.unit_index)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._build, daemon=True, name="review-queue")
        self._thread.start()

    def wait(self, timeout: float = 600) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _build(self) -> None:
        from caseframe.api.suggest_input import collect
        from caseframe.suggest.queue import QueueModel
        from caseframe.suggest.units import UnitRules

        try:
            with self.project.store.read() as conn:
                data = collect(conn, None, self.code_ids, self.documents, None, UnitRules())
            model = QueueModel(data.specs, data.train_texts, data.Y, data.target_texts, QUEUE_K)
            model.fit()
            self.unit_index = {int(u): i for i, u in enumerate(data.target_units["id"])}
            self.model = model
            self.state = "ready"
            # decisions so far, those made while the model was fitted included
            with self.project.store.read() as conn:
                reviewed = q.reviewed_units(conn, self.code_ids)
            self.learn(
                [(u, c, int(s == CodingStatus.ACCEPTED.value)) for u, _, c, _, s in reviewed]
            )
        except InvalidInput as exc:
            self.state, self.error = "unavailable", exc.line()

    def learn(self, decisions: list[tuple[int | None, int, int]]) -> None:
        model = self.model
        if model is None:
            return
        known = [
            (self.unit_index[u], self.code_index[c], y)
            for u, c, y in decisions
            if u in self.unit_index and c in self.code_index
        ]
        if known and model.decide(known) and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=model.retrain, daemon=True, name="review-queue")
            self._thread.start()


def _queue_state(queue: _Queue | None) -> dict[str, Any]:
    if queue is None:
        return {"state": "empty", "order": "none"}
    model = queue.model
    state = {"state": queue.state, "k": QUEUE_K}
    if queue.error:
        state["error"] = queue.error
    if model is None:
        return state | {"order": "stored scores (the model is being fitted)"}
    last = model.retrain_seconds[-1] if model.retrain_seconds else None
    return state | {
        "order": "uncertainty and coverage (the model's current scores)",
        "version": model.version,
        "decisions_since_refit": model.since,
        "last_refit_seconds": None if last is None else round(last, 3),
    }


# -- helpers ----------------------------------------------------------------------------------


def _with_reasons(project: SuggestReviewMixin, frame: pd.DataFrame) -> pd.DataFrame:
    """Add the reasons columns: phrases and similar passages as text read now (so a
    pseudonymised document shows its new text), reliability in words."""
    from caseframe.suggest.reliability import reliability_words

    ids = frame["id"].tolist()
    with project.store.read() as conn:
        notes = q.details(conn, ids)
        counts = q.review_counts(conn)
        similar_ids = {u for n in notes.values() for u in (n.get("similar") or [])}
        passages = q.unit_texts(conn, similar_ids)
    columns: dict[str, list[Any]] = {c: [] for c in REASON_COLUMNS}
    for row in frame.itertuples(index=False):
        note = notes.get(row.id, {})
        length_ok = note.get("unit_length") == row.end - row.start
        columns["phrases"].append(
            [{"text": row.text[s:e], "start": s, "end": e} for s, e in note.get("phrases") or []]
            if length_ok
            else []
        )
        columns["similar"].append(
            [
                {"document": d, "start": s, "end": e, "text": t}
                for d, s, e, t in (passages[u] for u in note.get("similar") or [] if u in passages)
            ]
        )
        accepted, rejected = counts.get(row.code_id, (0, 0))
        columns["reliability"].append(reliability_words(accepted, rejected, note.get("code_kappa")))
        for key in ("code_kappa", "model", "prompt_version", "seconds", "threshold"):
            columns[key].append(note.get(key))
    return frame.assign(**columns)


def _coder_name(method: str) -> str:
    return method if method.startswith(MACHINE_PREFIX) else MACHINE_PREFIX + method


def _reviewer(conn: Any, name: str) -> Any:
    if not name or not name.strip():
        raise InvalidInput("no reviewer", hint="name the reviewer with --coder")
    row = coder_row(conn, name.strip(), create=True)
    if row.kind != CoderKind.HUMAN:
        raise InvalidInput(
            f"'{name}' is a machine coder", hint="the reviewer must be a person (--coder NAME)"
        )
    return row


def _pending(conn: Any, ids: list[int]) -> dict[int, Any]:
    rows = q.with_kind(conn, ids)
    for sid in ids:
        row = rows.get(sid)
        if row is None or row.kind != CoderKind.MACHINE:
            raise NotFound(f"no suggestion {sid}", hint="list them with `caseframe suggest list`")
        if row.status != CodingStatus.SUGGESTED:
            raise Conflict(f"suggestion {sid} was already {row.status}")
    return {sid: rows[sid] for sid in ids}
