"""Signed-in web sessions, kept in the store so that every worker sees the same ones.

The browser holds a random token; the store keeps only its SHA-256 hash. A session ends at
sign-out, when the user's password changes or their role is taken away (api/users.py), or when
an owner ends it; it lapses after the idle or the absolute time limit (project settings).
Failed sign-ins are counted in the store per client address and user name, so the limit holds
across workers. Every change is audited in its own transaction; the only writes that are not are
the `last seen` time (at most once a minute per session) and the counter row of an attempt
whose outcome is audited a moment later.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from caseframe.api.base import ProjectBase
from caseframe.api.users import User, to_user
from caseframe.errors import InvalidInput, NotFound
from caseframe.store.core import now
from caseframe.store.queries import sessions as sq
from caseframe.store.queries import users as uq

TIMEOUTS_KEY = "web.session_timeouts"
DEFAULT_IDLE = 2 * 3600  # seconds without a request
DEFAULT_ABSOLUTE = 12 * 3600  # seconds since sign-in
KEEP_DAYS = 30  # ended or unused sessions are forgotten after this


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionTimeouts:
    idle: int = DEFAULT_IDLE
    absolute: int = DEFAULT_ABSOLUTE

    def check(self) -> SessionTimeouts:
        if not (60 <= self.idle <= 30 * 86400 and 60 <= self.absolute <= 90 * 86400):
            raise InvalidInput(
                "session time limits must be between a minute and 30 days (idle) or 90 days",
                hint="give minutes for --idle and hours for --absolute",
            )
        return self


@dataclass(frozen=True)
class WebSession:
    id: int
    user: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    ended_reason: str | None
    client: str
    user_agent: str
    state: str  # active | idle (idle limit passed) | expired (absolute limit) | ended


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: a user and a new session's token, or neither; `retry_after`
    (seconds) when too many attempts failed."""

    user: User | None = None
    token: str | None = None
    session_id: int | None = None
    retry_after: int = 0


@dataclass(frozen=True)
class SessionCheck:
    session: WebSession
    user: User
    token_hash: str


def _state(row, limits: SessionTimeouts, at: datetime) -> str:
    if row.ended_at is not None:
        return "ended"
    if at - sq.aware(row.created_at) >= timedelta(seconds=limits.absolute):
        return "expired"
    if at - sq.aware(row.last_seen_at) >= timedelta(seconds=limits.idle):
        return "idle"
    return "active"


def _session(row, limits: SessionTimeouts, at: datetime) -> WebSession:
    return WebSession(
        id=row.id,
        user=row.user_name,
        user_id=row.user_id,
        created_at=sq.aware(row.created_at),
        last_seen_at=sq.aware(row.last_seen_at),
        ended_at=sq.aware(row.ended_at),
        ended_reason=row.ended_reason,
        client=row.client,
        user_agent=row.user_agent,
        state=_state(row, limits, at),
    )


def _user_of(row) -> User:
    return User(row.user_id, row.user_name, row.user_role, row.user_coder_id, bool(row.user_active))


