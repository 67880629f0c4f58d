"""`caseframe framework ...` and `caseframe protocol`."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project

fw_app = typer.Typer(help="Frameworks: SIS, CFIR 2.0, PSAT and your own.")
app.add_typer(fw_app, name="framework")


@fw_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the frameworks in the project."""
    from caseframe.cli.output import print_json, print_rows

    rows = [
        {
            "key": f.key,
            "name": f.name,
            "version": f.version,
            "components": len(f.components),
            "levels": len(f.levels),
            "builtin": f.builtin,
        }
        for f in open_project(ctx).frameworks()
    ]
    print_json(rows) if as_json else print_rows(rows, "Frameworks")


@fw_app.command("show")
def show(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Show a framework's components by level (Table 2 for SIS)."""
    from caseframe.cli.output import console, print_json, print_rows
    from caseframe.frameworks.loader import framework_to_dict

    fw = open_project(ctx).framework(name)
    if as_json:
        print_json(framework_to_dict(fw))
        return
    console.print(f"[bold]{fw.name}[/bold] ({fw.key}, {fw.version})")
    if fw.citation:
        console.print(fw.citation)
    # Table 2 layout: one column per level, components listed beneath.
    columns = {
        level: [c.name for c in fw.components if c.level == level and not c.parent_key]
        for level in fw.levels
    }
    depth = max((len(v) for v in columns.values()), default=0)
    rows = [
        {lvl: names[i] if i < len(names) else "" for lvl, names in columns.items()}
        for i in range(depth)
    ]
    print_rows(rows, f"Table 2. {fw.name} components", list(columns))
    if fw.scale:
        maxima = ", ".join(f"{k} {v}" for k, v in fw.level_maxima.items())
        console.print(
            f"Scale {fw.scale.minimum}–{fw.scale.maximum} per component. Maxima: {maxima}"
        )


@fw_app.command("add")
def add(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Framework YAML (see docs/frameworks.md)."),
    replace: bool = typer.Option(False, "--replace", help="Update a framework you added before."),
) -> None:
    """Add your own framework from a YAML file."""
    from caseframe.cli.output import done

    fw = open_project(ctx).add_framework(file, replace=replace)
    done(f"Added framework {fw.key} with {len(fw.components)} components.")


@app.command()
def protocol(
    ctx: typer.Context,
    framework: str = typer.Option("sis", "--framework", "-f"),
    fmt: str = typer.Option("md", "--format", help="md or docx"),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: protocol-FW.FMT)."),
) -> None:
    """Write an interview guide from a framework, grouped by level."""
    from caseframe.cli.output import done

    path = open_project(ctx).protocol(framework, fmt, out or Path(f"protocol-{framework}.{fmt}"))
    done(f"Wrote {path}")
