"""The Typer application and the pieces every command module shares.

The command modules are imported only when one of their commands runs: `COMMANDS` says which
modules register each top-level command, and `caseframe --help` lists it with its help from
the same table (tests/test_startup.py checks the table against the modules).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from caseframe.cli import params

if TYPE_CHECKING:
    from caseframe.api import Project

try:  # Typer 0.29 vendors its own click; its exceptions are not the standalone package's
    from typer import _click as click
    from typer._click.utils import make_default_short_help
except ImportError:  # pragma: no cover - older Typer uses the click package
    import click
    from click.utils import make_default_short_help

click_exceptions = click.exceptions
params.install()  # plainly valid values convert without loading pydantic (see cli/params.py)

# Top-level command → (modules under caseframe.cli that register it or its subcommands, the
# first paragraph of its help), in the order `caseframe --help` lists them.
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "demo": (
        ("demo",),
        "Build the example study (Grim et al. 2022) and print its tables and quotes.",
    ),
    "init": (
        ("project",),
        "Create a project (an SQLite store inside DIRECTORY, or a PostgreSQL database).",
    ),
    "cases": (("cases",), "Cases: region → site → respondent, with attributes."),
    "framework": (("frameworks",), "Frameworks: SIS, CFIR 2.0, PSAT and your own."),
    "protocol": (
        ("frameworks",),
        "Write an interview guide from a framework, grouped by level.",
    ),
    "import": (
        ("documents", "refi"),
        "Import transcripts (FILES...), or another kind of file with a subcommand "
        "(qdpx, qdc, codebook, codings).",
    ),
    "documents": (("documents", "transcribe"), "Documents (transcripts) in the project."),
    "transcribe": (
        ("transcribe",),
        "Transcribe recordings locally into documents linked to their audio.",
    ),
    "codes": (("codes",), "The code tree: theme → main category → category → code."),
    "code": (("codings",), "Code a passage of a document."),
    "codings": (("codings",), "Codings: import, list."),
    "import-coded": (
        ("codings",),
        "Import a coded-segment dataset (codebook.csv, segments.csv, codings.csv).",
    ),
    "memo": (("project",), "Memos on the project, a document, case, code or coding."),
    "coders": (("project",), "Coders: people and named machine methods."),
    "quotes": (
        ("analysis",),
        "Every passage coded with CODE (and the codes below it), with its attribution.",
    ),
    "matrix": (("analysis",), "The framework matrix and its written summaries."),
    "cooccurrence": (("analysis",), "Pairs of codes used together."),
    "coverage": (("analysis",), "Evidence per framework component; components never evidenced."),
    "report": (("analysis",), "Write the study report."),
    "export": (
        ("analysis", "codings", "refi", "transcribe"),
        "Export codings, projects (qdpx), codebooks (qdc), matrices.",
    ),
    "agreement": (
        ("agreement",),
        "Inter-coder agreement on the project (or on a coded-segment dataset DIR); "
        "`agreement disagreements` lists where coders differ. Options of the default command: "
        "`caseframe agreement compute --help`.",
    ),
    "consensus": (
        ("agreement",),
        "Build a consensus coder from several coders' codings; `consensus resolve` settles the "
        "units the rule left open, `consensus pending` lists them. Options of the default "
        "command: `caseframe consensus build --help`.",
    ),
    "suggest": (
        ("batch", "suggest"),
        "Machine coding suggestions: run a method, review its suggestions, pick units to code.",
    ),
    "assess": (
        ("assess",),
        "Rate sites on framework components (SIS 0–3): record, import, suggest, agree, consensus.",
    ),
    "profile": (
        ("assess",),
        "Site sustainability profiles: scores, missing and weak components, change, risks.",
    ),
    "privacy": (
        ("privacy",),
        "Confidentiality: find names and identifiers, replace them with pseudonyms, keep the key.",
    ),
    "serve": (
        ("web",),
        "Start the web workspace for a project (on 127.0.0.1 unless told otherwise).",
    ),
    "users": (("web",), "Users of the web workspace and their roles."),
    "search": (
        ("search",),
        "Search the documents' texts (case-insensitive; offsets are Unicode code points).",
    ),
    "backup": (
        ("backup",),
        "Back up the project's store (SQLite: online backup while the workspace runs; "
        "PostgreSQL: pg_dump).",
    ),
    "restore": (
        ("backup",),
        "Restore the project's store from a backup (into a new folder, or over the current "
        "store with --force).",
    ),
    "audit": (("audit",), "List the audit log, newest first."),
    "batch": (
        ("batch",),
        "Batch work on Dask over large comment files: suggest, pseudonymise, summarise, "
        "import a sample for review (extra 'cluster').",
    ),
    "bench": (("suggest",), "Benchmarks on your own data."),
}


_MODULES = sorted({m for modules, _ in COMMANDS.values() for m in modules})


def load_commands(names: tuple[str, ...] | None = None) -> None:
    """Import the modules that register these top-level commands (all of them by default)."""
    wanted = COMMANDS if names is None else {n: COMMANDS[n] for n in names if n in COMMANDS}
    for modules, _help in wanted.values():
        for module in modules:
            importlib.import_module(f"caseframe.cli.{module}")


class _LazyCommands(MutableMapping):
    """The root group's commands: every name in COMMANDS is listed; a command is built from its
    modules the first time it is looked up (so `caseframe codes list` never imports the
    agreement or web modules, nor the libraries they use)."""

    def __init__(self, built: MutableMapping[str, Any]):
        self.built = dict(built)
        # the command modules imported when these commands were built (a group such as
        # `export` is registered by several modules, so one of them is not enough)
        self.loaded = {m for m in _MODULES if f"caseframe.cli.{m}" in sys.modules}

    def __getitem__(self, name: str) -> Any:
        if name in COMMANDS and not set(COMMANDS[name][0]) <= self.loaded:
            load_commands((name,))
            fresh = typer.main.get_command(app).commands
            assert isinstance(fresh, _LazyCommands)
            self.built, self.loaded = fresh.built, fresh.loaded
        return self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self.built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self.built))

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self.built

    def __setitem__(self, name: str, command: Any) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        del self.built[name]


class RootGroup(TyperGroup):
    """`caseframe` itself: commands load on first use; the help lists them from COMMANDS."""

    def __init__(self, **attrs: Any):
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, make_default_short_help(text, limit)) for name, (_, text) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
    cls=RootGroup,
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
    from caseframe.api import Project  # the API and its libraries load only when a command runs

    root = ctx.find_root()
    project = Project.open(project_dir(ctx), actor=(root.obj or {}).get("actor"))
    ctx.call_on_close(project.close)
    return project


JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
