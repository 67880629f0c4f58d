"""REFI-QDA exchange and spreadsheet imports: `caseframe export qdpx|qdc`, `caseframe import
qdpx|qdc|codebook|codings`. Every import and export prints its data-loss report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from caseframe.cli.app import open_project
from caseframe.cli.codings import export_app
from caseframe.cli.documents import import_app
from caseframe.cli.output import console, done

if TYPE_CHECKING:
    from caseframe.interop.refi.loss import LossReport

STRICT = typer.Option(False, "--strict", help="Refuse a file with any schema error.")
DRY_RUN = typer.Option(False, "--dry-run", help="Show what would change; write nothing.")
SEPARATOR = typer.Option(
    None, "--separator", help="Code path separator (default: \\ or > when present, else /)."
)


def print_report(report: LossReport) -> None:
    """The data-loss report (REFI-QDA 1.5, section 7), one line per entry."""
    lines = report.lines()
    if not lines:
        console.print("Data-loss report: nothing lost.")
        return
    console.print(f"Data-loss report ({len(lines)} entries):")
    for line in lines:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing"


@export_app.command("qdpx")
def export_qdpx(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The .qdpx file to write."),
    line_names: bool = typer.Option(
        False,
        "--line-names",
        help='Name each selection "line:N" (the line it starts on) for line-based tools '
        "such as qc, which otherwise put every coding on line 0.",
    ),
    media: bool = typer.Option(
        True,
        "--media/--no-media",
        help="Put the recordings of transcribed documents in the archive, with their timings "
        "(--no-media: text sources only, for tools that refuse audio sources, such as qc).",
    ),
) -> None:
    """Export the whole project as a REFI-QDA project archive (.qdpx)."""
    path, report = open_project(ctx).export_qdpx(out, line_names=line_names, media=media)
    done(f"Wrote {path}")
    print_report(report)


@export_app.command("qdc")
def export_qdc(
    ctx: typer.Context, out: Path = typer.Argument(..., help="The .qdc file to write.")
) -> None:
    """Export the code tree, framework codes included, as a REFI-QDA codebook (.qdc)."""
    path, report = open_project(ctx).export_qdc(out)
    done(f"Wrote {path}")
    print_report(report)


@import_app.command("qdpx")
def import_qdpx(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A REFI-QDA project (.qdpx)."),
    new: Path = typer.Option(None, "--new", help="Create a new project in this folder."),
    merge: bool = typer.Option(
        False,
        "--merge",
        help="Add codings to documents already in the project instead of refusing the file.",
    ),
    strict: bool = STRICT,
    dry_run: bool = DRY_RUN,
) -> None:
    """Import a REFI-QDA project into this project (or a new one with --new), all or nothing."""
    if new is not None:
        from caseframe.api import Project

        if dry_run or merge:
            raise typer.BadParameter("--new cannot be combined with --dry-run or --merge")
        project, result = Project.from_qdpx(file, new, strict=strict)
        project.close()
        done(f"Created project {new}: {_counts(result.added)}.")
    else:
        result = open_project(ctx).import_qdpx(
            file, strict=strict, on_duplicate="merge" if merge else "refuse", dry_run=dry_run
        )
        verb = "Would import" if dry_run else "Imported"
        done(f"{verb} {_counts(result.added)}.")
        if result.existing:
            console.print(f"Already in the project: {_counts(result.existing)}.")
    print_report(result.report)


def _print_plan(result) -> None:
    plan = result.plan
    for change in plan.changes:
        if change.action == "added":
            console.print(f"  added      {change.path}", markup=False)
        elif change.action == "renamed":
            console.print(f"  renamed    {change.old_name} -> {change.path}", markup=False)
        elif change.action == "updated":
            console.print(f"  updated    {change.path}", markup=False)
    counts = plan.counts()
    verb = "Would change" if result.dry_run else "Changed"
    done(
        f"{verb} the code tree: {counts['added']} added, {counts['renamed']} renamed, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged."
    )
    print_report(result.report)


@import_app.command("qdc")
def import_qdc(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A REFI-QDA codebook (.qdc)."),
    strict: bool = STRICT,
    dry_run: bool = DRY_RUN,
) -> None:
    """Merge a REFI-QDA codebook into the code tree (by GUID, then by name)."""
    _print_plan(open_project(ctx).import_qdc(file, strict=strict, dry_run=dry_run))


@import_app.command("codebook")
def import_codebook(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A codebook spreadsheet (.csv or .xlsx)."),
    separator: str = SEPARATOR,
    dry_run: bool = DRY_RUN,
) -> None:
    """Merge a codebook spreadsheet (MAXQDA, NVivo, Taguette) into the code tree."""
    _print_plan(open_project(ctx).import_codebook_sheet(file, separator=separator, dry_run=dry_run))


@import_app.command("codings")
def import_codings(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A coded-segments spreadsheet (.xlsx or .csv)."),
    coder: str = typer.Option(None, "--coder", help="Coder for rows without one."),
    separator: str = SEPARATOR,
    skip_unplaced: bool = typer.Option(
        False, "--skip-unplaced", help="Store the segments that can be placed; report the rest."
    ),
    dry_run: bool = DRY_RUN,
) -> None:
    """Import coded segments (document, code path, segment text), placed by their text."""
    result = open_project(ctx).import_codings_sheet(
        file, coder=coder, separator=separator, skip_unplaced=skip_unplaced, dry_run=dry_run
    )
    verb = "Would import" if dry_run else "Imported"
    done(f"{verb} {_counts(result.added)}.")
    if result.existing:
        console.print(f"Already in the project: {_counts(result.existing)}.")
    print_report(result.report)
