"""Users of the web workspace: roles, password hashes (Argon2id), the audit log, the session key.

A user is linked to the coder of the same name, so what they code in the browser is theirs.
Taking away a user's role or changing their password ends all their web sessions in the same
transaction (api/sessions.py holds the sessions themselves).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from caseframe.api.base import ProjectBase, Writer
from caseframe.errors import Conflict, InvalidInput
from caseframe.store.core import now
from caseframe.store.lookup import coder_row
from caseframe.store.queries import audit as audit_queries
from caseframe.store.queries import sessions as session_queries
from caseframe.store.queries import users as q

if TYPE_CHECKING:
    import pandas as pd
    from argon2 import PasswordHasher

ROLES = ("owner", "coder", "viewer")
MIN_PASSWORD = 8
SECRET_KEY = "web.session_secret"


@functools.cache
def hasher() -> PasswordHasher:
    """Argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so that an unknown name costs the same time;
    made on first sign-in, not at import (one hash is 0.14 s and 64 MiB)."""
    return hasher().hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str | None
    coder_id: int | None
    active: bool = True


def check_role(role: str | None) -> str | None:
    if role in (None, "", "none"):
        return None
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", hint=f"use {', '.join(ROLES)} or none")
    return role


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"the password is shorter than {MIN_PASSWORD} characters", hint="choose a longer one"
        )


def to_user(row) -> User:
    return User(row.id, row.name, row.role, row.coder_id, bool(row.active))


def end_user_sessions(w: Writer, user_id: int, name: str, reason: str) -> list[int]:
    """End every open session of a user, audited in the caller's transaction."""
    ended = session_queries.end(w.conn, reason, now(), user_id=user_id)
    if ended:
        w.audit("end", "session", None, None, {"user": name, "reason": reason, "sessions": ended})
    return ended


class UsersMixin(ProjectBase):
    def add_user(
        self, name: str, password: str, role: str | None = "viewer", actor: str | None = None
    ) -> User:
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput("a user name must be 1–200 characters")
        role = check_role(role)
        check_password(password)
        digest = hasher().hash(password)
        with self.writing(actor) as w:
            if q.by_name(w.conn, name) is not None:
                raise Conflict(f"a user named '{name}' already exists")
            coder_id = coder_row(w.conn, name, create=True).id
            user_id = q.insert(w.conn, name, digest, role, coder_id)
            w.audit("add", "user", name, None, {"name": name, "role": role})
        return self.user(user_id)

    def user(self, ref: str | int) -> User:
        with self.store.read() as conn:
            return to_user(q.find(conn, ref))

    def users(self) -> list[User]:
        with self.store.read() as conn:
            return [to_user(r) for r in q.listing(conn)]

    def set_role(self, name: str, role: str | None, actor: str | None = None) -> User:
        """Change a user's role; `none` takes their access away and ends their sessions."""
        role = check_role(role)
        with self.writing(actor) as w:
            row = q.find(w.conn, name)
            q.update(w.conn, row.id, role=role)
            w.audit("role", "user", row.name, {"role": row.role}, {"role": role})
            if role is None:
                end_user_sessions(w, row.id, row.name, "role removed")
        return self.user(row.id)

    def set_password(self, name: str, password: str, actor: str | None = None) -> User:
        """A new password; every session signed in with the old one ends."""
        check_password(password)
        digest = hasher().hash(password)
        with self.writing(actor) as w:
            row = q.find(w.conn, name)
            q.update(w.conn, row.id, password_hash=digest)
            w.audit("password", "user", row.name, None, None)
            end_user_sessions(w, row.id, row.name, "password changed")
        return self.user(row.id)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right and the account is active, else None."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.store.read() as conn:
            row = q.by_name(conn, name)
        try:
            hasher().verify(row.password_hash if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if hasher().check_needs_rehash(row.password_hash):
            with self.writing(row.name) as w:
                q.update(w.conn, row.id, password_hash=hasher().hash(password))
                w.audit("rehash", "user", row.name, None, None)
        return to_user(row)

    # -- audit log ----------------------------------------------------------------------------

    def audit(
        self,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: str | int | None,
        before: Any = None,
        after: Any = None,
    ) -> None:
        with self.store.transaction() as conn:
            self._audit(conn, actor, action, entity_type, entity_id, before, after)

    def _audit(
        self,
        conn: Connection,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: str | int | None,
        before: Any,
        after: Any,
    ) -> None:
        """Kept for callers outside this module: `store.queries.audit.record`."""
        audit_queries.record(conn, actor, action, entity_type, entity_id, before, after)

    def audit_frame(self, limit: int = 500, entity_type: str | None = None) -> pd.DataFrame:
        """The newest entries first."""
        import pandas as pd

        with self.store.read() as conn:
            rows = audit_queries.entries(
                conn, entity_types=[entity_type] if entity_type else None, limit=limit
            )
        columns = ["id", "at", "actor", "action", "entity_type", "entity_id", "before", "after"]
        return pd.DataFrame.from_records(
            [{c: getattr(r, c) for c in columns} for r in rows], columns=columns
        )

    # -- web session key ----------------------------------------------------------------------

    def web_secret(self) -> str:
        """The project's key for the workspace's signatures (CSRF tokens, the sign-in form's
        cookie), made on first use."""
        with self.store.read() as conn:
            value = q.setting(conn, SECRET_KEY)
        if value is None:
            try:
                with self.writing("caseframe") as w:
                    q.add_setting(w.conn, SECRET_KEY, secrets.token_hex(32))
                    w.audit("add", "setting", SECRET_KEY, None, {"made": True})
            except IntegrityError:
                pass  # another web worker made it first; use theirs
            with self.store.read() as conn:
                value = q.setting(conn, SECRET_KEY)
        return value
