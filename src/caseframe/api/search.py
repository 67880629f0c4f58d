"""Search the project's texts (`Project.search`) and code every hit at once
(`Project.code_search_hits`, one transaction, audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection

from caseframe.api.base import ProjectBase
from caseframe.errors import InvalidInput
from caseframe.store.lookup import code_row, coder_row, document_row
from caseframe.store.queries import codings as coding_q
from caseframe.store.queries import search as q
from caseframe.util.natural import natural_key

if TYPE_CHECKING:
    from caseframe.analysis.search import Query, SearchCoding, SearchResult

HIT_LIMIT = 500
KEY_FIELDS = ("document_id", "start", "end", "code_id", "coder_id")
READ_CHUNK = 10  # documents whose texts are read at a time
Unit = Literal["hit", "turn"]


class SearchMixin(ProjectBase):
    def search(
        self,
        text: str,
        *,
        documents: Sequence[str | int] | None = None,
        limit: int = HIT_LIMIT,
    ) -> SearchResult:
        """Hits of a query (words, "phrases", prefix*) in the documents' texts, documents in
        natural order of their names, hits in text order, each with its context and speaker.
        At most `limit` hits are returned; `truncated` says when there were more."""
        from caseframe.analysis.search import SearchResult, parse_query

        query = parse_query(text)
        if limit < 1:
            raise InvalidInput("the hit limit must be at least 1")
        result = SearchResult(query.text)
        with self.store.read() as conn:
            for doc_id, name, text_, turns in self._matching(conn, query, documents):
                found = _hits(doc_id, name, text_, turns, query)
                if not found:
                    continue
                result.documents += 1
                result.total += len(found)
                room = limit - len(result.hits)
                result.hits.extend(found[:room])
                if len(found) > room:
                    result.truncated = True
                    break
        return result

    def code_search_hits(
        self,
        text: str,
        code: str | int,
        *,
        coder: str | None = None,
        documents: Sequence[str | int] | None = None,
        unit: Unit = "hit",
        actor: str | None = None,
    ) -> SearchCoding:
        """Code every hit of a query (or, with unit='turn', each speaker turn holding a hit)
        with `code`, as `coder` (default: the actor), in one transaction. Ranges this coder has
        already coded with this code are skipped. Each coding is audited, and the search too."""
        from caseframe.analysis.search import SearchCoding, expand_to_turns, find_hits, parse_query

        if unit not in ("hit", "turn"):
            raise InvalidInput(f"unknown unit '{unit}'", hint="use hit or turn")
        query = parse_query(text)
        with self.writing(actor) as w:
            code_id = code_row(w.conn, code).id
            who = coder_row(w.conn, coder or w.actor, create=True)
            done = SearchCoding(query.text, str(code), who.name, unit)
            matching = list(self._matching(w.conn, query, documents))
            known = coding_q.existing(w.conn, [m[0] for m in matching])
            for doc_id, _name, text_, turns in matching:
                spans = find_hits(text_, query)
                if unit == "turn":
                    spans = expand_to_turns(spans, turns)
                for start, end in spans:
                    key = (doc_id, start, end, code_id, who.id)
                    if key in known:
                        done.skipped += 1
                        continue
                    values = dict(zip(KEY_FIELDS, key, strict=True))
                    coding_id = coding_q.insert(w.conn, values)
                    known[key] = coding_id
                    done.created.append(coding_id)
                    coding = coding_q.to_coding(coding_q.get(w.conn, coding_id))
                    w.audit("add", "coding", coding_id, None, asdict(coding))
            w.audit("code_search", "code", code_id, None, asdict(done))
        return done

    def _matching(self, conn: Connection, query: Query, documents: Sequence[str | int] | None):
        """(id, name, text, turns) of the documents holding every term, in natural name order;
        texts are read a chunk at a time so a search that stops early reads few of them."""
        ids = None if documents is None else [document_row(conn, d).id for d in documents]
        terms = [(term.words, term.prefix) for term in query.terms]
        found = q.candidate_documents(conn, terms, ids)
        if not found:
            return
        names = q.names(conn, found)
        ordered = sorted(found, key=lambda i: natural_key(names[i]))
        for at in range(0, len(ordered), READ_CHUNK):
            chunk = ordered[at : at + READ_CHUNK]
            texts, turns = q.texts(conn, chunk), q.turns(conn, chunk)
            for doc_id in chunk:
                yield doc_id, names[doc_id], texts[doc_id], turns[doc_id]


def _hits(doc_id: int, name: str, text: str, turns, query: Query):
    from caseframe.analysis.search import SearchHit, context, find_hits, turn_at

    out = []
    for start, end in find_hits(text, query):
        turn = turn_at(turns, start)
        within = (turn[0], turn[1]) if turn and end <= turn[1] else None
        before, after = context(text, start, end, within=within)
        speaker = turn[2] if turn else None
        out.append(SearchHit(doc_id, name, start, end, text[start:end], before, after, speaker))
    return out
