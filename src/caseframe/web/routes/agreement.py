"""Intercoder agreement in the workspace, with a coder, code and document chooser
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
ROW_KEYS = ("code", "units", *FIGURES, "reading", "notes", "statistics")


def selection(
    coders: list[str] | None, codes: list[str] | None, documents: list[str] | None
) -> dict[str, list[str] | None]:
    """Chooser values (empty entries dropped; nothing chosen means the default)."""

    def clean(values: list[str] | None) -> list[str] | None:
        kept = [v for v in (values or []) if v.strip()]
        return kept or None

    return {"coders": clean(coders), "codes": clean(codes), "documents": clean(documents)}


def agreement_view(project, bootstrap: int = BOOTSTRAP, **chosen: Any) -> dict[str, Any]:
    """{"summary": None | {...}, "per_code": [...]}: the pooled summary and one row per code."""
    summary = project.agreement_summary(bootstrap=bootstrap, **chosen)
    per_code: list[dict[str, Any]] = []
    if summary is not None and summary.get("units"):
        report = project.agreement(
            coders=summary["coders"],
            codes=chosen.get("codes"),
            documents=chosen.get("documents"),
            bootstrap=bootstrap,
        ).to_json()
        per_code = [{k: row.get(k) for k in ROW_KEYS} for row in report["per_code"]]
    return {"summary": plain(summary), "per_code": plain(per_code)}


def chooser(project) -> dict[str, Any]:
    """What the chooser offers: coders with their role, the codes, the documents."""
    return {
        "all_coders": plain(project.agreement_coders()),
        "all_codes": [{"id": c.id, "name": c.name} for c in project.codes()],
        "all_documents": project.documents_frame()["name"].tolist(),
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
    return agreement_view(request.app.state.web.project, bootstrap, **chosen)


@router.get("/agreement")
def agreement_page(
    request: Request,
    coders: list[str] | None = Query(None),
    codes: list[str] | None = Query(None),
    documents: list[str] | None = Query(None),
    user: User = Depends(viewer),
):
    web = request.app.state.web
    chosen = selection(coders, codes, documents)
    view = agreement_view(web.project, **chosen)
    return web.templates.TemplateResponse(
        request,
        "agreement.html",
        page_context(
            request, user, **view, **chooser(web.project), chosen=chosen, bootstrap=BOOTSTRAP
        ),
    )
