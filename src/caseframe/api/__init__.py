"""The Python API: `Project.open(path)` and everything a study does through it."""

from caseframe.api.project import Project

__all__ = ["Project"]
