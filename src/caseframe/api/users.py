"""Users of the web workspace: roles, password hashes (Argon2id), the audit log, the session key.

A user is linked to the coder of the same name, so what they code in the browser is theirs.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store import schema as t
from caseframe.store.core import now
from caseframe.store.lookup import coder_row
from caseframe.store.queries import audit as audit_queries

ROLES = ("owner", "coder", "viewer")
MIN_PASSWORD = 8
SECRET_KEY = "web.session_secret"

# Argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes).
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so that an unknown name costs the same time;
    made on first sign-in, not at import (one hash is 0.14 s and 64 MiB)."""
    return _hasher.hash(secrets.token_hex(16))


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


def _to_user(row) -> User:
    return User(row.id, row.name, row.role, row.coder_id, bool(row.active))


def _user_row(conn: Connection, ref: str | int):
    column = t.users.c.id if isinstance(ref, int) else t.users.c.name
    row = conn.execute(select(t.users).where(column == ref)).first()
    if row is None:
        raise NotFound(f"unknown user '{ref}'", hint="list users with 'caseframe users list'")
    return row


class UsersMixin:
    store: Any

    def add_user(
        self, name: str, password: str, role: str | None = "viewer", actor: str = "cli"
    ) -> User:
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput("a user name must be 1–200 characters")
        role = check_role(role)
        check_password(password)
        digest = _hasher.hash(password)
        with self.store.transaction() as conn:
            if conn.execute(select(t.users.c.id).where(t.users.c.name == name)).first():
                raise Conflict(f"a user named '{name}' already exists")
            coder_id = coder_row(conn, name, create=True).id
            stamp = now()
            user_id = conn.execute(
                t.users.insert().values(
                    name=name,
                    password_hash=digest,
                    role=role,
                    coder_id=coder_id,
                    active=True,
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]
            self._audit(conn, actor, "add", "user", name, None, {"name": name, "role": role})
        return self.user(user_id)

    def user(self, ref: str | int) -> User:
        with self.store.read() as conn:
            return _to_user(_user_row(conn, ref))

    def users(self) -> list[User]:
        with self.store.read() as conn:
            return [_to_user(r) for r in conn.execute(select(t.users).order_by(t.users.c.name))]

    def set_role(self, name: str, role: str | None, actor: str = "cli") -> User:
        role = check_role(role)
        with self.store.transaction() as conn:
            row = _user_row(conn, name)
            conn.execute(
                t.users.update().where(t.users.c.id == row.id).values(role=role, updated_at=now())
            )
            self._audit(conn, actor, "role", "user", row.name, {"role": row.role}, {"role": role})
        return self.user(row.id)

    def set_password(self, name: str, password: str, actor: str = "cli") -> User:
        check_password(password)
        digest = _hasher.hash(password)
        with self.store.transaction() as conn:
            row = _user_row(conn, name)
            conn.execute(
                t.users.update()
                .where(t.users.c.id == row.id)
                .values(password_hash=digest, updated_at=now())
            )
            self._audit(conn, actor, "password", "user", row.name, None, None)
        return self.user(row.id)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right and the account is active, else None."""
        with self.store.read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
        try:
            _hasher.verify(row.password_hash if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            with self.store.transaction() as conn:
                conn.execute(
                    t.users.update()
                    .where(t.users.c.id == row.id)
                    .values(password_hash=_hasher.hash(password))
                )
        return _to_user(row)

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
        audit_queries.record(conn, actor, action, entity_type, entity_id, before, after)

    def audit_frame(self, limit: int = 500, entity_type: str | None = None) -> pd.DataFrame:
        """The newest entries first."""
        with self.store.read() as conn:
            query = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
            if entity_type:
                query = query.where(t.audit_log.c.entity_type == entity_type)
            rows = conn.execute(query).all()
        columns = ["id", "at", "actor", "action", "entity_type", "entity_id", "before", "after"]
        return pd.DataFrame.from_records(
            [{c: getattr(r, c) for c in columns} for r in rows], columns=columns
        )

    # -- web session key ----------------------------------------------------------------------

    def web_secret(self) -> str:
        """The project's key for signing session cookies, made on first use."""
        query = select(t.settings.c.value).where(t.settings.c.key == SECRET_KEY)
        with self.store.read() as conn:
            value = conn.scalar(query)
        if value is None:
            try:
                with self.store.transaction() as conn:
                    conn.execute(
                        t.settings.insert().values(key=SECRET_KEY, value=secrets.token_hex(32))
                    )
            except IntegrityError:
                pass  # another web worker made it first; use theirs
            with self.store.read() as conn:
                value = conn.scalar(query)
        return value
