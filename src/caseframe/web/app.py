"""The web workspace: `create_app(project_dir)` builds the FastAPI app for one project.

Thin by design: every route calls the Project API; caseframe errors become 404/400/409 with
their one-line message. Nothing is loaded from elsewhere (no CDN) and nothing is sent anywhere.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Sequence
from contextlib import asynccontextmanager
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
from caseframe.api.sessions import SessionTimeouts
from caseframe.errors import CaseframeError, InvalidInput
from caseframe.web.auth import AuthRequired, Forbidden, NoRole, Sessions
from caseframe.web.changes import ChangeFeed
from caseframe.web.csrf import CsrfError, csrf_protect
from caseframe.web.scrub import without_paths
from caseframe.web.templating import make_templates, page_context

HERE = Path(__file__).parent
log = logging.getLogger("caseframe.web")
JSON_LIMIT = 1 << 20  # 1 MiB for ordinary requests
UPLOAD_LIMIT = 50 << 20  # document imports
UPLOAD_PATHS = ("/api/import",)
UNLOCKED_PATHS = ("/login", "/logout")  # sign-in hashes for 0.1 s; it must not hold up writers
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
HSTS = (b"strict-transport-security", b"max-age=31536000")
REQUEST_ID = b"x-request-id"


@dataclass
class WebState:
    project: Project
    secret: str
    sessions: Sessions
    templates: Jinja2Templates
    feed: ChangeFeed
    login_attempts: int = 5
    login_window: float = 300.0
    write_lock: WriteLock | None = None


class WriteLock:
    """On SQLite, changes queue on a lock instead of in SQLite's busy handler, whose growing
    sleeps (up to 100 ms each) made the slowest requests many times slower. The lock is held
    by one request of this process and, through an advisory lock on a file beside the database,
    by one worker process at a time (`serve --workers`).

    Waiting requests wait in threads of their own (`limiter`), not in the pool that runs the
    endpoints: if they took the endpoints' threads, the request holding the lock could find no
    thread to finish in."""

    def __init__(self, database: str | None):
        import anyio

        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self.limiter = anyio.CapacityLimiter(10_000)
        try:
            import fcntl  # noqa: F401  (POSIX only: elsewhere the lock is per process)
            import os

            if database:
                self._fd = os.open(database + ".write-lock", os.O_RDWR | os.O_CREAT, 0o600)
        except (ImportError, OSError):
            self._fd = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free at once (no thread needed to wait for it)."""
        if not self._thread_lock.acquire(blocking=False):
            return False
        if self._fd is not None:
            import fcntl

            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another worker holds it
                self._thread_lock.release()
                return False
        return True

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None:
            import fcntl

            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


async def one_writer(request: Request):
    lock = request.app.state.web.write_lock
    if (
        lock is None
        or request.method in ("GET", "HEAD", "OPTIONS")
        or request.url.path in UNLOCKED_PATHS
    ):
        yield
        return
    import anyio

    held = False

    def take() -> None:
        nonlocal held
        lock.acquire()
        held = True

    try:
        if lock.try_acquire():
            held = True
        else:  # wait in a thread of its own (see WriteLock)
            await anyio.to_thread.run_sync(take, limiter=lock.limiter)
        yield
    finally:
        if held:  # also when the request was cancelled while the thread took the lock
            lock.release()


def open_project(project_dir: str | Path, db: str | None = None) -> Project:
    """The project, optionally on another store URL (`--db postgresql://...`)."""
    if db is None:
        return Project.open(project_dir)
    from caseframe.store.core import Store

    root = Path(project_dir)
    config_path = root / "caseframe.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    return Project(root, Store.open(db), config)


def check_proxies(proxies: Sequence[str]) -> list[str]:
    """Trusted proxy addresses or networks (`10.0.0.2`, `10.0.0.0/24`), checked."""
    import ipaddress

    out = []
    for item in proxies:
        item = item.strip()
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False) if "/" in item else ipaddress.ip_address(item)
        except ValueError:
            raise InvalidInput(
                f"'{item}' is not an IP address or network",
                hint="give the proxy's address, e.g. --proxy 127.0.0.1 or --proxy 10.0.0.0/24",
            ) from None
        out.append(item)
    return out


