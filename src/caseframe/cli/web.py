"""`caseframe serve` (the web workspace) and `caseframe users` (who may sign in, with what role)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project, project_dir
from caseframe.cli.output import console, done, print_frame, print_json, warn
from caseframe.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from caseframe.api import Project

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEMO_OWNER = "demo"


def run_server(project: Project, host: str, port: int) -> None:
    import uvicorn

    from caseframe.web import create_app

    if host not in LOOPBACK:
        warn(
            f"the workspace listens on {host}, reachable from other machines; "
            "put it behind a TLS proxy"
        )
    web = create_app(project=project, secure_cookies=False)
    console.print(f"caseframe workspace: http://{host}:{port}/  (Ctrl+C stops it)", markup=False)
    uvicorn.run(web, host=host, port=port, log_level="warning", server_header=False)


@app.command()
def serve(
    ctx: typer.Context,
    project: Path = typer.Argument(None, help="Project folder (default: --project or here)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
    db: str = typer.Option(
        None, "--db", help="Use this store (postgresql://...) instead of the project's own."
    ),
) -> None:
    """Start the web workspace for a project (on 127.0.0.1 unless told otherwise)."""
    from caseframe.web.app import open_project as open_web_project

    folder = project or project_dir(ctx)
    opened = open_web_project(folder, db)
    try:
        if not opened.users():
            warn("no users yet: add one with 'caseframe users add NAME --role owner'")
        run_server(opened, host, port)
    finally:
        opened.close()


def serve_demo(project: Project, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the example study with a fresh one-time password for its demo owner."""
    password = secrets.token_urlsafe(12)
    try:
        project.user(DEMO_OWNER)
        project.set_password(DEMO_OWNER, password, actor="demo")
    except NotFound:
        project.add_user(DEMO_OWNER, password, "owner", actor="demo")
    console.print("\n[bold]Web workspace[/bold]")
    console.print(f"  URL:      http://{host}:{port}/", markup=False)
    console.print(f"  user:     {DEMO_OWNER}", markup=False)
    console.print(f"  password: {password}  (made for this run only)", markup=False)
    run_server(project, host, port)


users_app = typer.Typer(help="Users of the web workspace and their roles.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _read_password() -> str:
    """From stdin when it is piped (scripts), else prompted twice without echo."""
    if sys.stdin is not None and not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InvalidInput("no password on stdin", hint="pipe the password in, one line")
        return password
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (also the coder name of their codings)."),
    role: str = typer.Option("viewer", "--role", help="owner, coder or viewer."),
) -> None:
    """Add a user; the password is read from stdin or prompted."""
    project = open_project(ctx)
    user = project.add_user(name, _read_password(), role, actor="cli")
    done(f"User '{user.name}' added with role {user.role}.")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List users and their roles."""
    import pandas as pd

    users = open_project(ctx).users()
    frame = pd.DataFrame(
        [{"name": u.name, "role": u.role or "none", "active": u.active} for u in users],
        columns=["name", "role", "active"],
    )
    print_json(frame) if as_json else print_frame(frame, "Users")


@users_app.command("role")
def users_role(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    role: str = typer.Argument(..., help="owner, coder, viewer or none."),
) -> None:
    """Change a user's role ('none' takes away their access to this project)."""
    user = open_project(ctx).set_role(name, role, actor="cli")
    done(f"User '{user.name}' now has role {user.role or 'none'}.")


@users_app.command("password")
def users_password(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Set a new password (read from stdin or prompted)."""
    open_project(ctx).set_password(name, _read_password(), actor="cli")
    done(f"Password of '{name}' changed.")
