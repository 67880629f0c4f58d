"""`caseframe demo`: build the example study and show Tables 1–3 and quotes by category."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.tree import Tree

from caseframe.cli.app import app
from caseframe.cli.output import console, print_frame, warn


@app.command()
def demo(
    out: Path = typer.Option(Path("caseframe-demo"), "--out", help="Output folder."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the web workspace after."),
    port: int = typer.Option(8765, "--port", help="Port of the web workspace (127.0.0.1)."),
) -> None:
    """Build the example study (Grim et al. 2022) and print its tables and quotes."""
    from caseframe.example_study import build_example

    build = build_example(out)
    project = build.project
    for w in build.warnings:
        warn(w)
    console.print(f"[bold]{project.name}[/bold] — project in {out / 'project'}")

    table1 = project.case_table(by="setting")
    print_frame(table1.frame, "Table 1. Included workplaces (respondents by region and setting)")
    for group, notes in table1.notes.items():
        for note in notes:
            console.print(f"  {group}: {note}")

    sis = project.framework("sis")
    console.print(f"\n[bold]Table 2. {sis.name}[/bold]")
    for level in sis.levels:
        names = [c.name for c in sis.components if c.level == level]
        console.print(f"  {level} ({len(names)}): {'; '.join(names)}")

    console.print("\n[bold]Table 3. Theme, main categories and categories[/bold]")
    codes = project.codes()
    tree, branches = Tree("Theme"), {}
    for c in codes:
        parent = branches.get(c.parent_id, tree)
        mapped = (
            f" → {', '.join(m.split(':')[1] for m in c.mapped_components)}"
            if c.mapped_components
            else ""
        )
        branches[c.id] = parent.add(escape(f"{c.name}{mapped}"))
    console.print(tree)

    console.print("\n[bold]Quotes by category[/bold]")
    codings = project.codings_frame()
    for c in codes:
        if c.kind != "category":
            continue
        rows = codings[codings["code_id"] == c.id]
        console.print(f"\n[bold]{c.name}[/bold] ({rows['text'].nunique()} quotes)")
        for text, group in rows.groupby("text", sort=False):
            who = ", ".join(sorted(set(group["cases"]), key=lambda k: (k[0], int(k[1:]))))
            console.print(f"  “{text}” ({who})", markup=False)
    console.print(f"\nProject: {out / 'project'}")
    # SIS site profiles from the illustrative ratings, beside the report (which links to them)
    from caseframe.example_study import load_example_ratings

    load_example_ratings(project)
    # the study report (HTML and Word) in the output folder
    for fmt in ("html", "docx"):
        report_path = project.report(fmt, out / f"report.{fmt}")
        console.print(f"Report: {report_path}")
    console.print(f"Site profiles: {project.write_profiles('html', out / 'profiles.html')}")
    if serve:  # [serve step] the web workspace, with a one-time sign-in for the demo owner
        from caseframe.cli.web import serve_demo

        serve_demo(project, port=port)