def create_app(
    project_dir: str | Path | None = None,
    *,
    project: Project | None = None,
    db: str | None = None,
    session_max_age: int | None = None,
    session_idle: int | None = None,
    secure_cookies: bool = False,
    trusted_proxies: Sequence[str] = (),
    login_attempts: int = 5,
    login_window: float = 300.0,
    max_body: int = JSON_LIMIT,
    max_upload: int = UPLOAD_LIMIT,
    live_poll: float = 0.3,
) -> FastAPI:
    """The workspace for one project (give its folder, or an open `project`).

    Session limits (seconds) default to the project's settings (`caseframe users timeouts`).
    `trusted_proxies`: addresses whose X-Forwarded-For/-Proto are believed; from any other
    client these headers are ignored. `live_poll`: how often (s) this worker looks for other
    users' changes on SQLite (PostgreSQL notifies at once).
    """
    if project is None:
        if project_dir is None:
            raise TypeError("create_app needs project_dir or project")
        project = open_project(project_dir, db)
    proxies = check_proxies(trusted_proxies)
    secret = project.web_secret()
    templates = make_templates(project.name)
    limits = None
    if session_max_age is not None or session_idle is not None:
        stored = project.session_timeouts()
        limits = SessionTimeouts(
            session_idle if session_idle is not None else stored.idle,
            session_max_age if session_max_age is not None else stored.absolute,
        )
    feed = ChangeFeed(project, poll_interval=live_poll)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        feed.stop()

    app = FastAPI(
        title="caseframe workspace",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect), Depends(one_writer)],
        lifespan=lifespan,
    )
    sqlite = project.store.dialect == "sqlite"
    app.state.web = WebState(
        project=project,
        secret=secret,
        sessions=Sessions(project, secret, limits, secure_cookies),
        templates=templates,
        feed=feed,
        login_attempts=login_attempts,
        login_window=login_window,
        write_lock=WriteLock(project.store.engine.url.database) if sqlite else None,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from caseframe.web.routes import (
        admin,
        agreement,
        analysis,
        api,
        consensus,
        events,
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
    app.include_router(events.router)  # live updates (Server-Sent Events)
    _error_handlers(app)
    app.add_middleware(Guard, max_body=max_body, max_upload=max_upload)
    if proxies:  # outermost, so that everything inside sees the client and scheme it gives
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    return app


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith(("/api/", "/download/"))
        or request.method not in ("GET", "HEAD")
        or "application/json" in request.headers.get("accept", "")
    )


def error_response(request: Request, status: int, message: str) -> Any:
    message = without_paths(message)
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    web = request.app.state.web
    return web.templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "message": message,
            "user": None,
            "csrf": "",
            "request_id": request_id_of(request.scope),
        },
        status_code=status,
    )


def request_id_of(scope) -> str:
    return scope.get("state", {}).get("request_id", "")


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CaseframeError)
    async def caseframe_error(request: Request, exc: CaseframeError):
        if exc.http_status >= 500:
            log.error(
                "%s %s failed (request id %s): %s",
                request.method,
                request.url.path,
                request_id_of(request.scope),
                exc.line(),
            )
        return error_response(request, exc.http_status, exc.line())

    @app.exception_handler(AuthRequired)
    async def auth_required(request: Request, exc: AuthRequired):
        message = {
            "expired": "your session has expired; sign in again",
            "ended": "your session has ended; sign in again",
        }.get(exc.reason or "", "please sign in")
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=401)
        target = {"expired": "/login?expired=1", "ended": "/login?ended=1"}
        return RedirectResponse(target.get(exc.reason or "", "/login"), status_code=303)

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
        return JSONResponse({"error": without_paths(describe_validation(exc))}, status_code=400)

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
    """Pure ASGI middleware: gives every request an id (the `X-Request-ID` header), caps
    request bodies (413), adds the security headers (HSTS over HTTPS), and turns an unexpected
    error into a 500 that shows the request id and nothing else, with the details in the
    server's log under that id."""

    def __init__(self, app, max_body: int, max_upload: int):
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        https = scope.get("scheme") == "https"
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else self.max_body
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _too_large(send, limit, request_id, https)
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
                message["headers"] = _with_headers(message.get("headers", []), request_id, https)
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            log.exception(
                "%s %s failed (request id %s)", scope.get("method"), scope["path"], request_id
            )
            if not state["started"]:
                await _server_error(scope, send, request_id, https)
            return
        if state["too_large"] and not state["started"]:
            await _too_large(send, limit, request_id, https)


def _with_headers(headers, request_id: str, https: bool) -> list:
    """The response's headers plus the security headers it does not set itself (a stand-alone
    report page keeps its own policy)."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
    if https:
        headers.append(HSTS)
    headers.append((REQUEST_ID, request_id.encode()))
    return headers


async def _too_large(send, limit: int, request_id: str, https: bool) -> None:
    body = json.dumps({"error": f"the request body is larger than {limit // 1024} KiB"}).encode()
    headers = [(b"content-type", b"application/json")]
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": _with_headers(headers, request_id, https),
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _server_error(scope, send, request_id: str, https: bool) -> None:
    message = f"something went wrong on the server (request id {request_id})"
    request = Request(scope)
    if wants_json(request):
        body = json.dumps({"error": message, "request_id": request_id}).encode()
        content_type = b"application/json"
    else:
        try:
            web = scope["app"].state.web
            body = (
                web.templates.get_template("error.html")
                .render(status=500, message=message, user=None, csrf="", request_id=request_id)
                .encode()
            )
        except Exception:  # the page itself failed: plain text still carries the id
            body = message.encode()
        content_type = b"text/html; charset=utf-8"
    headers = [(b"content-type", content_type)]
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": _with_headers(headers, request_id, https),
        }
    )
    await send({"type": "http.response.body", "body": body})


__all__ = ["create_app", "HTMLResponse", "page_context"]  # page_context: web.templating
