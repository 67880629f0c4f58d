"""Entry point: runs the Typer app (whose command modules load on first use, see cli/app.py)
and turns user errors into one line."""

from __future__ import annotations

import sys

import typer

from caseframe.cli import output  # its consoles are made on first use
from caseframe.cli.app import app, click_exceptions
from caseframe.errors import CaseframeError


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (tests call this directly)."""
    try:
        result = app(args=argv, prog_name="caseframe", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except CaseframeError as exc:
        output.err_console.print(f"error: {exc.line()}", markup=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        output.err_console.print("aborted")
        return 130
    except click_exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        output.err_console.print("interrupted")
        return 130


def main() -> None:
    sys.exit(run())
