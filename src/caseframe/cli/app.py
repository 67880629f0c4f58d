"""The Typer application and the pieces every command module shares."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from typer.core import TyperGroup

from caseframe.api import Project

try:  # Typer 0.29 vendors its own click; its exceptions are not the standalone package's
    from typer import _click as click
except ImportError:  # pragma: no cover - older Typer uses the click package
    import click

click_exceptions = click.exceptions


class DefaultCommandGroup(TyperGroup):
    """A group that runs a hidden default command when the first word is not a subcommand,
    so `caseframe import a.txt b.docx` and `caseframe import qdpx f.qdpx` both work."""

    default_command = "files"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        elif not args and not ctx.resilient_parsing and self.default_command in self.commands:
            args = [self.default_command]
        return super().parse_args(ctx, args)

    usage = "[FILES|DIR]... | COMMAND [ARGS]..."

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, self.usage)


def default_group(
    name: str, help: str, default: str = "files", usage: str | None = None
) -> typer.Typer:
    fallback = DefaultCommandGroup.usage if default == "files" else "[OPTIONS] | COMMAND [ARGS]..."
    attrs = {"default_command": default, "usage": usage or fallback}
    cls = type(f"{name.title()}Group", (DefaultCommandGroup,), attrs)
    return typer.Typer(name=name, help=help, cls=cls, no_args_is_help=False)


app = typer.Typer(
    name="caseframe",
    help="Framework-guided qualitative analysis for implementation case studies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    ctx: typer.Context,
    project: Path = typer.Option(
        None,
        "--project",
        "-p",
        help="Project folder (default: $CASEFRAME_PROJECT or the current folder).",
        show_default=False,
    ),
    actor: str = typer.Option(
        None,
        "--as",
        help="Who the changes are recorded as in the audit log (default: $CASEFRAME_ACTOR or "
        "your login name).",
        show_default=False,
    ),
) -> None:
    ctx.ensure_object(dict)
    ctx.obj["project_dir"] = project or Path(os.environ.get("CASEFRAME_PROJECT", "."))
    ctx.obj["actor"] = actor


def project_dir(ctx: typer.Context) -> Path:
    root = ctx.find_root()
    return (root.obj or {}).get("project_dir") or Path(os.environ.get("CASEFRAME_PROJECT", "."))


def open_project(ctx: typer.Context) -> Project:
    root = ctx.find_root()
    project = Project.open(project_dir(ctx), actor=(root.obj or {}).get("actor"))
    ctx.call_on_close(project.close)
    return project


JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
