"""Machine coding suggestions beside the transcript: list a document's pending ones (any role
that can read) and accept or reject them (coders and owners). Accepting gives the signed-in
user a coding of the same range and code under their own coder name; `review_suggestions`
does it in one transaction and writes the audit entry (`suggest.review`, who and which ids)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from caseframe.api.users import User
from caseframe.errors import InvalidInput
from caseframe.web.auth import coder, viewer
from caseframe.web.convert import plain, records
from caseframe.web.routes.api import Strict

router = APIRouter(prefix="/api")

SNIPPET = 160  # characters of the suggested passage in the list


class Review(Strict):
    accept: list[int] = Field(default_factory=list, max_length=5000)
    reject: list[int] = Field(default_factory=list, max_length=5000)


def _snippet(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


@router.get("/documents/{doc_id}/suggestions")
def document_suggestions(doc_id: int, request: Request, user: User = Depends(viewer)):
    """Pending suggestions for one document, in text order (best score first at a place)."""
    project = request.app.state.web.project
    project.document(doc_id)  # 404 for an unknown document
    frame = project.suggestions_frame(document=doc_id)
    rows = records(frame.drop(columns=["document"]))
    for row in rows:
        row["snippet"] = _snippet(row.pop("text", ""))
    return {"suggestions": rows}


@router.post("/suggestions/review")
def review(body: Review, request: Request, user: User = Depends(coder)):
    if not body.accept and not body.reject:
        raise InvalidInput("nothing to review", hint="name suggestion ids in accept or reject")
    project = request.app.state.web.project
    result = project.review_suggestions(user.name, accept=body.accept, reject=body.reject)
    return plain(result)
