"""Reading the audit log (entries are written by every API write; see api/base.py)."""

from __future__ import annotations

from datetime import datetime

from caseframe.api.base import ProjectBase
from caseframe.store.queries import audit
from caseframe.store.queries.audit import AuditEntry


class AuditMixin(ProjectBase):
    def audit_entries(
        self,
        since: datetime | None = None,
        limit: int | None = 500,
        entity_type: str | None = None,
        actor: str | None = None,
    ) -> list[AuditEntry]:
        """Entries newest first; `since` keeps those at or after that time."""
        with self.store.read() as conn:
            return audit.entries(
                conn,
                since=since,
                entity_types=[entity_type] if entity_type else None,
                actor=actor,
                limit=limit,
            )
