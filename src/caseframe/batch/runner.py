"""A run over partitions on Dask: the output folder, resume markers, progress, the run summary.

Output folder:

    manifest.json          what the run is (kind, inputs and their sizes, plan, settings)
    parts/part-NNNNNN.parquet   one file per partition, written atomically (temp file, rename)
    parts/part-NNNNNN.done      its marker (rows, unusable rows with file and line, seconds),
                                written after the Parquet file, also atomically
    errors.csv, run.json   the unusable rows and the totals, written at the end

A partition counts as finished only when its marker exists, so a run killed at any point
(a worker, the client, the machine) leaves finished partitions and at most some Parquet files
without markers; `--resume` keeps the first and redoes the rest, so every row is written once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.batch.inputs import Partition, plan_digest
from caseframe.errors import Conflict, InvalidInput
from caseframe.util.atomic import atomic_write

if TYPE_CHECKING:
    import pyarrow as pa
    from distributed import Client

MANIFEST = "manifest.json"
PARTS = "parts"
Task = Callable[..., dict[str, Any]]


def manifest_of(out: Path) -> dict[str, Any] | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise InvalidInput(f"{MANIFEST} is damaged", where=str(path)) from None


def prepare(
    out: Path,
    kind: str,
    parts: Sequence[Partition],
    inputs: list[dict[str, Any]],
    settings: dict[str, Any],
    resume: bool,
    *,
    write: bool = True,
) -> tuple[list[Partition], int]:
    """Check the output folder and, with `write`, create it with its manifest; returns
    (partitions to do, partitions already done)."""
    manifest = {
        "kind": kind,
        "inputs": inputs,
        "partitions": len(parts),
        "plan": plan_digest(parts),
        "settings": settings,
    }
    existing = manifest_of(out) if out.is_dir() else None
    if existing is None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise Conflict(
                "the output folder exists and holds no batch run",
                where=str(out),
                hint="choose a new or empty folder",
            )
        if write:
            (out / PARTS).mkdir(parents=True, exist_ok=True)
            text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
            atomic_write(out / MANIFEST, text)
        return list(parts), 0
    if not resume:
        raise Conflict(
            "the output folder already holds a batch run",
            where=str(out),
            hint="add --resume to finish it, or choose another folder",
        )
    for field in ("kind", "inputs", "plan", "settings"):
        if existing.get(field) != manifest[field]:
            raise Conflict(
                f"cannot resume: the run in the folder differs in its {field}",
                where=str(out / MANIFEST),
                hint="resume with the same inputs and options, or choose a new folder",
            )
    done = finished(out)
    todo = [p for p in parts if p.name not in done]
    return todo, len(parts) - len(todo)


def finished(out: Path) -> set[str]:
    """Names of partitions whose output and marker are both there."""
    folder = out / PARTS
    return {m.stem for m in folder.glob("part-*.done") if (folder / f"{m.stem}.parquet").is_file()}


def write_partition(out: str | Path, part: Partition, table: pa.Table, marker: dict) -> dict:
    """The partition's Parquet file, then its marker; each replaces its name in one step."""
    import pyarrow.parquet as pq

    folder = Path(out) / PARTS
    atomic_write(folder / f"{part.name}.parquet", lambda tmp: pq.write_table(table, tmp))
    marker = {"partition": part.name, "file": part.path, "worker": _worker(), **marker}
    atomic_write(folder / f"{part.name}.done", json.dumps(marker, ensure_ascii=False))
    return marker


