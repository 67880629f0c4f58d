"""`caseframe search TEXT`: hits in the project's texts, with offsets and context; `--code` codes
them all in one transaction."""

from __future__ import annotations

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project


@app.command("search")
def search(
    ctx: typer.Context,
    text: str = typer.Argument(..., help='Words (all must occur), "a phrase", or a prefix*.'),
    document: list[str] = typer.Option(
        None, "--document", "-d", help="Only this document (repeat for several)."
    ),
    limit: int = typer.Option(500, "--limit", min=1, help="At most this many hits."),
    code: str = typer.Option(None, "--code", help="Code every hit with this code."),
    unit: str = typer.Option("hit", "--unit", help="With --code: code the hit or its turn."),
    coder: str = typer.Option(None, "--coder", help="With --code: as this coder (default: you)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the documents' texts (case-insensitive; offsets are Unicode code points)."""
    from caseframe.cli.output import console, print_json

    project = open_project(ctx)
    documents = list(document) if document else None
    if code is not None:
        done = project.code_search_hits(text, code, coder=coder, documents=documents, unit=unit)
        if as_json:
            print_json(done)
        else:
            console.print(
                f"Coded {len(done.created)} {unit}s with {done.code} as {done.coder}"
                + (f" ({done.skipped} already coded)" if done.skipped else "")
                + ".",
                markup=False,
            )
        return
    result = project.search(text, documents=documents, limit=limit)
    if as_json:
        print_json(result)
        return
    if not result.hits:
        console.print(f"No hits for {result.query!r}.", markup=False)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    for column in ("document", "start", "end", "speaker", "context"):
        table.add_column(column, overflow="fold")
    for hit in result.hits:
        line = Text(hit.before)
        line.append(hit.match, style="bold reverse")
        line.append(hit.after)
        table.add_row(hit.document, str(hit.start), str(hit.end), hit.speaker or "", line)
    console.print(table)
    more = " (more not shown: raise --limit)" if result.truncated else ""
    console.print(f"{result.total} hits in {result.documents} documents{more}.", markup=False)
