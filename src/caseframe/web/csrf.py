"""CSRF protection for every state-changing request.

The token is an HMAC of the session's nonce (a synchronizer token bound to the session): for a
signed-in session the nonce is the hash that names it in the store, so the token dies with the
session (sign-out, an owner ending it, a time limit); for the sign-in form it is the random
nonce of the form's signed cookie. Pages carry it in `<meta name="csrf-token">`, scripts send it
as `X-CSRF-Token`, plain forms as the `csrf_token` field. A request whose Origin names another
site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class CsrfError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def token_for(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


async def csrf_protect(request: Request) -> None:
    """App-wide dependency; a no-op for safe methods."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise CsrfError("the request came from another site")
    web = request.app.state.web
    # The signature is checked, not the age: an expired session is reported as such (401)
    # by the sign-in check that follows, not as a CSRF failure.
    session = await run_in_threadpool(web.sessions.read, request, False)  # reads the store
    if session is None:
        raise CsrfError("no session; reload the page and try again")
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, token_for(web.secret, session.nonce)):
        raise CsrfError("the CSRF token is missing or wrong; reload the page and try again")
