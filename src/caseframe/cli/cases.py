"""`caseframe cases ...`: the case tree and the study's Table 1."""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project

cases_app = typer.Typer(help="Cases: region → site → respondent, with attributes.")
app.add_typer(cases_app, name="cases")


def _attrs(pairs: list[str]) -> dict[str, str]:
    from caseframe.errors import InvalidInput

    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise InvalidInput(f"attribute '{pair}' is not NAME=VALUE")
        name, value = pair.split("=", 1)
        out[name.strip()] = value.strip()
    return out


@cases_app.command("add")
def add(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Case id, e.g. A5."),
    label: str = typer.Option(None, "--label"),
    kind: str = typer.Option("case", "--kind", help="region, site, respondent, ..."),
    parent: str = typer.Option(None, "--parent", help="Parent case id."),
    attr: list[str] = typer.Option(None, "--attr", help="NAME=VALUE, repeatable."),
) -> None:
    """Add one case."""
    from caseframe.cli.output import done

    case = open_project(ctx).add_case(key, label, kind, parent, _attrs(attr))
    done(f"Added case {case.key} ({case.kind}).")


@cases_app.command("import")
def import_(ctx: typer.Context, csv_file: Path = typer.Argument(..., help="cases.csv")) -> None:
    """Add cases from a CSV: id, label, kind, parent and any attribute columns."""
    from caseframe.cli.output import done

    added = open_project(ctx).import_cases(csv_file)
    done(f"Imported {len(added)} cases.")


@cases_app.command("move")
def move(
    ctx: typer.Context,
    key: str = typer.Argument(...),
    parent: str = typer.Option(None, "--parent", help="New parent (omit for the top level)."),
) -> None:
    """Move a case under another one."""
    from caseframe.cli.output import done

    case = open_project(ctx).move_case(key, parent)
    done(f"Moved {case.key} under {case.parent_key or 'the top level'}.")


@cases_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List cases with their (inherited) attributes."""
    from caseframe.cli.output import print_json, print_rows

    rows = open_project(ctx).cases_records()
    if as_json:
        print_json(rows)
    else:
        columns = [c for c in rows[0] if c != "depth"] if rows else None
        print_rows(rows, "Cases", columns, empty="No cases yet.")


@cases_app.command("show")
def show(ctx: typer.Context, key: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Show one case, its attributes (own and inherited), children and documents."""
    from caseframe.cli.output import console, print_json

    project = open_project(ctx)
    case = project.case(key)
    row = next(r for r in project.cases_records() if r["key"] == case.key)
    children = [c.key for c in project.cases() if c.parent_id == case.id]
    docs = [d["name"] for d in project.documents_records() if case.key in d["cases"].split(", ")]
    info = {
        "key": case.key,
        "label": case.label,
        "kind": case.kind,
        "parent": case.parent_key,
        "path": row["path"],
        "attributes": case.attributes,
        "inherited": {
            k: v
            for k, v in row.items()
            if k not in ("key", "label", "kind", "parent", "path", "depth")
            and v is not None
            and k not in case.attributes
        },
        "children": children,
        "documents": docs,
    }
    if as_json:
        print_json(info)
        return
    console.print(f"[bold]{case.key}[/bold] {case.label} ({case.kind}) — {row['path']}")
    for name, value in case.attributes.items():
        console.print(f"  {name}: {value}")
    for name, value in info["inherited"].items():
        console.print(f"  {name}: {value} (inherited)")
    if children:
        console.print(f"  children: {', '.join(children)}")
    if info["documents"]:
        console.print(f"  documents: {', '.join(info['documents'])}")


@cases_app.command("table")
def table(
    ctx: typer.Context,
    by: str = typer.Option("setting", "--by", help="Attribute to count respondents by."),
    group: str = typer.Option("region", "--group", help="Kind of case that forms the rows."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The study's Table 1: per region, respondents, services and counts by an attribute."""
    from caseframe.cli.output import console, print_frame, print_json

    result = open_project(ctx).case_table(by=by, group_kind=group)
    if as_json:
        print_json(result.to_dict())
        return
    print_frame(result.frame, f"Table 1. Cases by {group}" + (f" and {by}" if by else ""))
    for group_key, notes in result.notes.items():
        for note in notes:
            console.print(f"  {group_key}: {note}")
