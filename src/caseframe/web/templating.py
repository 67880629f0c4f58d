"""The page templates (Jinja2) and what every page is given; route modules import this, not
web/app.py, so the app (which includes the routes) and the routes do not import each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from caseframe.web.csrf import token_for

TEMPLATES = Path(__file__).parent / "templates"


def make_templates(project_name: str) -> Jinja2Templates:
    """The Jinja environment of one workspace, with the project's name on every page."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["project_name"] = project_name
    return templates


def page_context(request: Request, user: Any, **values: Any) -> dict[str, Any]:
    """What every page template needs: the user and the CSRF token of this session."""
    web = request.app.state.web
    session = web.sessions.read(request)
    csrf = token_for(web.secret, session.nonce) if session else ""
    return {"user": user, "csrf": csrf, **values}
