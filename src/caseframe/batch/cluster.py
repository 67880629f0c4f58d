"""The Dask client: a local cluster on this machine's cores, or an existing scheduler.

Local workers are processes with one thread each, so one partition is in memory per worker at
a time and the model is never shared between threads. An existing cluster (dask-jobqueue on
SLURM, the Dask Helm chart on Kubernetes) is reached by its scheduler address; its workers need
caseframe installed with the `cluster` extra (docs/cluster.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    from distributed import Client

CONNECT_TIMEOUT = "20s"


def require_dask() -> None:
    try:
        import distributed  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise InvalidInput(
            "batch work needs Dask and pyarrow, which are not installed",
            hint="install them with pip install 'caseframe[cluster]'",
        ) from None


@contextmanager
def connect(
    workers: int | None = None,
    scheduler: str | None = None,
    memory_limit: str | None = "auto",
) -> Iterator[Client]:
    """A connected client; a local cluster it started is closed on leaving."""
    require_dask()
    from distributed import Client, LocalCluster

    if workers is not None and scheduler:
        raise InvalidInput(
            "give --workers or --scheduler, not both",
            hint="--workers starts a local cluster; --scheduler joins an existing one",
        )
    if workers is not None and workers < 1:
        raise InvalidInput(f"--workers {workers} is not a positive number")
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise InvalidInput(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                hint="check the address (tcp://HOST:8786) and that the scheduler is running",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    from caseframe.batch.inputs import usable_cpus

    cluster = LocalCluster(
        n_workers=workers or usable_cpus(),
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
