"""`caseframe quotes`, `matrix`, `cooccurrence`, `coverage`, `report` and `export matrix`."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, default_group, open_project
from caseframe.cli.codings import export_app
from caseframe.cli.output import console, done, print_frame, print_json


@app.command("quotes")
def quotes(
    ctx: typer.Context,
    code: str = typer.Argument(..., metavar="CODE_OR_CATEGORY", help="Name or path of a code."),
    by: str = typer.Option(
        "respondent", "--by", help="Attribute to: respondent, site, region, an attribute, document."
    ),
    coder: str = typer.Option(None, "--coder", help="Only this coder's codings."),
    valence: list[str] = typer.Option(None, "--valence", help="facilitator, barrier, mixed"),
    exact: bool = typer.Option(False, "--exact", help="Leave out the codes below CODE."),
    machine: bool = typer.Option(False, "--include-machine", help="Include suggestions."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every passage coded with CODE (and the codes below it), with its attribution."""
    project = open_project(ctx)
    found = project.quotes(code, by, coder, valence or None, exact, machine)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("No quotes.")
        return
    for q in found:
        where = "; ".join(f"{i.document} {i.start}–{i.end}" for i in q.items)
        tag = f" [{q.valence}]" if q.valence else ""
        console.print(f"“{q.text}” {q.attribution}{tag}", markup=False)
        console.print(f"    {q.code_path} · {where}", markup=False, style="dim")
    console.print(f"{len(found)} quotes.")


matrix_app = default_group("matrix", "The framework matrix and its written summaries.", "show")
app.add_typer(matrix_app, name="matrix")


@matrix_app.command("show", hidden=True)
def matrix_show(
    ctx: typer.Context,
    rows: str = typer.Option(
        "respondent", "--rows", help="respondent, site, region, an attribute or document"
    ),
    cols: str = typer.Option(
        "categories", "--cols", help="codes, categories, main_categories or a framework (sis)"
    ),
    cell: str = typer.Option(
        "count", "--cell", help="count, respondents, valence, quotes or summary"
    ),
    framework: str = typer.Option(None, "--framework", help="Framework for --cols framework."),
    coder: str = typer.Option(None, "--coder"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rows × columns matrix (Framework Method charting)."""
    frame = open_project(ctx).matrix(rows, cols, cell, framework, coder)
    frame = frame.reset_index(names=rows)
    if as_json:
        print_json(frame)
    else:
        print_frame(frame, f"{rows} × {cols} ({cell})")


@matrix_app.command("summarise")
def matrix_summarise(
    ctx: typer.Context,
    case: str = typer.Argument(..., help="Row case, e.g. A5 or A-S1."),
    code: str = typer.Argument(..., help="Column code or category."),
    text: str = typer.Argument(..., help="The summary."),
    author: str = typer.Option(None, "--author"),
) -> None:
    """Write (or rewrite) the summary of one matrix cell."""
    s = open_project(ctx).summarise(case, code, text, author)
    done(f"Summary {s.id} for {s.case} × {s.code}, linked to {len(s.codings)} codings.")


@matrix_app.command("summaries")
def matrix_summaries(
    ctx: typer.Context,
    stale: bool = typer.Option(False, "--stale", help="Only summaries whose codings changed."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the matrix summaries; stale ones rest on codings that changed since."""
    frame = open_project(ctx).summaries()
    if stale:
        frame = frame[frame["stale"]]
    if as_json:
        print_json(frame)
    else:
        print_frame(
            frame,
            "Matrix summaries",
            ["id", "case", "code", "codings", "stale", "author", "text"],
            empty="No summaries.",
        )


@app.command("cooccurrence")
def cooccurrence(
    ctx: typer.Context,
    scope: str = typer.Option("unit", "--scope", help="unit (meaning unit) or overlap"),
    measure: str = typer.Option("count", "--measure", help="count or jaccard"),
    by: str = typer.Option(None, "--by", help="Split by region, site or an attribute."),
    coder: str = typer.Option(None, "--coder"),
    scheme: str = typer.Option(None, "--scheme", help="Meaning-unit scheme (default: main one)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pairs of codes used together."""
    frame = open_project(ctx).cooccurrence(scope, measure, by, coder, scheme=scheme)
    if as_json:
        print_json(frame)
        return
    if "jaccard" in frame:
        frame["jaccard"] = frame["jaccard"].round(3)
    print_frame(frame, f"Co-occurrence ({scope})", empty="No codes occur together.")


@app.command("coverage")
def coverage(
    ctx: typer.Context,
    framework: str = typer.Option("sis", "--framework"),
    heatmap: bool = typer.Option(False, "--heatmap", help="Also print site × component."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Evidence per framework component; components never evidenced."""
    result = open_project(ctx).coverage(framework)
    if as_json:
        print_json(result.to_dict())
        return
    print_frame(result.components, f"Coverage of {result.framework}")
    if heatmap:
        print_frame(result.heatmap.reset_index(names="site"), "Codings per site and component")
    if result.never_evidenced:
        console.print(f"Never evidenced: {', '.join(result.never_evidenced)}")
    for note in result.notes:
        console.print(note)


@app.command("report")
def report(
    ctx: typer.Context,
    fmt: str = typer.Option("html", "--format", help="html, docx or md"),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default report.FORMAT)."),
    framework: str = typer.Option(
        None, "--framework", help="Framework of Table 2 and coverage (default: sis if loaded)."
    ),
    by: str = typer.Option(
        None, "--by", help="Attribute counted in Table 1 (default: setting if the cases have it)."
    ),
) -> None:
    """Write the study report."""
    path = open_project(ctx).report(fmt, out or Path(f"report.{fmt}"), framework, by)
    done(f"Wrote {path}")


@export_app.command("matrix")
def export_matrix(
    ctx: typer.Context,
    fmt: str = typer.Option("xlsx", "--format", help="xlsx"),
    out: Path = typer.Option(Path("matrix.xlsx"), "--out", "-o"),
    rows: str = typer.Option("respondent", "--rows"),
    cols: list[str] = typer.Option(
        None, "--cols", help="Repeat for several (default: categories and sis)."
    ),
    cell: list[str] = typer.Option(None, "--cell", help="Repeat for several (default: all)."),
    coder: str = typer.Option(None, "--coder"),
) -> None:
    """A workbook with one sheet per matrix."""
    path = open_project(ctx).export_matrix(
        out, rows, cols or None, cell or None, coder=coder, fmt=fmt
    )
    done(f"Wrote {path}")
