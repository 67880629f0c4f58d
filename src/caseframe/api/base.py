"""What every part of the API shares: the store, the acting person, and the write discipline.

A write goes through `ProjectBase.writing(actor)`: one transaction, and a `Writer` whose
`audit(...)` records the change on the same connection, so the change and its audit entry commit
or roll back together whoever calls (web, CLI, notebook).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from caseframe.store.core import Store
from caseframe.store.queries import audit


def default_actor() -> str:
    """Who acts when nobody says: $CASEFRAME_ACTOR, else the operating-system user."""
    name = os.environ.get("CASEFRAME_ACTOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


@dataclass
class Writer:
    """An open write transaction and the person it is done for."""

    conn: Connection
    actor: str

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str | int | None,
        before: Any = None,
        after: Any = None,
    ) -> int:
        return audit.record(self.conn, self.actor, action, entity_type, entity_id, before, after)


class ProjectBase:
    """State shared by the API's parts; `Project` composes them."""

    root: Path
    store: Store
    config: dict
    actor: str

    @contextmanager
    def writing(self, actor: str | None = None) -> Iterator[Writer]:
        """One write transaction; everything in it commits together or not at all."""
        with self.store.transaction() as conn:
            yield Writer(conn, actor or self.actor)
