"""Entry point: registers the command modules and turns user errors into one line."""

from __future__ import annotations

import sys

import typer

from caseframe.cli import (  # noqa: F401  (each module registers its commands)
    agreement,
    analysis,
    assess,
    audit,
    cases,
    codes,
    codings,
    demo,
    documents,
    frameworks,
    privacy,
    project,
    refi,
    search,
    suggest,
    transcribe,
    web,
)
from caseframe.cli.app import app, click_exceptions
from caseframe.cli.output import err_console
from caseframe.errors import CaseframeError


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (tests call this directly)."""
    try:
        result = app(args=argv, prog_name="caseframe", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except CaseframeError as exc:
        err_console.print(f"error: {exc.line()}", markup=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except click_exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130


def main() -> None:
    sys.exit(run())