def _worker() -> str | None:
    """The address of the Dask worker running this task (None outside a worker)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def run(
    client: Client,
    kind: str,
    todo: Sequence[Partition],
    task: Task,
    shared: Any,
    out: Path,
    settings: dict[str, Any],
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run `task(partition, shared, out, settings)` for each partition on the cluster.

    `shared` (the model, the pseudonym set-up) is scattered to every worker once and passed by
    reference to each task.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    if not todo:
        return []
    handle = client.scatter(shared, broadcast=True, hash=False)
    stamp = time.strftime("%Y%m%d%H%M%S")
    futures = [
        client.submit(
            task, part, handle, str(out), settings, key=f"{kind}-{stamp}-{part.name}", pure=False
        )
        for part in todo
    ]
    markers = []
    try:
        for future in as_completed(futures):
            try:
                marker = future.result()
            except FutureCancelledError:
                continue
            except Exception as exc:
                name = future.key.rsplit("-", 2)[-2:]
                raise InvalidInput(
                    f"partition {'-'.join(name)} failed: {type(exc).__name__}: {exc}",
                    hint="fix the cause and finish the run with --resume",
                ) from exc
            markers.append(marker)
            if on_done:
                on_done(marker)
    finally:
        client.cancel(futures)
    return markers


def execute(
    kind: str,
    inputs: Sequence[str | Path],
    out: str | Path,
    task: Task,
    shared: Any,
    settings: dict[str, Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    partition_rows: int | None = None,
    on_start: Callable[[int, int, int], None] | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    extra: Callable[[list[dict]], dict] | None = None,
) -> dict[str, Any]:
    """Plan, check the folder, run what is left on the cluster, total up.

    `on_start(partitions to do, already done, rows to do)` is called once the plan is known.
    """
    from caseframe.batch import inputs as inp
    from caseframe.batch.cluster import connect, require_dask

    require_dask()
    out = Path(out).resolve()  # workers elsewhere write to it by the same path
    paths = inp.expand(inputs)
    parts = inp.plan(paths, partition_rows or inp.ROWS)
    needed = [settings["text_column"], settings.get("id_column"), *settings.get("keep", ())]
    inp.check_columns(parts, needed)
    fingerprint = inp.fingerprint(paths)
    # every user error (folder, options, scheduler) is found before anything is written
    todo, done = prepare(out, kind, parts, fingerprint, settings, resume, write=False)
    ran: list[dict[str, Any]] = []
    with ExitStack() as stack:
        client = stack.enter_context(connect(workers, scheduler)) if todo else None
        todo, done = prepare(out, kind, parts, fingerprint, settings, resume)
        if on_start:
            on_start(len(todo), done, sum(p.rows for p in todo))
        start = time.perf_counter()
        if todo:
            ran = run(client, kind, todo, task, shared, out, settings, on_done)
        elapsed = time.perf_counter() - start
    this_run = {
        "skipped_partitions": done,
        "ran_partitions": len(ran),
        "ran_rows": sum(m["rows"] for m in ran),
        "seconds": round(elapsed, 2),
        "rows_per_second": round(sum(m["rows"] for m in ran) / elapsed, 1) if ran else None,
    }
    return collect(out, extra, this_run)


def default_keep(parts_columns: Sequence[str], text_column: str, id_column: str | None) -> list:
    return [c for c in parts_columns if c not in (text_column, id_column)]


def collect(
    out: Path,
    extra: Callable[[list[dict]], dict] | None = None,
    this_run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Totals over every finished partition's marker; errors.csv and run.json written."""
    import pandas as pd

    from caseframe.interop.tables import write_csv

    markers = []
    for path in sorted((out / PARTS).glob("part-*.done")):
        markers.append(json.loads(path.read_text(encoding="utf-8")))
    manifest = manifest_of(out) or {}
    errors = [e for m in markers for e in m.get("errors", [])]
    totals = {
        "kind": manifest.get("kind"),
        "partitions": manifest.get("partitions"),
        "finished": len(markers),
        "rows": sum(m["rows"] for m in markers),
        "bad_rows": sum(m["bad_rows"] for m in markers),
        "errors_listed": len(errors),
        "worker_seconds": round(sum(m["seconds"] for m in markers), 2),
    }
    if extra:
        totals.update(extra(markers))
    totals.update(this_run or {})
    write_csv(pd.DataFrame(errors, columns=["file", "line", "problem"]), out / "errors.csv")
    atomic_write(out / "run.json", json.dumps(totals, indent=1, ensure_ascii=False) + "\n")
    return totals


def part_names(out: Path) -> list[str]:
    """The finished partitions, in order; an error if there are none."""
    names = sorted(finished(out))
    if not names:
        raise InvalidInput(
            "the folder holds no finished partitions",
            where=str(out),
            hint="run `caseframe batch suggest` into it first",
        )
    return names


def read_part(out: Path, name: str, columns: Sequence[str] | None = None):
    """One finished partition's rows as a DataFrame (columns as asked, checked)."""
    import pyarrow.parquet as pq

    path = out / PARTS / f"{name}.parquet"
    if columns:
        have = pq.read_schema(path).names
        missing = [c for c in columns if c not in have]
        if missing:
            raise InvalidInput(
                f"the batch output has no column {', '.join(repr(c) for c in missing)}",
                where=str(out),
                hint="it has " + ", ".join(have),
            )
    return pq.read_table(path, columns=list(columns) if columns else None).to_pandas()


def iter_parts(out: Path, columns: Sequence[str] | None = None):
    """Each finished partition's rows in turn: memory holds one partition at a time."""
    for name in part_names(out):
        yield read_part(out, name, columns)


def read_parts(out: Path, columns: Sequence[str] | None = None):
    """Every finished partition's rows as one DataFrame (for small outputs and tests)."""
    import pandas as pd

    return pd.concat(list(iter_parts(out, columns)), ignore_index=True)
