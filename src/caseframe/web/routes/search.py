"""Search across the project: the Search page, its JSON form, and "code all hits" (owners)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from caseframe.api.users import User
from caseframe.errors import InvalidInput
from caseframe.web.auth import owner, viewer
from caseframe.web.convert import plain, records
from caseframe.web.routes.api import Strict
from caseframe.web.templating import page_context

router = APIRouter()
PAGE_LIMIT = 300


class CodeHits(Strict):
    query: str = Field(..., max_length=1000)
    code_id: int
    document_id: int | None = None
    unit: Literal["hit", "turn"] = "hit"


def _search(project, q: str, document: int | None, limit: int):
    documents = None if document is None else [document]
    return plain(project.search(q, documents=documents, limit=limit))


@router.get("/api/search")
def search_json(
    request: Request,
    q: str = Query(..., max_length=1000),
    document: int | None = None,
    limit: int = Query(500, ge=1, le=5000),
    user: User = Depends(viewer),
):
    return _search(request.app.state.web.project, q, document, limit)


@router.post("/api/search/code", status_code=201)
def code_hits(body: CodeHits, request: Request, user: User = Depends(owner)):
    """Code every hit (or its speaker turn) as the signed-in owner, in one transaction."""
    project = request.app.state.web.project
    documents = None if body.document_id is None else [body.document_id]
    done = project.code_search_hits(
        body.query,
        body.code_id,
        coder=user.name,
        documents=documents,
        unit=body.unit,
        actor=user.name,
    )
    return plain(done)


@router.get("/search")
def search_page(
    request: Request,
    q: str = Query("", max_length=1000),
    user: User = Depends(viewer),
):
    project = request.app.state.web.project
    result, problem = None, None
    if q.strip():
        try:
            result = _search(project, q, None, PAGE_LIMIT)
        except InvalidInput as exc:
            problem = exc.message
    by_document: list[dict] = []
    for hit in result["hits"] if result else []:
        if not by_document or by_document[-1]["id"] != hit["document_id"]:
            by_document.append({"id": hit["document_id"], "name": hit["document"], "hits": []})
        by_document[-1]["hits"].append(hit)
    codes = records(project.codes_frame()) if user.role == "owner" and result else []
    return request.app.state.web.templates.TemplateResponse(
        request,
        "search.html",
        page_context(
            request,
            user,
            q=q,
            result=result,
            problem=problem,
            by_document=by_document,
            codes=codes,
            limit=PAGE_LIMIT,
        ),
    )
