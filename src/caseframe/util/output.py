"""Checking an output path before anything is written to it."""

from __future__ import annotations

import os
from pathlib import Path

from caseframe.errors import InvalidInput


def checked_output(out: str | Path, formats: set[str], fmt: str) -> Path:
    """The output path, refusing an unknown format or a missing or read-only folder."""
    if fmt not in formats:
        raise InvalidInput(f"unknown format '{fmt}'", hint=f"use {', '.join(sorted(formats))}")
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(
            "the output folder does not exist", where=str(folder), hint="create it first"
        )
    if not os.access(folder, os.W_OK):
        raise InvalidInput("the output folder is not writable", where=str(folder))
    if out.is_dir():
        raise InvalidInput("the output path is a folder", where=str(out), hint="give a file name")
    return out
