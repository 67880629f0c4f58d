"""Server-rendered pages: the overview, a transcript, the code tree, a framework."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from caseframe.api.users import User
from caseframe.util.natural import natural_key
from caseframe.web.auth import viewer
from caseframe.web.convert import records
from caseframe.web.templating import page_context

router = APIRouter()

CASE_COLUMNS = ("key", "label", "kind", "parent", "path", "depth")
FILTER_CHOICES = 40  # an attribute with more distinct values than this gets no select
FILTER_VALUE = 80  # nor one whose values are long (a note)
PAGE_SIZE = 100  # documents per overview page
CASES_SHOWN = 150  # more cases than this are listed on request (?cases=all)


def _render(request: Request, name: str, user: User, **values):
    web = request.app.state.web
    return web.templates.TemplateResponse(request, name, page_context(request, user, **values))


def _filters(cases: list[dict], attributes: list[str]) -> dict[str, list[str]]:
    """Attributes worth a select (few, short values) and their values in natural order."""
    out = {}
    for name in attributes:
        values = {str(c[name]) for c in cases if c[name] is not None and str(c[name]).strip()}
        if values and len(values) <= FILTER_CHOICES and max(map(len, values)) <= FILTER_VALUE:
            out[name] = sorted(values, key=natural_key)
    return out


def _matches(doc: dict[str, Any], text: str, chosen: dict[str, str], attributes) -> bool:
    rows = doc["case_rows"]
    for name, value in chosen.items():
        if not any(str(c[name]) == value for c in rows if c[name] is not None):
            return False
    if not text:
        return True
    words = [doc["name"], doc["cases"] or ""]
    words += [str(c[a]) for c in rows for a in ("label", *attributes) if c[a] is not None]
    haystack = " ".join(words).casefold()
    return all(part in haystack for part in text.casefold().split())


def _rows(frame) -> list[dict[str, Any]]:
    """A frame's rows as dicts with None for missing values (faster than `records` for the
    thousands of rows of a large project's overview)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@router.get("/")
def overview(request: Request, user: User = Depends(viewer), page: int = 1):
    project = request.app.state.web.project
    cases = _rows(project.cases_frame())
    attributes = [a for a in (cases[0] if cases else {}) if a not in CASE_COLUMNS]
    by_key = {row["key"]: row for row in cases}
    documents = sorted(_rows(project.documents_frame()), key=lambda d: natural_key(d["name"]))
    for doc in documents:
        keys = [k.strip() for k in (doc["cases"] or "").split(",") if k.strip()]
        doc["case_rows"] = [by_key[k] for k in keys if k in by_key]
    filters = _filters(cases, attributes)
    params = request.query_params
    text = params.get("q", "").strip()
    chosen = {a: params[a] for a in filters if params.get(a)}
    shown = [d for d in documents if _matches(d, text, chosen, attributes)]
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    query = {"q": text, **chosen} if text else dict(chosen)
    return _render(
        request,
        "index.html",
        user,
        documents=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        matching=len(shown),
        document_total=len(documents),
        page=page,
        pages=pages,
        query=query,
        cases=cases if len(cases) <= CASES_SHOWN or params.get("cases") == "all" else [],
        case_total=len(cases),
        attributes=attributes,
        filters=filters,
        chosen=chosen,
        q=text,
        frameworks=project.frameworks(),
        code_count=len(project.codes()),
    )


@router.get("/documents/{doc_id}")
def document(doc_id: int, request: Request, user: User = Depends(viewer)):
    doc = request.app.state.web.project.document(doc_id)
    return _render(request, "document.html", user, doc_id=doc.id, doc_name=doc.name)


@router.get("/codes")
def code_tree(request: Request, user: User = Depends(viewer)):
    project = request.app.state.web.project
    codes = records(project.codes_frame())
    return _render(request, "codes.html", user, codes=codes, frameworks=project.frameworks())


@router.get("/frameworks/{key}")
def framework(key: str, request: Request, user: User = Depends(viewer)):
    project = request.app.state.web.project
    fw = project.framework(key)
    prefix = f"{fw.key}:"
    coded = {c["component"] for c in records(project.codes_frame()) if c["component"]}
    as_codes = {c.key for c in fw.components if prefix + c.key in coded}
    return _render(request, "framework.html", user, framework=fw, as_codes=as_codes)
