"""`caseframe suggest run|list|review|next` and `caseframe bench suggest DIR`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from caseframe.cli.app import JSON_OPTION, app, open_project
from caseframe.cli.output import console, done, err_console, print_frame, print_json, warn
from caseframe.errors import InvalidInput

suggest_app = typer.Typer(
    help="Machine coding suggestions: run a method, review its suggestions, pick units to code."
)
app.add_typer(suggest_app, name="suggest")
bench_app = typer.Typer(help="Benchmarks on your own data.")
app.add_typer(bench_app, name="bench")

METHOD_OPTION = typer.Option(
    None,
    "--method",
    "-m",
    help="supervised, definitions, embeddings, llm or baseline (default: supervised when every "
    "code has 3 human-coded units, else definitions).",
)
FRAMEWORK_OPTION = typer.Option(
    None, "--framework", help="Suggest the project's deductive codes of this framework (sis)."
)
CODES_OPTION = typer.Option(
    None, "--codes", help="Codes (names or paths), comma-separated; exactly these codes."
)
DOCUMENTS_OPTION = typer.Option(
    None,
    "--documents",
    help="Documents, comma-separated (default: those no human has coded with these codes).",
)
SCHEME_OPTION = typer.Option(
    None, "--scheme", help="Meaning units: imported, turn, paragraph or sentences."
)
BASE_URL_OPTION = typer.Option(
    None, "--base-url", help="llm: an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."
)
MODEL_OPTION = typer.Option(None, "--model", help="llm: the model name the endpoint serves.")
MODEL_PATH_OPTION = typer.Option(
    None, "--model-path", help="embeddings: a sentence-transformers model folder on this machine."
)
MIN_WORDS_OPTION = typer.Option(
    3,
    "--min-words",
    help="Skip units with fewer words than this (0 keeps them; never imported units).",
)
KEEP_HEADINGS_OPTION = typer.Option(
    False, "--keep-headings", help="Also read headings (short lines that end no sentence)."
)
KEEP_INTERVIEWER_OPTION = typer.Option(
    False,
    "--keep-interviewer",
    help="Also read interviewer turns (I:, Interviewer:, Intervjuare:, ...).",
)
MIN_KAPPA_OPTION = typer.Option(
    0.4,
    "--min-kappa",
    help="Offer a code only when its cross-validated kappa on the project's codings reaches this.",
)


def _split(values: list[str] | None) -> list[str] | None:
    """Options may be repeated and/or comma-separated."""
    if not values:
        return None
    out = [part.strip() for v in values for part in v.split(",") if part.strip()]
    return out or None


def _options(base_url: str | None, model: str | None, model_path: Path | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if base_url:
        options["base_url"] = base_url
    if model:
        options["model"] = model
    if model_path:
        options["model_path"] = str(model_path)
    return options


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- suggest run


@suggest_app.command("run")
def run(
    ctx: typer.Context,
    method: str = METHOD_OPTION,
    framework: str = FRAMEWORK_OPTION,
    codes: list[str] = CODES_OPTION,
    documents: list[str] = DOCUMENTS_OPTION,
    scheme: str = SCHEME_OPTION,
    base_url: str = BASE_URL_OPTION,
    model: str = MODEL_OPTION,
    model_path: Path = MODEL_PATH_OPTION,
    min_words: int = MIN_WORDS_OPTION,
    keep_headings: bool = KEEP_HEADINGS_OPTION,
    keep_interviewer: bool = KEEP_INTERVIEWER_OPTION,
    min_kappa: float = MIN_KAPPA_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Suggest codes for meaning units and store them as the codings of coder
    `suggest:METHOD` (kept apart from human codings until reviewed)."""
    project = open_project(ctx)
    with err_console.status("suggesting …") as status:
        result = project.suggest(
            method,
            framework=framework,
            codes=_split(codes),
            documents=_split(documents),
            scheme=scheme,
            options=_options(base_url, model, model_path),
            on_progress=lambda msg: status.update(msg[:100]),
            min_words=min_words,
            skip_headings=not keep_headings,
            skip_interviewer=not keep_interviewer,
            min_kappa=min_kappa,
        )
    if as_json:
        print_json(result)
        return
    console.print(f"Method: {result.method} ({result.reason}).", markup=False)
    if result.skipped_note:
        console.print(
            f"Skipped {result.skipped_note} (--keep-headings, --keep-interviewer, --min-words).",
            markup=False,
        )
    for code, more in result.untrained.items():
        warn(f"'{code}' is not suggested: it needs {more} more human-coded unit(s)")
    for code, kappa in result.gated.items():
        warn(
            f"'{code}' is not offered: its cross-validated kappa on your codings is {kappa:.2f}, "
            f"below {result.min_kappa:.2f} (--min-kappa)"
        )
    counts = {c: n for c, n in result.per_code.items() if n}
    if counts:
        table = Table("code", "suggestions", box=box.SIMPLE)
        for code, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            table.add_row(code, str(n))
        console.print(table)
    kept = f"; {result.kept_reviewed} already reviewed" if result.kept_reviewed else ""
    replaced = f", replacing {result.replaced} pending" if result.replaced else ""
    done(
        f"Stored {result.stored} suggestions by {result.coder} for {result.units} units in "
        f"{result.documents} documents{replaced}{kept}. Review them with "
        "`caseframe suggest review --coder NAME`."
    )


