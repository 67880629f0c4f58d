"""Server-rendered pages: the overview, a transcript, the code tree, a framework."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from caseframe.api.users import User
from caseframe.web.auth import viewer
from caseframe.web.convert import records
from caseframe.web.templating import page_context

router = APIRouter()


def _render(request: Request, name: str, user: User, **values):
    web = request.app.state.web
    return web.templates.TemplateResponse(request, name, page_context(request, user, **values))


@router.get("/")
def overview(request: Request, user: User = Depends(viewer)):
    project = request.app.state.web.project
    cases = project.cases_frame()
    attributes = [
        c for c in cases.columns if c not in ("key", "label", "kind", "parent", "path", "depth")
    ]
    by_key = {row["key"]: row for row in records(cases)}
    documents = records(project.documents_frame())
    for doc in documents:
        keys = [k.strip() for k in (doc["cases"] or "").split(",") if k.strip()]
        doc["case_rows"] = [by_key[k] for k in keys if k in by_key]
    return _render(
        request,
        "index.html",
        user,
        documents=documents,
        cases=records(cases),
        attributes=attributes,
        frameworks=project.frameworks(),
        code_count=len(project.codes()),
    )


@router.get("/documents/{doc_id}")
def document(doc_id: int, request: Request, user: User = Depends(viewer)):
    doc = request.app.state.web.project.document(doc_id)
    return _render(request, "document.html", user, doc_id=doc.id, doc_name=doc.name)


@router.get("/codes")
def code_tree(request: Request, user: User = Depends(viewer)):
    codes = records(request.app.state.web.project.codes_frame())
    return _render(request, "codes.html", user, codes=codes)


@router.get("/frameworks/{key}")
def framework(key: str, request: Request, user: User = Depends(viewer)):
    fw = request.app.state.web.project.framework(key)
    return _render(request, "framework.html", user, framework=fw)
