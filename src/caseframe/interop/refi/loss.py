"""The data-loss report every REFI import and export returns (REFI-QDA 1.5, section 7).

Three kinds of entry, each "what, how many, why":
- lost: in the file, but caseframe's representation cannot hold it;
- skipped: deliberately left out (e.g. an unsupported source type, a dangling reference);
- warning: kept, but something was repaired or is doubtful (schema errors in lenient mode,
  text taken from a .docx, a namespace variant).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("lost", "skipped", "warning")


@dataclass
class LossEntry:
    kind: str
    what: str
    count: int
    why: str

    def line(self) -> str:
        return f"{self.kind}: {self.what} ({self.count}): {self.why}"


@dataclass
class LossReport:
    entries: list[LossEntry] = field(default_factory=list)

    def add(self, kind: str, what: str, why: str, count: int = 1) -> None:
        """Record an entry; the same (kind, what, why) is counted once with a summed count."""
        if kind not in KINDS:
            raise ValueError(f"unknown loss-report kind {kind!r}")
        if count <= 0:
            return
        for entry in self.entries:
            if (entry.kind, entry.what, entry.why) == (kind, what, why):
                entry.count += count
                return
        self.entries.append(LossEntry(kind, what, count, why))

    def lost(self, what: str, why: str, count: int = 1) -> None:
        self.add("lost", what, why, count)

    def skipped(self, what: str, why: str, count: int = 1) -> None:
        self.add("skipped", what, why, count)

    def warn(self, what: str, why: str, count: int = 1) -> None:
        self.add("warning", what, why, count)

    def of_kind(self, kind: str) -> list[LossEntry]:
        return [e for e in self.entries if e.kind == kind]

    @property
    def is_empty(self) -> bool:
        return not self.entries

    @property
    def has_loss(self) -> bool:
        """True when something in the file did not make it into the representation."""
        return any(e.kind in ("lost", "skipped") for e in self.entries)

    def lines(self) -> list[str]:
        """One line per entry, losses first; empty when nothing was lost or doubtful."""
        order = {kind: i for i, kind in enumerate(KINDS)}
        return [e.line() for e in sorted(self.entries, key=lambda e: order[e.kind])]