# --------------------------------------------------------------------------- suggest list


@suggest_app.command("list")
def list_(
    ctx: typer.Context,
    document: str = typer.Option(None, "--document"),
    method: str = typer.Option(None, "--method", "-m"),
    status: str = typer.Option(
        "suggested", "--status", help="suggested, accepted, rejected or all."
    ),
    min_score: float = typer.Option(None, "--min-score"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List suggestions (pending ones by default), best score first per document. With --json
    each has its reasons: the phrases that drove it, similar passages people coded with the
    code, the code's reliability in words, and the model, prompt version and seconds."""
    frame = open_project(ctx).suggestions_frame(
        document, method, None if status == "all" else status, min_score, reasons=as_json
    )
    if as_json:
        print_json(frame)
        return
    frame = frame.assign(
        text=frame["text"].str.replace("\n", " ").str.slice(0, 70),
        score=frame["score"].map(lambda v: _f(v, 2)),
    )
    columns = ["id", "document", "start", "code", "score", "text"]
    if frame["method"].nunique() > 1:
        columns.insert(4, "method")
    if status == "all":
        columns.insert(-1, "status")
    print_frame(frame, "Suggestions", columns, empty="No suggestions.")


# --------------------------------------------------------------------------- suggest review


@suggest_app.command("review")
def review(
    ctx: typer.Context,
    coder: str = typer.Option(
        ..., "--coder", help="The reviewer: accepted suggestions become this person's codings."
    ),
    document: str = typer.Option(None, "--document"),
    method: str = typer.Option(None, "--method", "-m"),
    min_score: float = typer.Option(
        None, "--min-score", help="Only suggestions scoring this or more."
    ),
    accept_all: bool = typer.Option(False, "--accept-all", help="Accept every selected one."),
    reject_all: bool = typer.Option(False, "--reject-all", help="Reject every selected one."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Accept or reject pending suggestions: all at once with --accept-all / --reject-all, or
    one by one in a terminal."""
    if accept_all and reject_all:
        raise InvalidInput("choose --accept-all or --reject-all, not both")
    project = open_project(ctx)
    selection = {"document": document, "method": method, "min_score": min_score}
    if accept_all:
        result = project.accept_suggestions(coder, **selection)
    elif reject_all:
        result = project.reject_suggestions(coder, **selection)
    else:
        if not sys.stdin.isatty():
            raise InvalidInput(
                "interactive review needs a terminal",
                hint="use --accept-all or --reject-all (with --document, --method, --min-score) "
                "in scripts",
            )
        frame = project.suggestions_frame(document, method, min_score=min_score, reasons=True)
        accept, reject = _ask(frame)
        result = project.review_suggestions(coder, accept=accept, reject=reject)
    if as_json:
        print_json(result)
        return
    done(
        f"{result.accepted} accepted ({result.codings_created} new codings by {result.reviewer}), "
        f"{result.rejected} rejected."
    )


def _ask(frame) -> tuple[list[int], list[int]]:
    """One question per suggestion; the decisions are stored together at the end."""
    accept: list[int] = []
    reject: list[int] = []
    if frame.empty:
        console.print("No pending suggestions.")
        return accept, reject
    console.print(
        f"{len(frame)} suggestions. a = accept, r = reject, s = skip, q = stop and save.",
        markup=False,
    )
    for n, row in enumerate(frame.itertuples(index=False), start=1):
        console.print(
            f"\n[{n}/{len(frame)}] {row.document} {row.start}–{row.end}  "
            f"{row.code}  (score {_f(row.score, 2)}, {row.method})",
            markup=False,
        )
        console.print("  " + " ".join(row.text.split())[:400], markup=False)
        if getattr(row, "phrases", None):
            said = ", ".join(f"“{p['text']}”" for p in row.phrases)
            console.print(f"  because of: {said}", markup=False)
        if getattr(row, "reliability", None):
            console.print(f"  {row.reliability}", markup=False)
        answer = ""
        while answer not in ("a", "r", "s", "q"):
            answer = typer.prompt("  decision [a/r/s/q]", default="s").strip().lower()
        if answer == "q":
            break
        if answer == "a":
            accept.append(int(row.id))
        elif answer == "r":
            reject.append(int(row.id))
    return accept, reject


# --------------------------------------------------------------------------- suggest next


@suggest_app.command("next")
def next_(
    ctx: typer.Context,
    n: int = typer.Option(20, "--n", help="How many units to list."),
    method: str = METHOD_OPTION,
    framework: str = FRAMEWORK_OPTION,
    codes: list[str] = CODES_OPTION,
    documents: list[str] = DOCUMENTS_OPTION,
    scheme: str = SCHEME_OPTION,
    model_path: Path = MODEL_PATH_OPTION,
    min_words: int = MIN_WORDS_OPTION,
    keep_headings: bool = KEEP_HEADINGS_OPTION,
    keep_interviewer: bool = KEEP_INTERVIEWER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The uncoded meaning units whose human coding would most improve the model (uncertain
    scores, and codes with few human codings)."""
    frame = open_project(ctx).suggest_next(
        n,
        method,
        framework=framework,
        codes=_split(codes),
        documents=_split(documents),
        scheme=scheme,
        options=_options(None, None, model_path),
        min_words=min_words,
        skip_headings=not keep_headings,
        skip_interviewer=not keep_interviewer,
    )
    if as_json:
        print_json(frame)
        return
    print_frame(
        frame,
        "Units to code next",
        ["rank", "unit_id", "document", "start", "end", "snippet", "why"],
        empty="No uncoded units.",
    )


# --------------------------------------------------------------------------- bench suggest


@bench_app.command("suggest")
def bench_suggest(
    dataset: Path = typer.Argument(..., help="A coded-segment dataset folder (FORMATS.md)."),
    method: str = typer.Option("supervised", "--method", "-m"),
    reference: str = typer.Option(
        None, "--reference", help="The reference coder (default: 'consensus' or the only coder)."
    ),
    zero_shot: bool = typer.Option(
        False, "--zero-shot", help="Fit on nothing but the codebook (no training codings)."
    ),
    learning_curve: bool = typer.Option(
        False, "--learning-curve", help="Repeat with 5, 10, 25, 50 and 100 % of the codings."
    ),
    base_url: str = BASE_URL_OPTION,
    model: str = MODEL_OPTION,
    model_path: Path = MODEL_PATH_OPTION,
    min_kappa: float = MIN_KAPPA_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Fit on split=train, predict split=test, score against the reference coder: per code and
    overall F1, Cohen's kappa and Gwet's AC1, speed; how honest the scores are (Brier score,
    reliability table); and the figures of the codes a project would offer (--min-kappa)."""
    from caseframe.suggest.evaluate import bench_suggest as run_bench

    with err_console.status(f"benchmarking {method} …"):
        result = run_bench(
            dataset,
            method,
            reference,
            zero_shot,
            learning_curve,
            options=_options(base_url, model, model_path),
            min_kappa=min_kappa,
        )
    if as_json:
        print_json(result)
        return
    _print_bench(result)


def _print_bench(result: dict[str, Any]) -> None:
    head = (
        f"{result['method']}{' (zero-shot)' if result['zero_shot'] else ''} on "
        f"{result['dataset']}: {result['train_units']} training units, "
        f"{result['test_units']} test units, reference {result['reference']}"
    )
    console.print(head, markup=False)
    overall = Table(
        "micro-F1", "macro-F1", "mean κ", "mean AC1", "units/s", "fit s", box=box.SIMPLE
    )
    overall.add_row(
        _f(result["micro_f1"]),
        _f(result["macro_f1"]),
        _f(result["mean_kappa"]),
        _f(result["mean_ac1"]),
        f"{result['units_per_second']:.0f}",
        _f(result["fit_seconds"], 2),
    )
    console.print(overall)
    if "multiclass_kappa" in result:
        console.print(f"Multi-class κ: {_f(result['multiclass_kappa'])}")
    per = Table("code", "n", "sugg.", "P", "R", "F1", "κ", "AC1", box=box.SIMPLE)
    per.columns[0].min_width = 24
    idle = 0
    for code, s in result["per_code"].items():
        if not (s["support"] or s["predicted"]):
            idle += 1  # neither used nor suggested on the test units: nothing to read
            continue
        per.add_row(
            code,
            str(s["support"]),
            str(s["predicted"]),
            _f(s["precision"], 2),
            _f(s["recall"], 2),
            _f(s["f1"], 2),
            _f(s["kappa"], 2),
            _f(s["ac1"], 2),
        )
    console.print(per)
    if idle:
        console.print(
            f"{idle} codes neither used nor suggested on the test units are not shown (--json "
            "lists every code). n: test units with the code; sugg.: units the method gave it."
        )
    _print_calibration(result)
    hh = result.get("human_human")
    if hh:
        console.print(
            f"Human coders among themselves ({hh['pairs']} pairs): micro-F1 {_f(hh['micro_f1'])}, "
            f"macro-F1 {_f(hh['macro_f1'])}, mean κ {_f(hh['mean_kappa'])}, "
            f"mean AC1 {_f(hh['mean_ac1'])}",
            markup=False,
        )
    curve = result.get("learning_curve")
    if curve:
        table = Table("training", "units", "micro-F1", "macro-F1", "mean κ", box=box.SIMPLE)
        for point in curve:
            if "skipped" in point:
                table.add_row(f"{point['fraction']:.0%}", "-", "skipped: too few codings", "", "")
                continue
            table.add_row(
                f"{point['fraction']:.0%}",
                str(point["train_units"]),
                _f(point["micro_f1"]),
                _f(point["macro_f1"]),
                _f(point["mean_kappa"]),
            )
        console.print(table)


def _print_calibration(result: dict[str, Any]) -> None:
    cal = result.get("calibration")
    if cal:
        console.print(
            f"Scores: Brier {_f(cal['brier'], 4)}, expected calibration error "
            f"{_f(cal['expected_calibration_error'], 4)} over {cal['cells']:,} unit × code cells "
            "(0 is perfect).",
            markup=False,
        )
        table = Table("score", "cells", "mean score", "code present", box=box.SIMPLE)
        for row in cal["reliability"]:
            if row["cells"]:
                table.add_row(
                    f"{row['low']:.1f}–{row['high']:.1f}",
                    f"{row['cells']:,}",
                    _f(row["mean_score"]),
                    _f(row["observed"]),
                )
        console.print(table)
    gated = result.get("gated")
    if gated:
        console.print(
            f"Codes offered (cross-validated kappa ≥ {gated['min_kappa']:.2f}): "
            f"{len(gated['codes_offered'])} of {len(result['per_code'])}; on those alone: "
            f"micro-F1 {_f(gated['micro_f1'])}, macro-F1 {_f(gated['macro_f1'])}, mean κ "
            f"{_f(gated['mean_kappa'])} (codes not offered count as never suggested).",
            markup=False,
        )


# --------------------------------------------------------------------------- bench active


@bench_app.command("active")
def bench_active(
    dataset: Path = typer.Argument(..., help="A coded-segment dataset folder (FORMATS.md)."),
    method: str = typer.Option("supervised", "--method", "-m"),
    reference: str = typer.Option(None, "--reference", help="The reference coder."),
    k: int = typer.Option(100, "--k", help="Labels between refits."),
    start: int = typer.Option(None, "--start", help="Random labels to start from (default k)."),
    max_labels: int = typer.Option(
        None, "--max-labels", help="Stop after this many labels (default: the whole pool)."
    ),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Simulate a coder labelling the split=train units in the order the method asks for
    (uncertainty and coverage, as `suggest next`) and in random order, refitting every k
    labels; report both learning curves (macro-F1 on split=test) and the labels each order
    needs to reach 90 % of the macro-F1 of a fit on the whole pool."""
    from caseframe.suggest.active import bench_active as run_active

    with err_console.status("simulating …") as status:
        result = run_active(
            dataset,
            method,
            reference=reference,
            k=k,
            start=start,
            max_labels=max_labels,
            seed=seed,
            on_progress=lambda msg: status.update(msg[:100]),
        )
    if as_json:
        print_json(result)
        return
    full = result["full"]
    console.print(
        f"{result['method']} on {result['dataset']}: pool {result['pool_units']:,} units, "
        f"{result['test_units']:,} test units; whole pool: macro-F1 {_f(full['macro_f1'])}, "
        f"target (90 %) {_f(result['target_macro_f1'])}.",
        markup=False,
    )
    table = Table("labels", "active macro-F1", "random macro-F1", box=box.SIMPLE)
    active = {p["labels"]: p for p in result["curves"]["active"]}
    rand = {p["labels"]: p for p in result["curves"]["random"]}
    for n in sorted(set(active) | set(rand)):
        table.add_row(
            f"{n:,}",
            _f(active[n]["macro_f1"]) if n in active else "",
            _f(rand[n]["macro_f1"]) if n in rand else "",
        )
    console.print(table)
    reach = result["labels_to_90pct"]
    say = {o: ("not reached" if v is None else f"{v:,} labels") for o, v in reach.items()}
    done(f"90 % of the whole-pool macro-F1: active order {say['active']}, random {say['random']}.")
