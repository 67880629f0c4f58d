"""The one error hierarchy of caseframe.

Every error a user can cause is raised as one of these, with a message that says what went
wrong, where, and what to do. Interfaces turn them into one line and an exit code (CLI) or a
status code (web); the core never imports either interface.
"""

from __future__ import annotations


class CaseframeError(Exception):
    """Base class: an error the user can act on."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        """The single line shown to the user: where: what. hint."""
        text = self.message.rstrip(".")
        if self.where:
            text = f"{self.where}: {text}"
        if self.hint:
            text = f"{text}; {self.hint.rstrip('.')}"
        return text + "."


class NotFound(CaseframeError):
    """Something named by the user does not exist (a case, a code, a document, a file)."""

    http_status = 404


class InvalidInput(CaseframeError):
    """Input that cannot be used as given (malformed file, out-of-range offsets, bad value)."""

    http_status = 400


class TooFewCoders(InvalidInput):
    """Agreement or a consensus meeting asked of fewer than two coders (pages show their
    chooser with the reason instead of an error)."""


class Conflict(CaseframeError):
    """The request clashes with what is stored (a duplicate, a cycle, a stale edit)."""

    http_status = 409


class StoreVersionError(CaseframeError):
    """The store was written by a newer caseframe, or is not a caseframe store."""

    exit_code = 3
    http_status = 500
