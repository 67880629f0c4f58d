"""Site sustainability profiles (`caseframe.reports.profiles.profile_page`) in the workspace.

The profile page is a finished, self-contained HTML document with inline CSS and inline SVG
charts, which the workspace's policy (styles only from the app) would strip of its layout. So
`/profiles/page` serves it as its own document under a policy of its own that allows inline
styles and nothing else (no scripts, no fetches, no forms), and `/profiles` shows it in a
same-origin frame inside the workspace, with a site chooser.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from caseframe.api.users import User
from caseframe.errors import NotFound
from caseframe.web.auth import viewer
from caseframe.web.templating import page_context

router = APIRouter()

# For /profiles/page only: inline <style> and style="" (the SVG charts) and data: images; no
# script can run, nothing is loaded, and only the workspace itself may frame it.
PROFILE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def _chosen(project, site: str | None, framework: str):
    """The rated sites, and the one asked for; NotFound (404) for an unknown or unrated site
    and when no site has been rated yet (there is no page to show then)."""
    sites = project.site_profiles(framework)
    if not sites.profiles:
        raise NotFound(
            f"no site has a {sites.framework.key} assessment yet",
            hint="record ratings with 'caseframe assess' or 'caseframe assess import FILE'",
        )
    chosen = sites.profile(project.case(site).key) if site else None
    return sites, chosen


@router.get("/profiles")
def profiles(
    request: Request, site: str | None = None, framework: str = "sis", user: User = Depends(viewer)
):
    web = request.app.state.web
    site = (site or "").strip() or None
    try:
        sites, chosen = _chosen(web.project, site, framework)
    except NotFound:
        if site:
            raise
        sites, chosen = None, None  # nothing rated: the page says so
    return web.templates.TemplateResponse(
        request,
        "profiles.html",
        page_context(
            request,
            user,
            framework=framework,
            sites=[p.site for p in sites.profiles] if sites else [],
            site=chosen.site if chosen else None,
        ),
    )


@router.get("/profiles/page")
def profile_document(
    request: Request, site: str | None = None, framework: str = "sis", user: User = Depends(viewer)
):
    from caseframe.reports.profiles import profile_page

    project = request.app.state.web.project
    site = (site or "").strip() or None
    _chosen(project, site, framework)  # a clear 404 before any drawing
    html = profile_page(project, site=site, framework=framework)
    return HTMLResponse(
        html,
        headers={"Content-Security-Policy": PROFILE_POLICY, "X-Frame-Options": "SAMEORIGIN"},
    )
