"""`caseframe codes ...`: the code tree."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project

codes_app = typer.Typer(help="The code tree: theme → main category → category → code.")
app.add_typer(codes_app, name="codes")


@codes_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    parent: str = typer.Option(None, "--parent", help="Parent code name or path."),
    kind: str = typer.Option(None, "--kind", help="theme, main_category, category or code"),
    description: str = typer.Option("", "--description"),
    color: str = typer.Option(None, "--color", help="#RRGGBB"),
    component: str = typer.Option(
        None, "--framework-component", help="Deductive code of a component, e.g. sis:O10."
    ),
    maps_to: list[str] = typer.Option(
        None, "--maps-to", help="Map an inductive code to a component (repeatable)."
    ),
) -> None:
    """Add a code."""
    from caseframe.cli.output import done

    code = open_project(ctx).add_code(name, parent, kind, description, color, component, maps_to)
    done(f"Added code {code.path} (id {code.id}, {code.origin}).")


@codes_app.command("import")
def import_(
    ctx: typer.Context,
    csv_file: Path = typer.Argument(..., help="code,parent,kind,description,color,sis"),
    framework: str = typer.Option("sis", "--framework", help="Column naming mapped components."),
) -> None:
    """Add codes from a CSV (parents may come in any order)."""
    from caseframe.cli.output import done

    codes = open_project(ctx).import_codes(csv_file, framework)
    done(f"Imported {len(codes)} codes.")


@codes_app.command("add-framework")
def add_framework(ctx: typer.Context, framework: str = typer.Argument(...)) -> None:
    """Create deductive codes for every component of a framework."""
    from caseframe.cli.output import done

    codes = open_project(ctx).add_framework_codes(framework)
    done(f"Added {len(codes)} deductive codes.")


@codes_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List codes with their paths, origin, framework links and number of codings."""
    from caseframe.cli.output import print_json, print_rows

    rows = open_project(ctx).codes_records()
    if as_json:
        print_json(rows)
    else:
        print_rows(
            rows,
            "Codes",
            ["id", "path", "kind", "origin", "component", "maps_to", "codings"],
            empty="No codes yet.",
        )


@codes_app.command("tree")
def tree(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Show the code tree."""
    from rich.markup import escape
    from rich.tree import Tree

    from caseframe.cli.output import console, print_json

    codes = open_project(ctx).codes()
    if as_json:
        nodes = {c.id: {"id": c.id, "name": c.name, "kind": c.kind, "children": []} for c in codes}
        roots = []
        for c in codes:
            (nodes[c.parent_id]["children"] if c.parent_id else roots).append(nodes[c.id])
        print_json(roots)
        return
    root = Tree("codes")
    branches = {None: root}
    for c in codes:
        extra = f" → {', '.join(c.mapped_components)}" if c.mapped_components else ""
        extra += f" [{c.framework_component}]" if c.framework_component else ""
        label = f"{c.name}" + (f" ({c.kind})" if c.kind else "") + extra
        branches[c.id] = branches[c.parent_id].add(escape(label))
    console.print(root)


@codes_app.command("move")
def move(
    ctx: typer.Context,
    code: str = typer.Argument(...),
    parent: str = typer.Option(None, "--parent", help="New parent (omit for the top level)."),
) -> None:
    """Move a code under another one."""
    from caseframe.cli.output import done

    moved = open_project(ctx).move_code(code, parent)
    done(f"Moved to {moved.path}.")


@codes_app.command("rename")
def rename(
    ctx: typer.Context, code: str = typer.Argument(...), new_name: str = typer.Argument(...)
):
    """Rename a code (its codings stay)."""
    from caseframe.cli.output import done

    renamed = open_project(ctx).rename_code(code, new_name)
    done(f"Renamed to {renamed.path}.")


@codes_app.command("merge")
def merge(ctx: typer.Context, source: str = typer.Argument(...), target: str = typer.Argument(...)):
    """Merge SOURCE into TARGET: codings, children and mappings move; SOURCE is removed."""
    from caseframe.cli.output import done

    merged = open_project(ctx).merge_codes(source, target)
    done(f"Merged into {merged.path}.")


@codes_app.command("map")
def map_(
    ctx: typer.Context,
    code: str = typer.Argument(...),
    components: list[str] = typer.Argument(..., help="e.g. sis:O4 sis:O2"),
) -> None:
    """Map an inductive code or category onto framework components."""
    from caseframe.cli.output import done

    mapped = open_project(ctx).map_code(code, components)
    done(f"{mapped.path} → {', '.join(mapped.mapped_components)}")
