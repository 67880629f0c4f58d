"""`caseframe serve` (the web workspace) and `caseframe users` (who may sign in, with what role)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project, project_dir
from caseframe.cli.output import console, done, print_frame, print_json, warn
from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    from caseframe.api import Project

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEMO_OWNER = "demo"


def run_server(
    project: Project,
    host: str,
    port: int,
    *,
    workers: int = 1,
    proxies: list[str] | None = None,
    db: str | None = None,
) -> None:
    from caseframe.web.server import run

    if host not in LOOPBACK and not proxies:
        warn(
            f"the workspace listens on {host}, reachable from other machines; "
            "put it behind a TLS proxy (docs/deploy.md) and name it with --proxy"
        )
    console.print(
        f"caseframe workspace: http://{host}:{port}/  "
        f"({workers} worker{'s' if workers > 1 else ''}; Ctrl+C stops it)",
        markup=False,
    )
    run(
        project.root,
        db=db,
        host=host,
        port=port,
        workers=workers,
        proxies=proxies or [],
        project=project if workers == 1 else None,
    )


@app.command()
def serve(
    ctx: typer.Context,
    project: Path = typer.Argument(None, help="Project folder (default: --project or here)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
    db: str = typer.Option(
        None, "--db", help="Use this store (postgresql://...) instead of the project's own."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (they share only the store)."
    ),
    proxy: str = typer.Option(
        None,
        "--proxy",
        help="Trusted proxies, ADDR[,ADDR] (addresses or networks): X-Forwarded-For and "
        "X-Forwarded-Proto are believed from these only.",
    ),
) -> None:
    """Start the web workspace for a project (on 127.0.0.1 unless told otherwise)."""
    from caseframe.web.app import check_proxies
    from caseframe.web.app import open_project as open_web_project

    proxies = check_proxies((proxy or "").split(","))
    folder = project or project_dir(ctx)
    opened = open_web_project(folder, db)
    try:
        if not opened.users():
            warn("no users yet: add one with 'caseframe users add NAME --role owner'")
        if workers > 1:
            opened.web_secret()  # made once here, not raced by the workers
            opened.close()
        run_server(opened, host, port, workers=workers, proxies=proxies, db=db)
    finally:
        opened.close()


def serve_demo(project: Project, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the example study with a fresh one-time password for its demo owner."""
    import secrets

    from caseframe.errors import NotFound

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
    user = project.add_user(name, _read_password(), role)
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
    """Change a user's role ('none' takes away their access and ends their sessions)."""
    user = open_project(ctx).set_role(name, role)
    done(f"User '{user.name}' now has role {user.role or 'none'}.")


@users_app.command("password")
def users_password(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Set a new password (read from stdin or prompted)."""
    open_project(ctx).set_password(name, _read_password())
    done(f"Password of '{name}' changed; their sessions have ended.")


@users_app.command("sessions")
def users_sessions(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="Only this user's sessions."),
    end: bool = typer.Option(False, "--end", help="End the listed open sessions."),
    session_id: int = typer.Option(None, "--id", help="Only the session with this id."),
    everything: bool = typer.Option(
        False, "--all", help="Also ended and lapsed sessions (kept 30 days)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List signed-in web sessions (newest first); --end ends them."""
    import pandas as pd

    project = open_project(ctx)
    if end:
        if session_id is not None:
            project.end_session(session_id)
            done(f"Session {session_id} ended.")
            return
        count = project.end_sessions(name)
        whose = f" of '{name}'" if name else ""
        done(f"{count} session{'s' if count != 1 else ''}{whose} ended.")
        return
    found = project.web_sessions(name, include_ended=everything)
    if session_id is not None:
        found = [s for s in found if s.id == session_id]
    columns = ["id", "user", "state", "signed_in", "last_seen", "client", "ended_reason"]
    frame = pd.DataFrame(
        [
            {
                "id": s.id,
                "user": s.user,
                "state": s.state,
                "signed_in": s.created_at.isoformat(timespec="seconds"),
                "last_seen": s.last_seen_at.isoformat(timespec="seconds"),
                "client": s.client,
                "ended_reason": s.ended_reason or "",
            }
            for s in found
        ],
        columns=columns,
    )
    print_json(frame) if as_json else print_frame(frame, "Sessions")


@users_app.command("timeouts")
def users_timeouts(
    ctx: typer.Context,
    idle: float = typer.Option(None, "--idle", help="Minutes without a request (default 120)."),
    absolute: float = typer.Option(None, "--absolute", help="Hours after sign-in (default 12)."),
) -> None:
    """Show or set when web sessions lapse: idle minutes and absolute hours."""
    project = open_project(ctx)
    if idle is not None or absolute is not None:
        limits = project.set_session_timeouts(
            None if idle is None else round(idle * 60),
            None if absolute is None else round(absolute * 3600),
        )
    else:
        limits = project.session_timeouts()
    console.print(
        f"idle: {limits.idle / 60:g} minutes; absolute: {limits.absolute / 3600:g} hours",
        markup=False,
    )
