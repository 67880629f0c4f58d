"""Machine coding suggestions in the workspace: beside the transcript (a document's pending
ones), and the review queue across documents (`/suggestions`: units in the order the method
would ask for them, each suggestion with its reasons and its code's reliability, decided by
keyboard). Accepting gives the signed-in user a coding of the same range and code under their
own coder name; `review_suggestions` does it in one transaction and writes the audit entry
(`suggest.review`, who and which ids); the queue's model refits in the background after every
k decisions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from caseframe.api.users import User
from caseframe.errors import InvalidInput
from caseframe.web.auth import coder, viewer
from caseframe.web.convert import plain, records
from caseframe.web.routes.api import Strict
from caseframe.web.templating import page_context

router = APIRouter()

SNIPPET = 160  # characters of the suggested passage in the list


class Review(Strict):
    accept: list[int] = Field(default_factory=list, max_length=5000)
    reject: list[int] = Field(default_factory=list, max_length=5000)


def _snippet(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


@router.get("/api/documents/{doc_id}/suggestions")
def document_suggestions(doc_id: int, request: Request, user: User = Depends(viewer)):
    """Pending suggestions for one document, in text order (best score first at a place)."""
    project = request.app.state.web.project
    project.document(doc_id)  # 404 for an unknown document
    frame = project.suggestions_frame(document=doc_id)
    rows = records(frame.drop(columns=["document"]))
    for row in rows:
        row["snippet"] = _snippet(row.pop("text", ""))
    return {"suggestions": rows}


@router.post("/api/suggestions/review")
def review(body: Review, request: Request, user: User = Depends(coder)):
    if not body.accept and not body.reject:
        raise InvalidInput("nothing to review", hint="name suggestion ids in accept or reject")
    project = request.app.state.web.project
    result = project.review_suggestions(user.name, accept=body.accept, reject=body.reject)
    return plain(result)


@router.get("/api/suggestions/queue")
def queue(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    method: str | None = Query(None),
    user: User = Depends(viewer),
):
    """Units with pending suggestions, most useful to decide first (`Project.review_queue`)."""
    return plain(request.app.state.web.project.review_queue(limit, method))


@router.get("/suggestions")
def queue_page(request: Request, user: User = Depends(viewer)):
    web = request.app.state.web
    return web.templates.TemplateResponse(
        request, "suggestions.html", page_context(request, user, can_review=user.role != "viewer")
    )
