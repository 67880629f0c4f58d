"""`caseframe init`, memos and coders."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project


@app.command()
def init(
    directory: Path = typer.Argument(..., help="Folder for the new project."),
    db: str = typer.Option(None, "--db", help="PostgreSQL URL instead of an SQLite file."),
    name: str = typer.Option(None, "--name", help="Project name (default: the folder's name)."),
) -> None:
    """Create a project (an SQLite store inside DIRECTORY, or a PostgreSQL database)."""
    from caseframe.api import Project
    from caseframe.cli.output import done

    project = Project.init(directory, db=db, name=name)
    where = "PostgreSQL" if db else str(directory / "project.sqlite")
    done(f"Created project '{project.name}' in {directory} (store: {where}).")
    project.close()


memo_app = typer.Typer(help="Memos on the project, a document, case, code or coding.")
app.add_typer(memo_app, name="memo")


@memo_app.command("add")
def memo_add(
    ctx: typer.Context,
    target_type: str = typer.Argument(..., help="project, document, case, code or coding"),
    text: str = typer.Argument(..., help="The memo's text."),
    target: str = typer.Option(None, "--on", help="The document, case, code or coding id."),
    author: str = typer.Option(None, "--author"),
    title: str = typer.Option(None, "--title"),
) -> None:
    """Write a memo."""
    from caseframe.cli.output import done

    memo = open_project(ctx).add_memo(target_type, target, text, author, title)
    done(f"Memo {memo.id} added.")


@memo_app.command("list")
def memo_list(
    ctx: typer.Context,
    target_type: str = typer.Option(None, "--type"),
    target: str = typer.Option(None, "--on"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List memos."""
    from caseframe.cli.output import print_frame, print_json

    frame = open_project(ctx).memos_frame(target_type, target)
    print_json(frame) if as_json else print_frame(frame, "Memos")


coders_app = typer.Typer(help="Coders: people and named machine methods.")
app.add_typer(coders_app, name="coders")


@coders_app.command("list")
def coders_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List coders."""
    from caseframe.cli.output import print_json, print_rows

    rows = open_project(ctx).coders_records()
    print_json(rows) if as_json else print_rows(rows, "Coders")
