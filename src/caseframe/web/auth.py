"""Sign-in state of a request: the session cookie, the current user, role checks.

A signed-in browser holds `s.<token>`, a random token whose hash names a session in the store
(api/sessions.py), so every worker sees the same sessions and ending one takes effect at once.
Before sign-in the browser holds a signed cookie with a random nonce, only so that the sign-in
form carries a CSRF token; nothing about it is stored. The user and role are read with the
session on every request, so a role change or a removed role takes effect at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from caseframe.api import Project
from caseframe.api.sessions import SessionTimeouts
from caseframe.api.users import User

COOKIE = "caseframe_session"
TOKEN_PREFIX = "s."
RANK = {"viewer": 1, "coder": 2, "owner": 3}
FORM_MAX_AGE = 24 * 3600  # the sign-in form's anonymous cookie
SETTINGS_TTL = 30.0  # seconds the project's session limits are cached per worker


@dataclass(frozen=True)
class Session:
    """The request's session: `nonce` is what its CSRF token is made from (the token hash of a
    signed-in session, the random nonce of the sign-in form's cookie)."""

    uid: int | None
    nonce: str
    id: int | None = None
    state: str = "anonymous"  # active | idle | expired | ended | anonymous
    user: User | None = None
    token: str | None = None


class AuthRequired(Exception):
    """No valid signed-in session: pages redirect to the sign-in, the API answers 401.
    `reason` is None (never signed in), "expired" (a time limit passed) or "ended"."""

    def __init__(self, expired: bool = False, reason: str | None = None):
        self.reason = reason or ("expired" if expired else None)
        self.expired = self.reason is not None
        super().__init__(self.reason or "signed out")


class Forbidden(Exception):
    """Signed in, but the role does not allow this (403)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NoRole(Exception):
    """Signed in without a role in this project: answered as 404, as if nothing were here."""


class Sessions:
    """Reads and writes the session cookie for one workspace."""

    def __init__(
        self,
        project: Project,
        secret: str,
        limits: SessionTimeouts | None = None,
        secure: bool = False,
    ):
        self.project = project
        self.serializer = URLSafeTimedSerializer(secret, salt="caseframe.sign-in-form")
        self.fixed_limits = limits
        self.secure = secure
        self._cached: tuple[float, SessionTimeouts] | None = None
        self._lock = threading.Lock()

    def limits(self) -> SessionTimeouts:
        """The idle and absolute limits: given to the app, else the project's settings."""
        if self.fixed_limits is not None:
            return self.fixed_limits
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > SETTINGS_TTL:
                self._cached = (time.monotonic(), self.project.session_timeouts())
            return self._cached[1]

    @property
    def max_age(self) -> int:
        return self.limits().absolute

    def new(self, uid: None = None) -> tuple[Session, str]:
        """A fresh anonymous session for the sign-in form (a new nonce each time)."""
        session = Session(None, secrets.token_urlsafe(18))
        return session, self.serializer.dumps({"n": session.nonce})

    def read(self, request: Request, check_age: bool = True) -> Session | None:
        """The request's session (read once per request). A signed-in session that has ended
        or lapsed raises AuthRequired unless `check_age` is False (the CSRF check, which
        leaves that answer to the sign-in check that follows it)."""
        session = request.scope.get("caseframe.session")
        if session is None:
            session = self._load(request.cookies.get(COOKIE) or "")
            if session is None:
                return None
            request.scope["caseframe.session"] = session
        if check_age and session.state in ("idle", "expired"):
            raise AuthRequired(reason="expired")
        if check_age and session.state == "ended":
            raise AuthRequired(reason="ended")
        return session

    def _load(self, raw: str) -> Session | None:
        if raw.startswith(TOKEN_PREFIX):
            token = raw[len(TOKEN_PREFIX) :]
            if not 20 <= len(token) <= 100:
                return None
            found = self.project.check_session(token, self.limits())
            if found is None:  # never issued: forged or from another store
                return None
            s, user = found.session, found.user
            return Session(user.id, found.token_hash, s.id, s.state, user, token)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw, max_age=FORM_MAX_AGE)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        return Session(None, data["n"])

    def cookie_for(self, token: str) -> str:
        return TOKEN_PREFIX + token

    def set_cookie(self, request: Request, response, value: str, signed_in: bool = False):
        """HttpOnly, SameSite=Lax; Secure when the request came over HTTPS (directly or, by the
        proxy rules, through a trusted proxy) or the app was told to always use it."""
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age if signed_in else None,
            httponly=True,
            samesite="lax",
            secure=self.secure or request.url.scheme == "https",
            path="/",
        )


def current_user(request: Request) -> User:
    web = request.app.state.web
    session = web.sessions.read(request)
    if session is None or session.user is None:
        raise AuthRequired()
    user = session.user
    if not user.active:
        raise AuthRequired(reason="ended")
    if user.role is None:
        raise NoRole()
    return user


def require(role: str):
    """A dependency: the signed-in user, who must have at least `role`."""

    def check(user: User = Depends(current_user)) -> User:
        if RANK[user.role or ""] < RANK[role]:
            raise Forbidden(f"this needs the {role} role; you are a {user.role}")
        return user

    return check


viewer = require("viewer")
coder = require("coder")
owner = require("owner")
