"""The web workspace: `create_app(project_dir)` builds the FastAPI app for one project.

Thin by design: every route calls the Project API; caseframe errors become 404/400/409 with
their one-line message. Nothing is loaded from elsewhere (no CDN) and nothing is sent anywhere.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from caseframe.api import Project
from caseframe.errors import CaseframeError
from caseframe.web.auth import AuthRequired, Forbidden, LoginLimiter, NoRole, Sessions
from caseframe.web.csrf import CsrfError, csrf_protect
from caseframe.web.templating import make_templates, page_context

HERE = Path(__file__).parent
JSON_LIMIT = 1 << 20  # 1 MiB for ordinary requests
UPLOAD_LIMIT = 50 << 20  # document imports
UPLOAD_PATHS = ("/api/import",)
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


@dataclass
class WebState:
    project: Project
    secret: str
    sessions: Sessions
    limiter: LoginLimiter
    templates: Jinja2Templates
    write_lock: threading.Lock | None = None


def one_writer(request: Request):
    """On SQLite, changes from this process queue on a lock instead of in SQLite's busy handler,
    whose growing sleeps (up to 100 ms each) made the slowest requests many times slower."""
    lock = request.app.state.web.write_lock
    if lock is None or request.method in ("GET", "HEAD", "OPTIONS"):
        yield
        return
    with lock:
        yield


def open_project(project_dir: str | Path, db: str | None = None) -> Project:
    """The project, optionally on another store URL (`--db postgresql://...`)."""
    if db is None:
        return Project.open(project_dir)
    from caseframe.store.core import Store

    root = Path(project_dir)
    config_path = root / "caseframe.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    return Project(root, Store.open(db), config)


def create_app(
    project_dir: str | Path | None = None,
    *,
    project: Project | None = None,
    db: str | None = None,
    session_max_age: int = 12 * 3600,
    secure_cookies: bool = False,
    login_attempts: int = 5,
    login_window: float = 300.0,
    max_body: int = JSON_LIMIT,
    max_upload: int = UPLOAD_LIMIT,
) -> FastAPI:
    """The workspace for one project (give its folder, or an open `project`)."""
    if project is None:
        if project_dir is None:
            raise TypeError("create_app needs project_dir or project")
        project = open_project(project_dir, db)
    secret = project.web_secret()
    templates = make_templates(project.name)
    app = FastAPI(
        title="caseframe workspace",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect), Depends(one_writer)],
    )
    app.state.web = WebState(
        project=project,
        secret=secret,
        sessions=Sessions(secret, session_max_age, secure_cookies),
        limiter=LoginLimiter(login_attempts, login_window),
        templates=templates,
        write_lock=threading.Lock() if project.store.dialect == "sqlite" else None,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from caseframe.web.routes import (
        admin,
        agreement,
        analysis,
        api,
        consensus,
        login,
        media,
        pages,
        profiles,
        search,
        suggestions,
    )

    for module in (login, pages, api, analysis, admin, profiles, agreement, suggestions, media):
        app.include_router(module.router)
    app.include_router(search.router)  # search across the project
    app.include_router(consensus.router)  # the consensus meeting (agreement)
    _error_handlers(app)
    app.add_middleware(Guard, max_body=max_body, max_upload=max_upload)
    return app


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith(("/api/", "/download/"))
        or request.method not in ("GET", "HEAD")
        or "application/json" in request.headers.get("accept", "")
    )


def error_response(request: Request, status: int, message: str) -> Any:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    web = request.app.state.web
    return web.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "user": None, "csrf": ""},
        status_code=status,
    )


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CaseframeError)
    async def caseframe_error(request: Request, exc: CaseframeError):
        return error_response(request, exc.http_status, exc.line())

    @app.exception_handler(AuthRequired)
    async def auth_required(request: Request, exc: AuthRequired):
        message = "your session has expired; sign in again" if exc.expired else "please sign in"
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=401)
        target = "/login?expired=1" if exc.expired else "/login"
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return error_response(request, 403, exc.message)

    @app.exception_handler(NoRole)
    async def no_role(request: Request, exc: NoRole):
        return error_response(request, 404, "not found")

    @app.exception_handler(CsrfError)
    async def csrf_error(request: Request, exc: CsrfError):
        return JSONResponse({"error": exc.message}, status_code=403)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return JSONResponse({"error": describe_validation(exc)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_response(request, exc.status_code, str(exc.detail).lower())


def describe_validation(exc: RequestValidationError) -> str:
    """One line for a request that does not parse (malformed JSON, a missing field)."""
    problems = []
    for err in exc.errors()[:3]:
        if err.get("type") == "json_invalid":
            return "malformed JSON in the request body"
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(problems)


class _TooLarge(Exception):
    pass


class Guard:
    """Pure ASGI middleware: caps request bodies (413) and adds the security headers."""

    def __init__(self, app, max_body: int, max_upload: int):
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else self.max_body
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _too_large(send, limit)
        seen = 0
        state = {"started": False, "too_large": False}

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    state["too_large"] = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            if state["too_large"]:
                return  # whatever the app made of the cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                state["started"] = True
                # a response that sets its own policy (a stand-alone report page) keeps it
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            pass
        if state["too_large"] and not state["started"]:
            await _too_large(send, limit)


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": f"the request body is larger than {limit // 1024} KiB"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), *SECURITY_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


__all__ = ["create_app", "HTMLResponse", "page_context"]  # page_context: web.templating
