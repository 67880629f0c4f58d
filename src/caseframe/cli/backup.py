"""`caseframe backup OUT` and `caseframe restore IN`: the project's store to a file and back."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import app, open_project, project_dir
from caseframe.cli.output import console, done


@app.command()
def backup(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Backup file to write."),
    print_only: bool = typer.Option(
        False, "--print", help="PostgreSQL: print the pg_dump command instead of running it."
    ),
) -> None:
    """Back up the project's store (SQLite: online backup while the workspace runs;
    PostgreSQL: pg_dump)."""
    from caseframe.api.backup import backup as make_backup

    project = open_project(ctx)
    result = make_backup(project.store, out, run=not print_only)
    if result.command and not result.ran:
        console.print(result.command, markup=False, soft_wrap=True)  # one line to copy
        return
    done(f"Backup of the {result.store} store written to {result.path}.")


@app.command()
def restore(
    ctx: typer.Context,
    backup_file: Path = typer.Argument(..., help="A file made by 'caseframe backup'."),
    db: str = typer.Option(
        None, "--db", help="Restore into this store (postgresql://...) instead of the project's."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the project's current store."),
    print_only: bool = typer.Option(
        False, "--print", help="PostgreSQL: print the pg_restore command instead of running it."
    ),
) -> None:
    """Restore the project's store from a backup (into a new folder, or over the current
    store with --force)."""
    from caseframe.api.backup import restore as put_back

    folder = project_dir(ctx)
    result = put_back(folder, backup_file, db=db, force=force, run=not print_only)
    if result.command and not result.ran:
        console.print(result.command, markup=False, soft_wrap=True)  # one line to copy
        return
    done(f"Restored the {result.store} store of {folder} from {backup_file}.")
