"""`caseframe audit`: who changed what, when, with the state before and after."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project
from caseframe.errors import InvalidInput


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"--since '{value}' is not a date or time",
            hint="use ISO form, e.g. 2026-12-01 or 2026-12-01T09:30",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("audit")
def audit(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="Only entries at or after this date/time."),
    entity: str = typer.Option(None, "--entity", help="Only this kind: coding, code, memo, ..."),
    actor: str = typer.Option(None, "--actor", help="Only changes by this person."),
    limit: int = typer.Option(200, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the audit log, newest first."""
    from caseframe.cli.output import console, print_json

    entries = open_project(ctx).audit_entries(_since(since), limit, entity, actor)
    if as_json:
        print_json(entries)
        return
    if not entries:
        console.print("No audit entries.")
        return
    from rich.table import Table

    table = Table()
    for column in ("id", "at", "actor", "action", "entity", "id of entity"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            str(e.id),
            e.at.isoformat(timespec="seconds") if e.at else "",
            e.actor,
            e.action,
            e.entity_type,
            e.entity_id or "",
        )
    console.print(table)
