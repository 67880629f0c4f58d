"""Project methods for this feature area (filled in by the feature's issue)."""

from __future__ import annotations


class SuggestMixin:
    pass
