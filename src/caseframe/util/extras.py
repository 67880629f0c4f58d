"""The one error for a feature whose optional libraries are not installed."""

from __future__ import annotations

from caseframe.errors import InvalidInput


def missing_extra(feature: str, extra: str, module: str | None = None) -> InvalidInput:
    """ "the 'llm' method needs httpx, which is not installed; pip install 'caseframe[llm]'"."""
    needs = f" needs {module}, which is not installed" if module else " is not installed"
    return InvalidInput(f"{feature}{needs}", hint=f"pip install 'caseframe[{extra}]'")
