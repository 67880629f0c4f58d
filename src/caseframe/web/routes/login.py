"""Sign-in and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from caseframe.api.users import User
from caseframe.web.auth import current_user
from caseframe.web.csrf import token_for

router = APIRouter()
MESSAGES = {
    "expired": "Your session has expired; please sign in again.",
    "ended": "Your session has ended (signed out, password or role changed, or ended by an "
    "owner); please sign in again.",
}


def _safe_next(target: str | None) -> str:
    # Only paths on this site: no "//host" or "https://..." open redirects.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def client_address(request: Request) -> str:
    """The client as the proxy rules see it (create_app's trusted_proxies)."""
    return request.client.host if request.client else "?"


def _login_page(request: Request, message: str = "", status: int = 200, next_url: str = "/"):
    web = request.app.state.web
    session = web.sessions.read(request, check_age=False)
    cookie = None
    if session is None or session.state not in ("active", "anonymous"):
        # an anonymous session carries the CSRF token of the sign-in form
        session, cookie = web.sessions.new()
    response = web.templates.TemplateResponse(
        request,
        "login.html",
        {
            "user": None,
            "csrf": token_for(web.secret, session.nonce),
            "message": message,
            "next": _safe_next(next_url),
        },
        status_code=status,
    )
    if cookie:
        web.sessions.set_cookie(request, response, cookie)
    return response


@router.get("/login")
def login_form(request: Request, expired: int = 0, ended: int = 0, next: str = "/"):
    message = MESSAGES["ended"] if ended else MESSAGES["expired"] if expired else ""
    return _login_page(request, message, next_url=next)


@router.post("/login")
def login(
    request: Request,
    name: str = Form(..., max_length=200),
    password: str = Form(..., max_length=1000),
    next: str = Form("/"),
):
    web = request.app.state.web
    result = web.project.sign_in(
        name,
        password,
        client=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
        attempts=web.login_attempts,
        window=web.login_window,
    )
    if result.retry_after:
        wait = result.retry_after
        response = _login_page(
            request, f"Too many failed sign-ins; try again in {wait} s.", 429, next
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if result.user is None:
        return _login_page(request, "Wrong user name or password.", 401, next)
    previous = web.sessions.read(request, check_age=False)
    if previous is not None and previous.token:  # signing in again ends the browser's old one
        web.project.sign_out(previous.token)
    response = RedirectResponse(_safe_next(next), status_code=303)
    web.sessions.set_cookie(
        request, response, web.sessions.cookie_for(result.token), signed_in=True
    )
    return response


@router.post("/logout")
def logout(request: Request):
    web = request.app.state.web
    session = web.sessions.read(request, check_age=False)
    if session is not None and session.token:
        web.project.sign_out(session.token)
    _session, cookie = web.sessions.new()
    response = RedirectResponse("/login", status_code=303)
    web.sessions.set_cookie(request, response, cookie)
    return response


@router.get("/api/session")
def session_info(request: Request, user: User = Depends(current_user)):
    """Who is signed in, and the CSRF token scripts send with every change."""
    web = request.app.state.web
    session = web.sessions.read(request)
    return JSONResponse(
        {
            "user": user.name,
            "role": user.role,
            "coder_id": user.coder_id,
            "csrf": token_for(web.secret, session.nonce),
            "session_id": session.id,
        }
    )
