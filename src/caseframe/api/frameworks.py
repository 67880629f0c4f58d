"""Frameworks: built-in SIS, CFIR 2.0 and PSAT, and the user's own from YAML."""

from __future__ import annotations

from pathlib import Path

from caseframe.api.base import ProjectBase
from caseframe.errors import Conflict
from caseframe.model import Framework
from caseframe.store.queries import frameworks as q


class FrameworksMixin(ProjectBase):
    def frameworks(self) -> list[Framework]:
        with self.store.read() as conn:
            return q.load_all(conn)

    def framework(self, key: str) -> Framework:
        with self.store.read() as conn:
            return q.load(conn, key)

    def add_framework(
        self, path: str | Path, replace: bool = False, *, actor: str | None = None
    ) -> Framework:
        """Add a framework from a YAML file; `replace` updates one the user added before."""
        from caseframe.frameworks.loader import load_framework_file

        fw = load_framework_file(path)
        with self.writing(actor) as w:
            existing = q.row_with_key(w.conn, fw.key)
            if existing is None:
                q.insert(w.conn, fw)
                before = None
            elif existing.builtin or not replace:
                raise Conflict(
                    f"framework '{fw.key}' already exists",
                    where=str(path),
                    hint="choose another key" + ("" if existing.builtin else ", or pass --replace"),
                )
            else:
                before = q.load(w.conn, fw.key)
                q.replace(w.conn, existing.id, fw)
            after = q.load(w.conn, fw.key)
            w.audit("add" if before is None else "replace", "framework", fw.key, before, after)
        return after

    def protocol(self, framework: str, fmt: str, out: str | Path) -> Path:
        from caseframe.reports.protocol import write_protocol

        return write_protocol(self.framework(framework), fmt, Path(out))
