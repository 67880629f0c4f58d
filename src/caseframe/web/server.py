"""Running the workspace under uvicorn, with one or several worker processes.

Each worker builds its own app from `CASEFRAME_SERVE` (JSON: project folder, store URL, trusted
proxies) through `app_from_env`, opens its own connections and shares nothing with the others
but the store: sessions, sign-in limits and the change sequence live there.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from caseframe.api import Project

ENV = "CASEFRAME_SERVE"


def log_to_stderr() -> None:
    """The workspace's own messages (a 500 with its request id and traceback, the change feed
    reconnecting) go to stderr with a time stamp: the journal under systemd, `docker logs`."""
    logger = logging.getLogger("caseframe.web")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def app_from_env() -> FastAPI:
    """The app factory each worker calls (`uvicorn --factory caseframe.web.server:app_from_env`)."""
    from caseframe.web import create_app

    log_to_stderr()
    settings = json.loads(os.environ[ENV])
    return create_app(
        settings["project"], db=settings.get("db"), trusted_proxies=settings.get("proxies", [])
    )


def run(
    project_dir: str | Path,
    *,
    db: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    workers: int = 1,
    proxies: Sequence[str] = (),
    project: Project | None = None,
) -> None:
    """Serve until stopped. X-Forwarded-* are read by the app, from `proxies` only; uvicorn's
    own handling (which trusts 127.0.0.1 by default) is switched off."""
    import uvicorn

    log_to_stderr()
    options = dict(
        host=host,
        port=port,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        forwarded_allow_ips="",
        timeout_graceful_shutdown=3,  # open event streams never end by themselves
    )
    if project is not None and workers == 1:
        from caseframe.web import create_app

        uvicorn.run(create_app(project=project, trusted_proxies=proxies), **options)
        return
    os.environ[ENV] = json.dumps(
        {"project": str(Path(project_dir).resolve()), "db": db, "proxies": list(proxies)}
    )
    if workers == 1:
        uvicorn.run("caseframe.web.server:app_from_env", factory=True, **options)
        return
    from uvicorn.supervisors import Multiprocess

    from caseframe.web.tcp import TcpConfig

    config = TcpConfig(
        "caseframe.web.server:app_from_env", factory=True, workers=workers, **options
    )
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    except KeyboardInterrupt:
        pass
