"""Owner-only: users and roles, their sessions, the audit log, importing documents."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from caseframe.api.sessions import WebSession
from caseframe.api.users import User
from caseframe.errors import InvalidInput
from caseframe.web.auth import owner
from caseframe.web.convert import plain, records
from caseframe.web.scrub import no_paths
from caseframe.web.templating import page_context

router = APIRouter()
MAX_FILES = 200


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., max_length=200)
    password: str = Field(..., max_length=1000)
    role: str | None = "viewer"


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None


def _render(request: Request, name: str, user: User, **values):
    web = request.app.state.web
    return web.templates.TemplateResponse(request, name, page_context(request, user, **values))


def _user_json(u) -> dict:
    return {"id": u.id, "name": u.name, "role": u.role, "active": u.active}


# -- users --------------------------------------------------------------------------------------


@router.get("/users")
def users_page(request: Request, user: User = Depends(owner)):
    web = request.app.state.web
    counts: dict[str, int] = {}
    for s in web.project.web_sessions(limits=web.sessions.limits()):
        counts[s.user] = counts.get(s.user, 0) + 1
    return _render(request, "users.html", user, users=web.project.users(), sessions=counts)


@router.get("/api/users")
def list_users(request: Request, user: User = Depends(owner)):
    return [_user_json(u) for u in request.app.state.web.project.users()]


@router.post("/api/users", status_code=201)
def add_user(body: UserIn, request: Request, user: User = Depends(owner)):
    made = request.app.state.web.project.add_user(
        body.name, body.password, body.role, actor=user.name
    )
    return _user_json(made)


@router.patch("/api/users/{name}")
def set_role(name: str, body: RoleIn, request: Request, user: User = Depends(owner)):
    project = request.app.state.web.project
    if name == user.name and body.role != "owner":
        raise InvalidInput("you cannot take away your own owner role", hint="ask another owner")
    return _user_json(project.set_role(name, body.role, actor=user.name))


# -- sessions -----------------------------------------------------------------------------------


def _session_json(s: WebSession, current: int | None) -> dict:
    return {
        "id": s.id,
        "user": s.user,
        "state": s.state,
        "created_at": s.created_at.isoformat(),
        "last_seen_at": s.last_seen_at.isoformat(),
        "ended_at": s.ended_at.isoformat() if s.ended_at else None,
        "ended_reason": s.ended_reason,
        "client": s.client,
        "user_agent": s.user_agent,
        "current": s.id == current,
    }


def _sessions(request: Request, name: str | None, everything: bool) -> list[dict]:
    web = request.app.state.web
    current = web.sessions.read(request).id
    found = web.project.web_sessions(
        name or None, include_ended=everything, limits=web.sessions.limits()
    )
    return [_session_json(s, current) for s in found]


@router.get("/sessions")
def sessions_page(
    request: Request, user_name: str | None = None, all: int = 0, user: User = Depends(owner)
):
    rows = _sessions(request, user_name, bool(all))
    return _render(
        request, "sessions.html", user, sessions=rows, everything=bool(all), only=user_name
    )


@router.get("/api/sessions")
def list_sessions(
    request: Request, user_name: str | None = None, all: int = 0, user: User = Depends(owner)
):
    """Open sessions (`all=1`: also ended and lapsed ones still kept), newest first."""
    return _sessions(request, user_name, bool(all))


@router.delete("/api/sessions/{session_id}")
def end_session(session_id: int, request: Request, user: User = Depends(owner)):
    ended = request.app.state.web.project.end_session(session_id, actor=user.name)
    return _session_json(ended, None)


@router.post("/api/users/{name}/sessions/end")
def end_user_sessions(name: str, request: Request, user: User = Depends(owner)):
    return {"ended": request.app.state.web.project.end_sessions(name, actor=user.name)}


@router.post("/sessions/{session_id}/end")
def end_session_form(session_id: int, request: Request, user: User = Depends(owner)):
    """The Sessions page's End button (a plain form: the page needs no script)."""
    request.app.state.web.project.end_session(session_id, actor=user.name)
    return RedirectResponse("/sessions", status_code=303)


@router.post("/users/{name}/sessions/end")
def end_user_sessions_form(name: str, request: Request, user: User = Depends(owner)):
    request.app.state.web.project.end_sessions(name, actor=user.name)
    return RedirectResponse("/sessions", status_code=303)


# -- audit log ----------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, user: User = Depends(owner)):
    entries = records(request.app.state.web.project.audit_frame(limit=500))
    return _render(request, "audit.html", user, entries=entries)


@router.get("/api/audit")
def audit(
    request: Request, limit: int = 500, entity_type: str | None = None, user: User = Depends(owner)
):
    limit = max(1, min(limit, 10_000))
    return records(request.app.state.web.project.audit_frame(limit, entity_type))


# -- import -------------------------------------------------------------------------------------


@router.get("/import")
def import_page(request: Request, user: User = Depends(owner)):
    cases = records(request.app.state.web.project.cases_frame())
    return _render(request, "import.html", user, cases=cases)


def _safe_name(name: str) -> str:
    # Only the file's own name, never a path the client chose.
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(". ")
    return base or "document.txt"


@router.post("/api/import")
def import_documents(
    request: Request,
    files: list[UploadFile] = File(...),
    case: str | None = Form(None),
    user: User = Depends(owner),
):
    if len(files) > MAX_FILES:
        raise InvalidInput(f"more than {MAX_FILES} files in one import", hint="import in batches")
    project = request.app.state.web.project
    folder = Path(tempfile.mkdtemp(prefix="caseframe-import-"))
    try:
        paths = []
        for upload in files:
            target = folder / _safe_name(upload.filename or "")
            n = 2
            while target.exists():
                target = folder / f"{target.stem} ({n}){target.suffix}"
                n += 1
            with target.open("wb") as fh:
                shutil.copyfileobj(upload.file, fh)
            paths.append(target)
        results = project.import_documents(paths, case=case or None, actor=user.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out = []
    for r in results:
        item = no_paths(plain(r))  # messages name the file, never the server's folder
        item["path"] = Path(r.path).name
        out.append(item)
    return {"results": out, "imported": sum(1 for r in results if r.ok)}
