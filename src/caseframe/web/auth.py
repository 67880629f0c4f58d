"""Sign-in: signed session cookies, the current user, role checks and login rate limiting.

The session cookie holds only the user id and a random nonce, signed with the project's key
(`Project.web_secret`), so any number of web workers can check it without shared memory. The
user is re-read on every request, so a role change or a removed role takes effect at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from fastapi import Depends, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from caseframe.api.users import User
from caseframe.errors import NotFound

COOKIE = "caseframe_session"
RANK = {"viewer": 1, "coder": 2, "owner": 3}


@dataclass(frozen=True)
class Session:
    uid: int | None
    nonce: str


class AuthRequired(Exception):
    """No valid signed-in session: pages redirect to the sign-in, the API answers 401."""

    def __init__(self, expired: bool = False):
        self.expired = expired
        super().__init__("expired" if expired else "signed out")


class Forbidden(Exception):
    """Signed in, but the role does not allow this (403)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NoRole(Exception):
    """Signed in without a role in this project: answered as 404, as if nothing were here."""


class Sessions:
    def __init__(self, secret: str, max_age: int, secure: bool):
        self.serializer = URLSafeTimedSerializer(secret, salt="caseframe.session")
        self.max_age = max_age
        self.secure = secure

    def new(self, uid: int | None) -> tuple[Session, str]:
        """A fresh session (a new nonce on every sign-in, so an old cookie cannot be reused)."""
        session = Session(uid, secrets.token_urlsafe(18))
        return session, self.serializer.dumps({"u": uid, "n": session.nonce})

    def read(self, request: Request, check_age: bool = True) -> Session | None:
        """The session in the request's cookie; raises AuthRequired(expired) when too old."""
        cached = request.scope.get("caseframe.session")
        if cached is not None and check_age:
            return cached
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw, max_age=self.max_age if check_age else None)
        except SignatureExpired:
            raise AuthRequired(expired=True) from None
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        uid = data.get("u")
        session = Session(uid if isinstance(uid, int) else None, data["n"])
        if check_age:
            request.scope["caseframe.session"] = session
        return session

    def set_cookie(self, response, value: str) -> None:
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )


def current_user(request: Request) -> User:
    web = request.app.state.web
    session = web.sessions.read(request)
    if session is None or session.uid is None:
        raise AuthRequired()
    try:
        user = web.project.user(session.uid)
    except NotFound:
        raise AuthRequired() from None
    if not user.active:
        raise AuthRequired()
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


class LoginLimiter:
    """Failed sign-ins per (client, user name) and per client in a sliding window.

    Kept in memory: with several workers each counts its own share, which still bounds the rate.
    """

    def __init__(self, attempts: int, window: float):
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, client: str, name: str) -> int:
        """Seconds to wait before another try is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            per_name = ((client, name.casefold()), self.attempts)
            per_client = ((client, ""), self.attempts * 4)
            for key, limit in (per_name, per_client):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(self.window - (now - times[0])) + 1)
            return max(waits, default=0)

    def failed(self, client: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in ((client, name.casefold()), (client, "")):
                self._recent(key, now).append(now)

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name.casefold()), None)
