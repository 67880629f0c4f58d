"""`caseframe suggest train` and `caseframe batch suggest|pseudonymise|summarise|import`.

Batch commands run on Dask (extra `cluster`): a local cluster on this machine's cores, or an
existing scheduler with --scheduler (docs/cluster.md). Heavy libraries load inside commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project
from caseframe.cli.output import console, done, err_console, print_json, warn
from caseframe.cli.suggest import suggest_app
from caseframe.errors import InvalidInput

batch_app = typer.Typer(
    help="Batch work on Dask over large comment files: suggest, pseudonymise, summarise, "
    "import a sample for review (extra 'cluster')."
)
app.add_typer(batch_app, name="batch")

INPUTS_ARGUMENT = typer.Argument(..., help="CSV or Parquet files, or folders of them.")
TEXT_OPTION = typer.Option(..., "--text-column", help="The column holding the free text.")
ID_OPTION = typer.Option(
    None, "--id-column", help="The column holding each row's id (default: FILE:LINE)."
)
OUT_OPTION = typer.Option(..., "--out", help="Output folder (new, or the run to resume).")
WORKERS_OPTION = typer.Option(
    None, "--workers", help="Start a local cluster with this many worker processes."
)
SCHEDULER_OPTION = typer.Option(
    None, "--scheduler", help="Join an existing Dask cluster, e.g. tcp://HOST:8786."
)
RESUME_OPTION = typer.Option(
    False, "--resume", help="Finish a killed run in --out: finished partitions are skipped."
)
KEEP_OPTION = typer.Option(
    None,
    "--keep",
    help="Columns to carry into the output, comma-separated (default: all but the text).",
)
WARNINGS = 10  # unusable rows named on the terminal; errors.csv lists them all
ROWS_OPTION = typer.Option(50_000, "--partition-rows", help="Rows per partition (at most).")


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [part.strip() for v in values for part in v.split(",") if part.strip()]
    return out or None


# --------------------------------------------------------------------------- suggest train


@suggest_app.command("train")
def train(
    source: Path = typer.Argument(
        ..., help="A coded-segment dataset folder or a project folder (its human codings)."
    ),
    out: Path = typer.Option(..., "--out", help="The model file to write (MODEL.cfm)."),
    codes: list[str] = typer.Option(
        None, "--codes", help="Codes to learn, comma-separated (default: all)."
    ),
    method: str = typer.Option("supervised", "--method", "-m", help="The suggestion method."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds (0: none)."),
    seed: int = typer.Option(0, "--seed"),
    reference: str = typer.Option(
        None, "--reference", help="Dataset: the reference coder (default: consensus or the only)."
    ),
    include_test: bool = typer.Option(
        False, "--include-test", help="Dataset: learn from split=test segments too."
    ),
    scheme: str = typer.Option(None, "--scheme", help="Project: the meaning units to learn from."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit a suggestion method on human codings and save it, with its cross-validated figures
    per code, as one signed, versioned model file for `batch suggest`."""
    from caseframe.batch.training import from_dataset
    from caseframe.batch.training import train as fit
    from caseframe.suggest.base import get_method
    from caseframe.suggest.modelfile import save_model, signing_key

    get_method(method)  # an unknown name fails before any work
    wanted = _split(codes)
    if (source / "caseframe.json").is_file():
        from caseframe.api import Project

        with Project.open(source) as project:
            data = project.batch_training_set(wanted, scheme)
    else:
        data = from_dataset(source, reference, wanted, include_test)
    key = signing_key(create=True)
    with err_console.status("training …") as status:
        fitted, summary, cv = fit(
            method, {}, data, folds, seed, on_progress=lambda m: status.update(m)
        )
    header = save_model(
        out,
        fitted,
        settings={"method": method, "options": {}, "folds": folds, "seed": seed},
        training=summary,
        cv=cv,
        key=key,
    )
    if as_json:
        print_json(header)
        return
    _print_cv(header)
    done(f"Saved {out} (model {header['model_id']}, {len(header['codes'])} codes).")


def _print_cv(header: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    cv = header.get("cv") or {}
    train = header["training"]
    console.print(
        f"{header['method']} on {train['units']} units from {train['source']}.", markup=False
    )
    for code, more in train.get("untrained", {}).items():
        warn(f"'{code}' is not learned: it needs {more} more coded unit(s)")
    if not cv:
        return
    table = Table("code", "n", "P", "R", "F1", "κ", box=box.SIMPLE, title=f"{cv['folds']}-fold CV")
    for code, f in cv["per_code"].items():
        table.add_row(
            code, str(f["support"]), *(_f(f[k]) for k in ("precision", "recall", "f1", "kappa"))
        )
    console.print(table)
    console.print(
        f"micro-F1 {_f(cv['micro_f1'])}, macro-F1 {_f(cv['macro_f1'])}, "
        f"mean κ {_f(cv['mean_kappa'])}",
        markup=False,
    )


def _f(value: Any) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:.2f}"


