"""The web workspace (FastAPI + Jinja2 + one small vanilla JS module)."""

from caseframe.web.app import create_app

__all__ = ["create_app"]
