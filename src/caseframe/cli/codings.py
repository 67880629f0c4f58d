"""`caseframe code`, `caseframe codings ...`, `import-coded` and `export codings`."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project


@app.command("code")
def code(
    ctx: typer.Context,
    document: str = typer.Argument(...),
    start: int = typer.Argument(..., help="First code point (0-based)."),
    end: int = typer.Argument(..., help="End code point (exclusive)."),
    code_name: str = typer.Argument(..., metavar="CODE"),
    coder: str = typer.Option(..., "--coder"),
    valence: str = typer.Option(None, "--valence", help="facilitator, barrier or mixed"),
    strength: int = typer.Option(None, "--strength", help="1 or 2 (as in CFIR ratings)"),
    memo: str = typer.Option(None, "--memo"),
) -> None:
    """Code a passage of a document."""
    from caseframe.cli.output import done

    project = open_project(ctx)
    coding = project.add_coding(document, start, end, code_name, coder, valence, strength, memo)
    text = project.document(coding.document_id).text[coding.start : coding.end]
    done(f'Coding {coding.id}: "{text[:80]}"')


codings_app = typer.Typer(help="Codings: import, list.")
app.add_typer(codings_app, name="codings")


@codings_app.command("import")
def import_(
    ctx: typer.Context,
    csv_file: Path = typer.Argument(..., help="document,code,coder and start,end or quote"),
    coder: str = typer.Option(None, "--coder", help="Coder for rows without one."),
    skip_unplaced: bool = typer.Option(
        False, "--skip-unplaced", help="Store the rows that can be placed; report the rest."
    ),
) -> None:
    """Import codings located by offsets or by their exact quoted text."""
    from caseframe.cli.output import done, warn

    stored, problems = open_project(ctx).import_codings(csv_file, coder, skip_unplaced)
    for p in problems:
        warn(p)
    done(f"Imported {stored} codings" + (f"; {len(problems)} rows skipped." if problems else "."))


@codings_app.command("list")
def list_(
    ctx: typer.Context,
    code_name: list[str] = typer.Option(None, "--code"),
    coder: list[str] = typer.Option(None, "--coder"),
    document: list[str] = typer.Option(None, "--document"),
    machine: bool = typer.Option(False, "--include-machine", help="Include suggestions."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List codings with their text."""
    from caseframe.cli.output import print_json, print_rows

    rows = open_project(ctx).codings_records(code_name, coder, document, machine, exact=False)
    if as_json:
        print_json([{k: v for k, v in row.items() if k != "document_id"} for row in rows])
    else:
        for row in rows:
            row["text"] = row["text"].replace("\n", " ")[:70]
        print_rows(
            rows,
            "Codings",
            ["id", "document", "start", "end", "code", "coder", "valence", "text"],
            empty="No codings.",
        )


@app.command("import-coded")
def import_coded(
    ctx: typer.Context, folder: Path = typer.Argument(..., help="A coded-segment dataset folder.")
) -> None:
    """Import a coded-segment dataset (codebook.csv, segments.csv, codings.csv)."""
    from caseframe.cli.output import console

    s = open_project(ctx).import_coded(folder)
    console.print(
        f"Imported {s.documents} documents, {s.units} meaning units, {s.codings} codings by "
        f"{len(s.coders)} coder(s); {s.codes_created} codes created, {s.codes_reused} reused."
    )


export_app = typer.Typer(help="Export codings, projects (qdpx), codebooks (qdc), matrices.")
app.add_typer(export_app, name="export")


@export_app.command("codings")
def export_codings(
    ctx: typer.Context,
    fmt: str = typer.Option("csv", "--format", help="csv or xlsx"),
    out: Path = typer.Option(None, "--out", "-o"),
    machine: bool = typer.Option(False, "--include-machine"),
) -> None:
    """Export every coding with its text, code path, coder and cases."""
    from caseframe.cli.output import done

    path = open_project(ctx).export_codings(fmt, out or Path(f"codings.{fmt}"), machine)
    done(f"Wrote {path}")