# --------------------------------------------------------------------------- progress


class _Progress:
    """A Rich bar of partitions with rows and rows per second, on standard error."""

    def __init__(self, what: str):
        self.what = what
        self.bar = None
        self.rows = 0
        self.warned = 0

    def start(self, todo: int, skipped: int, rows: int) -> None:
        import time

        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        if skipped:
            err_console.print(f"resuming: {skipped} finished partitions skipped", markup=False)
        self.started = time.perf_counter()
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("partitions · {task.fields[rows]} rows · {task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )
        self.task = self.bar.add_task(self.what, total=todo, rows=0, rate="–")
        self.bar.start()

    def done(self, marker: dict[str, Any]) -> None:
        import time

        self.rows += marker["rows"]
        rate = self.rows / max(time.perf_counter() - self.started, 1e-9)
        self.bar.update(self.task, advance=1, rows=f"{self.rows:,}", rate=f"{rate:,.0f}")
        for e in marker.get("errors", []):
            self.warned += 1
            if self.warned <= WARNINGS:
                warn(f"{e['file']}:{e['line']}: {e['problem']}; row skipped")
            elif self.warned == WARNINGS + 1:
                warn("more unusable rows: see errors.csv in the output folder")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _run(
    kind: str, inputs, out, task, shared, settings, workers, scheduler, resume, rows, extra=None
) -> dict:
    from caseframe.batch.runner import execute

    progress = _Progress(f"{kind} ")
    try:
        return execute(
            kind,
            inputs,
            out,
            task,
            shared,
            settings,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            partition_rows=rows,
            on_start=progress.start,
            on_done=progress.done,
            extra=extra,
        )
    finally:
        progress.stop()


def _settings(inputs: list[Path], text: str, id_column: str | None, keep: list[str] | None):
    from caseframe.batch import inputs as inp
    from caseframe.batch.suggest_run import RESERVED

    if keep is None:
        columns = inp.columns_of(inp.expand(inputs)[0])
        # the output's own columns (an input column named "id" without --id-column) stay out
        keep = [c for c in columns if c not in (text, id_column, *RESERVED)]
    clash = [c for c in keep if c in RESERVED]
    if clash:
        raise InvalidInput(
            f"the output names its own columns {', '.join(clash)}",
            hint="leave those input columns out with --keep",
        )
    return {"text_column": text, "id_column": id_column, "keep": keep}


def _summary_line(totals: dict[str, Any], out: Path) -> str:
    rate = totals.get("rows_per_second")
    speed = f" at {rate:,.0f} rows/s" if rate else ""
    bad = f"; {totals['bad_rows']} unusable rows listed in errors.csv" if totals["bad_rows"] else ""
    return (
        f"{totals['finished']} of {totals['partitions']} partitions done, {totals['rows']:,} rows "
        f"in {out}{speed}{bad}."
    )


# --------------------------------------------------------------------------- batch suggest


@batch_app.command("suggest")
def batch_suggest(
    inputs: list[Path] = INPUTS_ARGUMENT,
    text_column: str = TEXT_OPTION,
    id_column: str = ID_OPTION,
    model: Path = typer.Option(..., "--model", help="A model file from `suggest train`."),
    out: Path = OUT_OPTION,
    workers: int = WORKERS_OPTION,
    scheduler: str = SCHEDULER_OPTION,
    resume: bool = RESUME_OPTION,
    keep: list[str] = KEEP_OPTION,
    drop_text: bool = typer.Option(False, "--drop-text", help="Leave the text out of the output."),
    partition_rows: int = ROWS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Suggest codes for every row of large CSV/Parquet files, partition by partition on Dask;
    one Parquet file per partition under --out (id, codes, scores, model version)."""
    from caseframe.batch.suggest_run import run_settings, suggest_partition
    from caseframe.suggest.modelfile import load_model, signing_key

    loaded = load_model(model, signing_key())
    columns = _settings(inputs, text_column, id_column, _split(keep))
    settings = run_settings(loaded, text_column, id_column, columns["keep"], not drop_text)
    totals = _run(
        "suggest",
        inputs,
        out,
        suggest_partition,
        loaded.method,
        settings,
        workers,
        scheduler,
        resume,
        partition_rows,
    )
    if as_json:
        print_json(totals)
        return
    done(_summary_line(totals, out))


# --------------------------------------------------------------------------- batch pseudonymise


@batch_app.command("pseudonymise")
def batch_pseudonymise(
    inputs: list[Path] = INPUTS_ARGUMENT,
    text_column: str = TEXT_OPTION,
    id_column: str = ID_OPTION,
    out: Path = OUT_OPTION,
    key: Path = typer.Option(
        None, "--key", "-k", help="The project's key file (default: $CASEFRAME_KEY)."
    ),
    ner: str = typer.Option(
        None, "--ner", help="An installed spaCy pipeline (name or folder), loaded on each worker."
    ),
    patterns: list[str] = typer.Option(
        None, "--patterns", help="Only these patterns, comma-separated (default: all)."
    ),
    workers: int = WORKERS_OPTION,
    scheduler: str = SCHEDULER_OPTION,
    resume: bool = RESUME_OPTION,
    keep: list[str] = typer.Option(
        None,
        "--keep",
        help="Columns to copy unchanged into the output, comma-separated (default: none).",
    ),
    partition_rows: int = ROWS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace names and identifiers in every row (registry, patterns, optional NER) with
    pseudonyms that agree across workers and runs (a keyed hash of the key file's secret)."""
    from caseframe.batch.pseudonymise_run import (
        check_patterns,
        pseudonymise_partition,
        secret_id,
        setup_from_key,
        totals,
        write_report,
    )
    from caseframe.cli.privacy import key_path, passphrase

    path = key_path(key).resolve()
    if path.is_relative_to(out.resolve()):
        raise InvalidInput(
            "the key file lies inside the output folder",
            where=str(path),
            hint="keep the key apart from the pseudonymised output",
        )
    setup = setup_from_key(path, passphrase(), check_patterns(_split(patterns)), ner)
    # other columns are copied as they are, so none unless named: they may identify people too
    settings = _settings(inputs, text_column, id_column, _split(keep) or [])
    settings.update(patterns=setup.patterns, ner=ner, key_id=secret_id(setup.secret))
    result = _run(
        "pseudonymise",
        inputs,
        out,
        pseudonymise_partition,
        setup,
        settings,
        workers,
        scheduler,
        resume,
        partition_rows,
        extra=totals,
    )
    write_report(out, result)
    if as_json:
        print_json(result)
        return
    from rich import box
    from rich.table import Table

    table = Table("category", "replaced", box=box.SIMPLE)
    for category, n in result["categories"].items():
        table.add_row(category, f"{n:,}")
    console.print(table)
    done(_summary_line(result, out) + f" {result['rows_changed']:,} rows changed.")


# --------------------------------------------------------------------------- summarise


@batch_app.command("summarise")
def batch_summarise(
    folder: Path = typer.Argument(..., help="The output folder of `batch suggest`."),
    by: list[str] = typer.Option(
        None, "--by", help="Group columns, comma-separated; the last is time (e.g. site,month)."
    ),
    min_f1: float = typer.Option(
        0.5, "--min-f1", help="Mark codes whose cross-validated F1 is below this."
    ),
    xlsx: Path = typer.Option(None, "--xlsx", help="Workbook (default: FOLDER/summary.xlsx)."),
    html: Path = typer.Option(None, "--html", help="HTML page (default: FOLDER/summary.html)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Counts and shares of each code per group, with the model's cross-validated figures
    (low-F1 codes marked): an XLSX workbook and an HTML page of small multiples over time."""
    from caseframe.batch.outputs import write_summary

    result = write_summary(folder, _split(by) or [], min_f1, xlsx, html)
    if as_json:
        print_json(result)
        return
    if not result.has_cv:
        warn(
            "the model has no cross-validated figures (trained with --folds 0): "
            "every code is marked"
        )
    elif result.low_f1:
        shown = ", ".join(result.low_f1[:8])
        warn(f"{len(result.low_f1)} codes have a cross-validated F1 below {min_f1}: {shown}")
    done(
        f"Wrote {result.xlsx} and {result.html} ({result.rows:,} rows, "
        f"{result.table_rows:,} group × code rows)."
    )


# --------------------------------------------------------------------------- import


@batch_app.command("import")
def batch_import(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="The output folder of `batch suggest`."),
    sample: int = typer.Option(..., "--sample", help="How many rows to bring back."),
    by: list[str] = typer.Option(
        None, "--by", help="Strata columns (default: the first code each row was given)."
    ),
    seed: int = typer.Option(0, "--seed"),
    name: str = typer.Option(None, "--name", help="The new document's name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Bring a stratified sample of a batch run into the project as pending suggestions, for
    human review with `caseframe suggest review` (the quality check of the run)."""
    from caseframe.batch.outputs import review_sample, suggest_model

    model = suggest_model(folder)
    picked = review_sample(folder, sample, _split(by) or [], seed)
    result = open_project(ctx).import_batch_sample(picked, model["method"], model["id"], name=name)
    if as_json:
        print_json(result)
        return
    done(
        f"Stored {result.units} rows ({result.strata} strata) as document '{result.document}' "
        f"with {result.suggestions} suggestions by {result.coder}. Review them with "
        f"`caseframe suggest review --coder NAME --method {result.coder.split(':', 1)[1]}`."
    )
