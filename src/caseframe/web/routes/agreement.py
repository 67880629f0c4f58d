"""Intercoder agreement in the workspace, with a coder, code and document chooser
(`Project.agreement_overview`: the summary and the per-code figures from one computation;
machine suggestions never count)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from caseframe.api.users import User
from caseframe.web.auth import viewer
from caseframe.web.convert import plain
from caseframe.web.templating import page_context

router = APIRouter()

# Resamples for the confidence intervals: enough for a stable 95% interval. The page shows the
# point estimates at once and the intervals when asked for (or already computed for this
# selection since the project last changed: Project.agreement_overview keeps them); the CLI's
# `agreement` has the full 1000 by default.
BOOTSTRAP = 200
FIGURES = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1")
ROW_KEYS = ("code", "units", *FIGURES, "reading", "notes", "statistics")


def selection(
    coders: list[str] | None, codes: list[str] | None, documents: list[str] | None
) -> dict[str, list[str] | None]:
    """Chooser values (empty entries dropped; nothing chosen means the default)."""

    def clean(values: list[str] | None) -> list[str] | None:
        kept = [v for v in (values or []) if v.strip()]
        return kept or None

    return {"coders": clean(coders), "codes": clean(codes), "documents": clean(documents)}


def agreement_view(
    project, bootstrap: int = BOOTSTRAP, intervals: bool = True, **chosen: Any
) -> dict[str, Any]:
    """{"summary": None | {...}, "per_code": [...], "intervals": bool}: the pooled summary and
    one row per code, from one computation. With `intervals` False the bootstrap is used only
    when it is already kept for this selection; else the point estimates alone."""
    found = project.agreement_overview(bootstrap, if_cached=not intervals, **chosen)
    with_ci = found is not None and bootstrap > 0
    if found is None:
        found = project.agreement_overview(0, **chosen)
    if found is None:
        return {"summary": None, "per_code": [], "intervals": False}
    summary, report = found["summary"], found["report"]
    per_code: list[dict[str, Any]] = []
    if report is not None and summary.get("units"):
        per_code = [{k: row.get(k) for k in ROW_KEYS} for row in report.to_json()["per_code"]]
    return {"summary": plain(summary), "per_code": plain(per_code), "intervals": with_ci}


def chooser(project) -> dict[str, Any]:
    """What the chooser offers: coders with their role, the codes, the documents."""
    offered = project.agreement_choices()
    return {
        "all_coders": plain(offered["coders"]),
        "all_codes": offered["codes"],
        "all_documents": offered["documents"],
    }


@router.get("/api/agreement")
def agreement_json(
    request: Request,
    bootstrap: int = Query(BOOTSTRAP, ge=0, le=2000),
    coders: list[str] | None = Query(None),
    codes: list[str] | None = Query(None),
    documents: list[str] | None = Query(None),
    user: User = Depends(viewer),
):
    chosen = selection(coders, codes, documents)
    view = agreement_view(request.app.state.web.project, bootstrap, **chosen)
    del view["intervals"]  # the JSON asks for its bootstrap explicitly
    return view


@router.get("/agreement")
def agreement_page(
    request: Request,
    coders: list[str] | None = Query(None),
    codes: list[str] | None = Query(None),
    documents: list[str] | None = Query(None),
    ci: bool = False,
    user: User = Depends(viewer),
):
    """The figures at once; `ci=1` adds the bootstrap intervals (kept until the project
    changes, so they stay on the page afterwards)."""
    web = request.app.state.web
    chosen = selection(coders, codes, documents)
    view = agreement_view(web.project, intervals=ci, **chosen)
    return web.templates.TemplateResponse(
        request,
        "agreement.html",
        page_context(
            request, user, **view, **chooser(web.project), chosen=chosen, bootstrap=BOOTSTRAP
        ),
    )
