"""Intercoder agreement in the workspace, shown once a project has two or more human coders
(`Project.agreement_summary` and `Project.agreement`; machine suggestions never count)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from caseframe.api.users import User
from caseframe.web.auth import viewer
from caseframe.web.convert import plain
from caseframe.web.templating import page_context

router = APIRouter()

# Resamples for the confidence intervals: enough for a stable 95% interval on a page that
# should answer within a second or so; the CLI's `agreement` has the full 1000 by default.
BOOTSTRAP = 200
FIGURES = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1")


def agreement_view(project, bootstrap: int = BOOTSTRAP) -> dict[str, Any]:
    """{"summary": None | {...}, "per_code": [...]}: the pooled summary and one row per code."""
    summary = project.agreement_summary(bootstrap=bootstrap)
    per_code: list[dict[str, Any]] = []
    if summary is not None and summary.get("units"):
        report = project.agreement(bootstrap=bootstrap).to_json()
        per_code = [
            {k: row.get(k) for k in ("code", "units", *FIGURES, "reading", "notes")}
            for row in report["per_code"]
        ]
    return {"summary": plain(summary), "per_code": plain(per_code)}


@router.get("/api/agreement")
def agreement_json(
    request: Request,
    bootstrap: int = Query(BOOTSTRAP, ge=0, le=2000),
    user: User = Depends(viewer),
):
    return agreement_view(request.app.state.web.project, bootstrap)


@router.get("/agreement")
def agreement_page(request: Request, user: User = Depends(viewer)):
    web = request.app.state.web
    view = agreement_view(web.project)
    return web.templates.TemplateResponse(
        request, "agreement.html", page_context(request, user, **view, bootstrap=BOOTSTRAP)
    )