class SessionsMixin(ProjectBase):
    # -- settings -------------------------------------------------------------------------------

    def session_timeouts(self) -> SessionTimeouts:
        with self.store.read() as conn:
            value = uq.setting(conn, TIMEOUTS_KEY) or {}
        return SessionTimeouts(
            int(value.get("idle", DEFAULT_IDLE)), int(value.get("absolute", DEFAULT_ABSOLUTE))
        )

    def set_session_timeouts(
        self, idle: int | None = None, absolute: int | None = None, *, actor: str | None = None
    ) -> SessionTimeouts:
        """Idle and absolute limits in seconds (None keeps the current one)."""
        current = self.session_timeouts()
        wanted = SessionTimeouts(
            current.idle if idle is None else int(idle),
            current.absolute if absolute is None else int(absolute),
        ).check()
        with self.writing(actor) as w:
            before = uq.setting(w.conn, TIMEOUTS_KEY)
            after = {"idle": wanted.idle, "absolute": wanted.absolute}
            uq.put_setting(w.conn, TIMEOUTS_KEY, after)
            w.audit("update", "setting", TIMEOUTS_KEY, before, after)
        return wanted

    # -- signing in and out ---------------------------------------------------------------------

    def sign_in(
        self,
        name: str,
        password: str,
        *,
        client: str,
        user_agent: str = "",
        attempts: int = 5,
        window: float = 300.0,
    ) -> SignIn:
        """Check the password and open a session. At most `attempts` failures per client and
        name (4 × `attempts` per client) in `window` seconds; then `retry_after` says how long
        to wait. The attempt is counted before the password is checked, so parallel guesses
        from several workers cannot slip past the limit."""
        key = name.casefold()
        at = now()
        since = at - timedelta(seconds=window)
        with self.writing("anonymous") as w:
            sq.lock_sign_ins(w.conn)
            waits = []
            for who, limit in ((key, attempts), (None, attempts * 4)):
                count, oldest = sq.recent_failures(w.conn, client, who, since)
                if count >= limit and oldest is not None:
                    left = (oldest - since).total_seconds()
                    waits.append(max(1, math.ceil(left)))
            if waits:
                return SignIn(retry_after=max(waits))
            sq.prune_failures(w.conn, at - timedelta(seconds=max(window, 86400)))
            sq.add_failure(w.conn, client, key, at)  # its outcome is audited below
        user = self.authenticate(name, password)
        if user is None:
            with self.writing("anonymous") as w:
                w.audit("sign-in failed", "user", name[:100], None, {"client": client})
            return SignIn()
        token = secrets.token_urlsafe(32)
        with self.writing(user.name) as w:
            sq.clear_failures(w.conn, client, key)
            sq.prune(w.conn, at - timedelta(days=KEEP_DAYS))
            session_id = sq.insert(w.conn, token_hash(token), user.id, client, user_agent, at)
            w.audit("sign-in", "session", session_id, None, {"user": user.name, "client": client})
        return SignIn(user=user, token=token, session_id=session_id)

    def sign_out(self, token: str) -> bool:
        """End the session with this token (as its own user); False if it was not open."""
        with self.store.read() as conn:
            row = sq.by_token_hash(conn, token_hash(token))
        if row is None:
            return False
        with self.writing(row.user_name) as w:
            ended = sq.end(w.conn, "signed out", now(), session_ids=[row.id])
            if ended:
                w.audit("sign-out", "session", row.id, None, {"user": row.user_name})
        return bool(ended)

    def check_session(
        self, token: str, limits: SessionTimeouts | None = None, *, touch: bool = True
    ) -> SessionCheck | None:
        """The session with this token and its user (None for a token never issued). Its
        `state` says whether it is still active; an active one is marked as used (`touch`:
        a request by its user, not a page's open event stream)."""
        limits = limits or self.session_timeouts()
        digest = token_hash(token)
        with self.store.read() as conn:
            row = sq.by_token_hash(conn, digest)
        if row is None:
            return None
        at = now()
        session = _session(row, limits, at)
        touch_every = timedelta(seconds=min(60, limits.idle / 4))
        if touch and session.state == "active" and at - session.last_seen_at >= touch_every:
            with self.writing(row.user_name) as w:  # bookkeeping, not a change: not audited
                sq.touch(w.conn, row.id, at)
        return SessionCheck(session, _user_of(row), digest)

    # -- listing and ending ---------------------------------------------------------------------

    def web_sessions(
        self,
        name: str | None = None,
        *,
        include_ended: bool = False,
        limits: SessionTimeouts | None = None,
    ) -> list[WebSession]:
        """Sessions newest first: the active ones, or (include_ended) every one still kept."""
        limits = limits or self.session_timeouts()
        at = now()
        with self.store.read() as conn:
            user_id = uq.find(conn, name).id if name is not None else None
            rows = sq.listing(conn, user_id, open_only=not include_ended)
        found = [_session(r, limits, at) for r in rows]
        return found if include_ended else [s for s in found if s.state == "active"]

    def end_session(
        self, session_id: int, *, reason: str = "ended by an owner", actor: str | None = None
    ) -> WebSession:
        with self.writing(actor) as w:
            row = sq.by_id(w.conn, session_id)
            if row is None:
                raise NotFound(
                    f"unknown session {session_id}",
                    hint="list them with 'caseframe users sessions --all'",
                )
            if sq.end(w.conn, reason, now(), session_ids=[row.id]):
                after = {"user": row.user_name, "reason": reason}
                w.audit("end", "session", row.id, None, after)
            row = sq.by_id(w.conn, session_id)
        return _session(row, self.session_timeouts(), now())

    def end_sessions(
        self,
        name: str | None = None,
        *,
        reason: str = "ended by an owner",
        actor: str | None = None,
    ) -> int:
        """End every open session of one user (or of everyone); returns how many ended."""
        ended = 0
        with self.writing(actor) as w:
            rows = [uq.find(w.conn, name)] if name is not None else uq.listing(w.conn)
            for row in rows:
                ids = sq.end(w.conn, reason, now(), user_id=row.id)
                if ids:
                    after = {"user": row.name, "reason": reason, "sessions": ids}
                    w.audit("end", "session", None, None, after)
                ended += len(ids)
        return ended


__all__ = ["SessionsMixin", "SessionTimeouts", "SignIn", "WebSession", "to_user", "token_hash"]
