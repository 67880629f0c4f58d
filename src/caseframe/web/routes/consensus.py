"""The consensus meeting in the workspace: walk the units where coders differ, record the
owner's resolution (with a note) into the consensus coder, download the decisions.

Everyone with a role sees the page; only an owner records decisions. Each decision is one
`Project.decide_consensus` call, audited in its transaction with the signed-in user as actor.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from caseframe.api.users import User
from caseframe.errors import TooFewCoders
from caseframe.web.auth import owner, viewer
from caseframe.web.convert import plain
from caseframe.web.templating import page_context

router = APIRouter()
ITEMS_SHOWN = 100  # units listed beside the current one (a large project disputes thousands)
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv",
}


def _clean(values: list[str] | None) -> list[str] | None:
    kept = [v for v in (values or []) if v and v.strip()]
    return kept or None


def _query(coders, code, document, consensus, position=None) -> str:
    pairs: list[tuple[str, Any]] = [("coders", c) for c in coders or []]
    pairs += [("code", code or ""), ("document", document or ""), ("consensus", consensus)]
    if position is not None:
        pairs.append(("i", position))
    return urlencode(pairs)


def meeting_view(project, coders, code, document, consensus, position) -> dict[str, Any]:
    view = project.consensus_meeting(
        coders=coders,
        codes=[code] if code else None,
        documents=[document] if document else None,
        as_coder=consensus,
        position=position,
    )
    before = project.agreement_summary(bootstrap=0, coders=view["coders"])
    return {**plain(view), "before": plain(before)}


@router.get("/api/consensus/meeting")
def meeting_json(
    request: Request,
    coders: list[str] | None = Query(None),
    code: str | None = None,
    document: str | None = None,
    consensus: str = "consensus",
    i: int = Query(0, ge=0),
    user: User = Depends(viewer),
):
    project = request.app.state.web.project
    return meeting_view(project, _clean(coders), code, document, consensus, i)


@router.get("/disagreements")
def disagreements_page(
    request: Request,
    coders: list[str] | None = Query(None),
    code: str | None = None,
    document: str | None = None,
    consensus: str = "consensus",
    i: int = Query(0, ge=0),
    user: User = Depends(viewer),
):
    web = request.app.state.web
    project = web.project
    coders = _clean(coders)
    try:
        found = project.consensus_meeting(
            coders=coders,
            codes=[code] if code else None,
            documents=[document] if document else None,
            as_coder=consensus,
            position=i,
        )
    except TooFewCoders as exc:
        # fewer than two coders chosen or coding: the page, its chooser and why, not an error
        view = {"problem": str(exc), "coders": coders or [], "consensus": consensus}
    else:
        # the list beside the unit shows a window of ITEMS_SHOWN around it; the counts are of all
        at = max(0, (found["position"] or 0) - ITEMS_SHOWN // 2)
        found["items"] = found["items"][at : at + ITEMS_SHOWN]
        before = project.agreement_summary(bootstrap=0, coders=found["coders"])
        view = {**plain(found), "before": plain(before), "items_from": at}
    chosen = {"coders": coders, "code": code or "", "document": document or ""}
    offered = project.agreement_choices()  # kept until the project changes
    context = page_context(
        request,
        user,
        **view,
        chosen=chosen,
        all_coders=plain(offered["coders"]),
        all_codes=[c["name"] for c in offered["codes"]],
        all_documents=offered["documents"],
        base=_query(coders, code, document, consensus),
    )
    return web.templates.TemplateResponse(request, "disagreements.html", context)


class Decision(BaseModel):
    unit: str = Field(..., max_length=40)
    action: Literal["accept", "both", "neither", "other"]
    coder: str | None = Field(None, max_length=200)
    other: str | None = Field(None, max_length=300)
    note: str = Field("", max_length=5000)
    coders: list[str] | None = None
    codes: list[str] | None = None
    consensus: str = Field("consensus", max_length=200)


@router.post("/api/consensus/decide")
def decide_json(request: Request, body: Decision, user: User = Depends(owner)):
    project = request.app.state.web.project
    result = project.decide_consensus(
        body.unit,
        body.action,
        coders=_clean(body.coders),
        coder=body.coder,
        other=body.other,
        note=body.note,
        as_coder=body.consensus,
        codes=_clean(body.codes),
        actor=user.name,
    )
    return plain(result)


@router.post("/disagreements/decide")
def decide_form(
    request: Request,
    unit: str = Form(..., max_length=40),
    choice: str = Form(..., max_length=250),
    other: str = Form("", max_length=300),
    note: str = Form("", max_length=5000),
    coders: list[str] = Form([]),
    code: str = Form("", max_length=300),
    document: str = Form("", max_length=300),
    consensus: str = Form("consensus", max_length=200),
    i: int = Form(0, ge=0),
    user: User = Depends(owner),
):
    """The page's form: choice is accept:NAME, both, neither or other; then the next unit."""
    action, _, coder = choice.partition(":")
    project = request.app.state.web.project
    project.decide_consensus(
        unit,
        action,
        coders=_clean(coders),
        coder=coder or None,
        other=other or None,
        note=note,
        as_coder=consensus,
        codes=[code] if code else None,
        actor=user.name,
    )
    target = "/disagreements?" + _query(_clean(coders), code, document, consensus, i + 1)
    return RedirectResponse(target, status_code=303)


@router.get("/download/consensus-decisions")
def download_decisions(
    request: Request,
    fmt: Literal["xlsx", "docx", "csv"] = "xlsx",
    consensus: str = "consensus",
    user: User = Depends(viewer),
):
    project = request.app.state.web.project
    folder = tempfile.mkdtemp(prefix="caseframe-decisions-")
    try:
        path = project.export_consensus_decisions(Path(folder) / f"decisions.{fmt}", consensus, fmt)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        path,
        media_type=MEDIA[fmt],
        filename=f"consensus-decisions.{fmt}",
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
