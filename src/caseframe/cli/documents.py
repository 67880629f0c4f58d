"""`caseframe import FILES...` and `caseframe documents ...`."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, default_group, open_project

import_app = default_group(
    "import",
    "Import transcripts (FILES...), or another kind of file with a subcommand "
    "(qdpx, qdc, codebook, codings).",
)
app.add_typer(import_app, name="import")


@import_app.command("files", hidden=True)
def import_files(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help=".txt .md .docx .odt .pdf .vtt .srt"),
    case: str = typer.Option(None, "--case", help="Link every file to this case."),
    mapping: Path = typer.Option(None, "--map", help="CSV with columns file,case."),
    units: str = typer.Option("turn", "--units", help="Meaning units: turn, paragraph, sentences."),
    window: int = typer.Option(3, "--window", help="Sentences per unit with --units sentences."),
    pseudonymise: bool = typer.Option(
        False, "--pseudonymise", help="Replace names before the text is stored (needs a key)."
    ),
    key: Path = typer.Option(None, "--key", help="Key file for --pseudonymise ($CASEFRAME_KEY)."),
    yes: bool = typer.Option(False, "--yes", help="With --pseudonymise: accept every proposal."),
) -> None:
    """Import transcripts; each file is its own transaction."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from caseframe.cli.output import console, err_console, warn

    project = open_project(ctx)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("Importing", total=len(files))
        from caseframe.cli.privacy import pseudonymising_import

        import_function = (
            pseudonymising_import(project, key, yes, progress)
            if pseudonymise
            else project.import_documents
        )
        results = import_function(
            files,
            case=case,
            mapping=mapping,
            scheme=units,
            window=window,
            on_progress=lambda _r: progress.advance(task),
        )
    failed = 0
    for r in results:
        if r.ok:
            console.print(
                f"imported {r.document}: {r.words} words, {r.turns} turns, {r.units} units"
            )
        else:
            failed += 1
            err_console.print(f"error: {r.error}", markup=False)
        for w in r.warnings:
            warn(f"{r.path}: {w}")
    console.print(f"{len(results) - failed} imported, {failed} failed.")
    if failed:
        raise typer.Exit(1)


docs_app = typer.Typer(help="Documents (transcripts) in the project.")
app.add_typer(docs_app, name="documents")


@docs_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List documents with their case, word count and number of turns."""
    from caseframe.cli.output import print_json, print_rows

    rows = open_project(ctx).documents_records()
    if as_json:
        print_json(rows)
    else:
        print_rows(
            rows,
            "Documents",
            ["name", "cases", "words", "turns", "units", "codings", "format"],
            empty="No documents yet.",
        )


@docs_app.command("show")
def show(
    ctx: typer.Context,
    document: str = typer.Argument(...),
    text: bool = typer.Option(False, "--text", help="Print the whole text with turns."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a document: its cases, turns and, with --text, its text."""
    from caseframe.cli.output import console, print_json

    doc = open_project(ctx).document(document)
    if as_json:
        print_json(
            {
                "id": doc.id,
                "name": doc.name,
                "cases": list(doc.case_keys),
                "words": doc.word_count,
                "format": doc.source_format,
                "content_hash": doc.content_hash,
                "turns": [
                    {"speaker": tr.speaker, "start": tr.start, "end": tr.end} for tr in doc.turns
                ],
                **({"text": doc.text} if text else {}),
            }
        )
        return
    console.print(
        f"[bold]{doc.name}[/bold]  cases: {', '.join(doc.case_keys) or '-'}  "
        f"words: {doc.word_count}  turns: {len(doc.turns)}  format: {doc.source_format}"
    )
    if text:
        console.print(doc.text, markup=False, highlight=False)
    else:
        for tr in doc.turns[:20]:
            snippet = doc.text[tr.start : tr.end].replace("\n", " ")
            console.print(f"  [{tr.start}–{tr.end}] {snippet[:90]}", markup=False)
        if len(doc.turns) > 20:
            console.print(f"  … {len(doc.turns) - 20} more turns")


@docs_app.command("units")
def units(
    ctx: typer.Context,
    document: str = typer.Argument(...),
    scheme: str = typer.Option(None, "--scheme"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List a document's meaning units."""
    from caseframe.cli.output import print_json, print_rows

    project = open_project(ctx)
    doc = project.document(document)
    rows = [
        {
            "id": u.id,
            "scheme": u.scheme,
            "start": u.start,
            "end": u.end,
            "speaker": u.speaker,
            "text": doc.text[u.start : u.end],
        }
        for u in project.meaning_units(doc.id, scheme)
    ]
    print_json(rows) if as_json else print_rows(rows, f"Meaning units of {doc.name}")


@docs_app.command("segment")
def segment(
    ctx: typer.Context,
    units: str = typer.Option("turn", "--units", help="turn, paragraph or sentences"),
    window: int = typer.Option(3, "--window"),
    documents: list[str] = typer.Option(None, "--document"),
) -> None:
    """(Re)build meaning units for documents with another scheme."""
    from caseframe.cli.output import console

    count = open_project(ctx).resegment(units, window, documents)
    console.print(f"{count} meaning units ({units}).")
