"""`caseframe agreement [DIR]`, `agreement disagreements`, `consensus` and `consensus resolve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from caseframe.cli.app import JSON_OPTION, app, default_group, open_project
from caseframe.cli.output import console, done, print_frame, print_json, warn
from caseframe.errors import InvalidInput, NotFound

agreement_app = default_group(
    "agreement",
    "Inter-coder agreement on the project (or on a coded-segment dataset DIR); "
    "`agreement disagreements` lists where coders differ. Options of the default command: "
    "`caseframe agreement compute --help`.",
    default="compute",
)
app.add_typer(agreement_app, name="agreement")

consensus_app = default_group(
    "consensus",
    "Build a consensus coder from several coders' codings; `consensus resolve` settles the "
    "units the rule left open, `consensus pending` lists them. Options of the default command: "
    "`caseframe consensus build --help`.",
    default="build",
)
app.add_typer(consensus_app, name="consensus")

UNITS = ("meaning-unit", "character")

CODERS_OPTION = typer.Option(
    None, "--coders", help="Coders to compare, comma-separated (default: every human coder)."
)
CODES_OPTION = typer.Option(
    None, "--codes", help="Codes (names or paths), comma-separated (default: every code used)."
)
DOCUMENTS_OPTION = typer.Option(None, "--documents", help="Documents, comma-separated.")
SCHEME_OPTION = typer.Option(
    None, "--scheme", help="Meaning units: imported, turn, paragraph or sentences."
)
EXACT_OPTION = typer.Option(
    False, "--exact", help="A category counts only its own codings, not its descendants'."
)


def _split(values: list[str] | None) -> list[str] | None:
    """Options may be repeated and/or comma-separated."""
    if not values:
        return None
    out = [part.strip() for v in values for part in v.split(",") if part.strip()]
    return out or None


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _short(value: float) -> str:
    """0.74 -> .74 (interval bounds, to keep the table narrow)."""
    return f"{value:.2f}".replace("0.", ".", 1)


# --------------------------------------------------------------------------- agreement


@agreement_app.command("compute", hidden=True)
def compute(
    ctx: typer.Context,
    path: Path = typer.Argument(
        None, help="A coded-segment dataset folder, or a project folder (default: the project)."
    ),
    coders: list[str] = CODERS_OPTION,
    codes: list[str] = CODES_OPTION,
    documents: list[str] = DOCUMENTS_OPTION,
    unit: str = typer.Option("meaning-unit", "--unit", help="meaning-unit or character"),
    scheme: str = SCHEME_OPTION,
    exact: bool = EXACT_OPTION,
    multiclass: bool = typer.Option(
        False,
        "--multiclass",
        help="Treat the codes as mutually exclusive values of one variable (one nominal alpha).",
    ),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Resamples for the 95% CIs (0: none)."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Agreement per code and overall: % agreement, Cohen's and Fleiss' kappa, Krippendorff's
    alpha and Gwet's AC1 with bootstrap CIs; --unit character gives kappa on characters and
    unitized alpha."""
    if unit not in UNITS:
        raise InvalidInput(f"unknown unit '{unit}'", hint=f"use {' or '.join(UNITS)}")
    if bootstrap < 0:
        raise InvalidInput("--bootstrap must be 0 or more")
    coders_, codes_, docs_ = _split(coders), _split(codes), _split(documents)
    if path is not None and not (path / "caseframe.json").is_file():
        _dataset_agreement(path, coders_, codes_, docs_, unit, multiclass, bootstrap, seed, as_json)
        return
    if path is not None:
        ctx.find_root().obj["project_dir"] = path
    project = open_project(ctx)
    if unit == "character":
        if multiclass:
            raise InvalidInput("--multiclass works on meaning units", hint="drop --unit character")
        result = project.character_agreement(coders_, codes_, docs_, exact)
        print_json(result) if as_json else _print_character(result)
        return
    if multiclass:
        result = project.multiclass_agreement(codes_, coders_, docs_, scheme, exact)
        print_json(result) if as_json else _print_multiclass(result)
        return
    report = project.agreement(coders_, codes_, docs_, scheme, exact, bootstrap, seed)
    print_json(report.to_json()) if as_json else _print_report(report.to_json())


def _dataset_agreement(
    path: Path,
    coders: list[str] | None,
    codes: list[str] | None,
    documents: list[str] | None,
    unit: str,
    multiclass: bool,
    bootstrap: int,
    seed: int,
    as_json: bool,
) -> None:
    from caseframe.analysis.agreement import matrix_from_dataset, per_code_agreement
    from caseframe.interop.coded_dataset import read_coded_dataset

    if not path.is_dir():
        raise NotFound("no such folder", where=str(path))
    if not (path / "codebook.csv").is_file() and not (path / "segments.csv").is_file():
        raise InvalidInput(
            "neither a caseframe project nor a coded-segment dataset",
            where=str(path),
            hint="give a folder with codebook.csv, segments.csv and codings.csv (FORMATS.md)",
        )
    if unit == "character" or multiclass:
        raise InvalidInput(
            f"{'--unit character' if unit == 'character' else '--multiclass'} needs a project",
            where=str(path),
            hint="import the dataset with `caseframe import-coded` and run it there",
        )
    matrix = matrix_from_dataset(read_coded_dataset(path), coders, codes, documents)
    report = per_code_agreement(matrix, bootstrap=bootstrap, seed=seed)
    report.overall["unit"] = "segment"
    print_json(report.to_json()) if as_json else _print_report(report.to_json())


def _print_report(data: dict[str, Any]) -> None:
    overall = data["overall"]
    two = len(overall["coders"]) == 2
    table = Table(
        title=f"Agreement of {', '.join(overall['coders'])} on {overall['units']} units",
        caption="dim line: 95% bootstrap interval",
        box=box.SIMPLE_HEAD,
    )
    keys = ["percent_agreement"] + (["cohen_kappa"] if two else [])
    keys += ["fleiss_kappa", "krippendorff_alpha", "gwet_ac1"]
    heads = {
        "percent_agreement": "% agree",
        "cohen_kappa": "Cohen κ",
        "fleiss_kappa": "Fleiss κ",
        "krippendorff_alpha": "α",
        "gwet_ac1": "AC1",
    }
    table.add_column("code", overflow="fold", min_width=14)
    for col in ["share", *(heads[k] for k in keys)]:
        table.add_column(col, justify="right", no_wrap=True)

    def add(name: str, row: dict[str, Any], prevalence: str) -> None:
        ci = row.get("ci", {})
        table.add_row(name, prevalence, *(_num(row[k]) for k in keys))
        spans = [f"{_short(c[0])}–{_short(c[1])}" if (c := ci.get(k)) else "" for k in keys]
        if any(spans):
            table.add_row("", "", *spans, style="dim")

    for row in data["per_code"]:
        shares = list(row["prevalence"].values())
        low, high = min(shares), max(shares)
        prevalence = f"{low:.0%}" if round(low, 2) == round(high, 2) else f"{low:.0%}–{high:.0%}"
        add(row["code"], row, prevalence)
    table.add_section()
    add("overall (pooled)", overall, "")
    console.print(table)
    complete = overall.get("units_complete", overall["units"])
    kappas = "Cohen's and Fleiss' κ" if two else "Fleiss' κ"
    console.print(
        f"Units: % agree, AC1 and α on the {overall['units']} units two or more of the coders "
        f"coded; {kappas} on the {complete} units every coder coded.",
        markup=False,
    )
    for row in data["per_code"]:
        console.print(f"{row['code']}: {row['reading']}", markup=False)
        for note in row.get("notes", []):
            console.print(f"  note: {note}", markup=False)
    console.print(f"Overall: {overall['reading']}", markup=False)
    unused = overall.get("codes_not_applied") or []
    if unused:
        console.print(
            f"Not applied by any of the coders on a shared unit (no figures): {', '.join(unused)}",
            markup=False,
        )
    left_out = overall.get("not_counted") or {}
    if left_out:
        listed = ", ".join(f"{name} ({role})" for name, role in left_out.items())
        console.print(f"Not counted (name them with --coders to include): {listed}", markup=False)
    console.print(overall["caveat"], markup=False, style="dim")


def _print_multiclass(result: dict[str, Any]) -> None:
    console.print(
        f"{', '.join(result['codes'])} as one nominal variable; {len(result['coders'])} coders, "
        f"{result['units']} units rated by two or more coders",
        markup=False,
    )
    for key, label in (
        ("percent_agreement", "% agreement"),
        ("fleiss_kappa", "Fleiss' kappa"),
        ("krippendorff_alpha", "Krippendorff's alpha"),
        ("gwet_ac1", "Gwet's AC1"),
    ):
        console.print(f"  {label:<22} {_num(result[key])}", markup=False)
    if result["multi_coded"]:
        warn(f"{result['multi_coded']} (unit, coder) ratings had several codes: left out")
    for note in result["notes"]:
        console.print(f"  note: {note}", markup=False)


def _print_character(result: dict[str, Any]) -> None:
    two = len(result["coders"]) == 2
    table = Table(title=f"Agreement on characters: {', '.join(result['coders'])}")
    for col in ["code", "documents", "coded (chars)", "% agree", "κ", "uα"]:
        table.add_column(col, justify="left" if col == "code" else "right")
    for row in result["per_code"]:
        coded = " / ".join(str(v) for v in row["coded"].values())
        table.add_row(
            row["code"],
            str(row["documents"]),
            coded,
            _num(row["percent_agreement"]),
            _num(row["cohen_kappa"]),
            _num(row["u_alpha"]),
        )
    console.print(table)
    detail = Table(title="Per code and document")
    for col in ["code", "document", "characters", "% agree", "κ", "uα"]:
        detail.add_column(col, justify="left" if col in ("code", "document") else "right")
    for row in result["per_code"]:
        for d in row["per_document"]:
            detail.add_row(
                row["code"],
                d["document"],
                str(d["characters"]),
                _num(d.get("percent_agreement")),
                _num(d.get("cohen_kappa")),
                _num(d["u_alpha"]),
            )
    if detail.row_count:
        console.print(detail)
    for row in result["per_code"]:
        console.print(f"{row['code']}: {row['reading']}", markup=False)
    console.print(f"Units: the {result['overall']['units']}.", markup=False)
    unused = result["overall"].get("codes_not_applied") or []
    if unused:
        console.print(f"Not applied on these characters (no figures): {', '.join(unused)}")
    if not two:
        console.print("κ on characters compares two coders; with more, read uα.")
    domain = result["overall"].get("domain")
    if domain:
        console.print(
            f"All codes as one semantic domain: uα = {_num(domain['u_alpha'])}, "
            f"|uα = {_num(domain['binary_u_alpha'])}, |cuα = {_num(domain['cu_alpha'])}",
            markup=False,
        )
    else:
        console.print(result["overall"]["domain_note"], markup=False, style="dim")


@agreement_app.command("disagreements")
def disagreements_cmd(
    ctx: typer.Context,
    coders: list[str] = CODERS_OPTION,
    codes: list[str] = CODES_OPTION,
    documents: list[str] = DOCUMENTS_OPTION,
    scheme: str = SCHEME_OPTION,
    exact: bool = EXACT_OPTION,
    out: Path = typer.Option(
        None, "--out", "-o", help="Write a .xlsx (or .csv) with a decision column to fill in."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Per code, the units where coders differ, with the text and who coded what."""
    project = open_project(ctx)
    selection = dict(
        coders=_split(coders),
        codes=_split(codes),
        documents=_split(documents),
        scheme=scheme,
        exact=exact,
    )
    frame = project.agreement_disagreements(**selection)
    if out is not None:
        from caseframe.api.agreement import write_unit_list

        path = write_unit_list(frame, out, None, "disagreements")
        done(f"Wrote {len(frame)} disagreements to {path}")
        return
    if as_json:
        print_json(frame.drop(columns=["reason", "decision"]))
        return
    _print_units(frame, "Disagreements", "The coders agree on every unit.")


def _print_units(frame, title: str, empty: str) -> None:
    shown = frame.copy()
    shown["text"] = shown["text"].fillna("").str.replace("\n", " ").str.slice(0, 60)
    print_frame(
        shown,
        title,
        ["code", "unit", "document", "applied_by", "not_applied_by", "text"],
        empty=empty,
    )


# --------------------------------------------------------------------------- consensus


@consensus_app.command("build", hidden=True)
def build(
    ctx: typer.Context,
    coders: list[str] = CODERS_OPTION,
    as_coder: str = typer.Option("consensus", "--as", help="Name of the consensus coder."),
    rule: str = typer.Option("majority", "--rule", help="unanimous, majority or union"),
    codes: list[str] = CODES_OPTION,
    documents: list[str] = DOCUMENTS_OPTION,
    scheme: str = SCHEME_OPTION,
    exact: bool = EXACT_OPTION,
    replace: bool = typer.Option(
        False, "--replace", help="Rebuild an existing consensus coder (its codings only)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Write the unresolved units (.xlsx or .csv) for a meeting."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a consensus coder's codings by a rule; the original codings stay as they are."""
    project = open_project(ctx)
    result = project.consensus(
        _split(coders), as_coder, rule, _split(codes), _split(documents), scheme, exact, replace
    )
    if out is not None:
        from caseframe.api.agreement import write_unit_list

        write_unit_list(result.unresolved, out, None, "unresolved")
    if as_json:
        print_json(
            {
                "coder": result.coder,
                "rule": result.rule,
                "coders": result.coders,
                "codings": result.codings,
                "decided": result.decided,
                "unresolved": result.unresolved,
            }
        )
        return
    done(
        f"Consensus coder '{result.coder}' ({result.rule} of {', '.join(result.coders)}): "
        f"{result.codings} codings written from {result.decided} settled decisions; "
        f"{len(result.unresolved)} left for manual resolution."
    )
    if len(result.unresolved):
        if out is not None:
            done(
                f"Wrote them to {out}; fill the decision column and run "
                f"`caseframe consensus resolve --file {out} --as {result.coder}`."
            )
        else:
            _print_units(result.unresolved, "Unresolved", "")
            done(
                f"Settle each with `caseframe consensus resolve UNIT CODE apply|skip "
                f"--as {result.coder}`, or write them with --out and use --file."
            )


@consensus_app.command("resolve")
def resolve(
    ctx: typer.Context,
    unit: str = typer.Argument(None, help="Meaning unit id (the `unit` column)."),
    code: str = typer.Argument(None, help="Code name or path."),
    decision: str = typer.Argument(None, help="apply or skip"),
    file: Path = typer.Option(
        None, "--file", help="An edited list (.xlsx/.csv) with unit, code and decision columns."
    ),
    as_coder: str = typer.Option("consensus", "--as", help="The consensus coder."),
    note: str = typer.Option("", "--note", help="Why (kept with the decision)."),
) -> None:
    """Settle units for a consensus coder, one at a time or from an edited list (a `note`
    column is kept with each decision)."""
    project = open_project(ctx)
    if file is not None:
        if unit is not None:
            raise InvalidInput("give either UNIT CODE DECISION or --file, not both")
        count = project.resolve_consensus_file(file, as_coder)
        done(f"Recorded {count} decisions for '{as_coder}'.")
    elif unit is None or code is None or decision is None:
        raise InvalidInput(
            "missing UNIT CODE DECISION",
            hint="e.g. `caseframe consensus resolve 12 Funding apply`, or pass --file",
        )
    else:
        change = project.resolve_consensus(unit, code, decision, as_coder, note=note)
        done(f"Unit {unit}, {code}: {decision} ({change}).")
    left = len(project.consensus_coders()[as_coder]["pending"])
    done(f"{left} units left to resolve." if left else "Nothing left to resolve.")


@consensus_app.command("pending")
def pending(
    ctx: typer.Context,
    as_coder: str = typer.Option("consensus", "--as", help="The consensus coder."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the list (.xlsx or .csv)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The units a consensus coder still needs a decision on."""
    frame = open_project(ctx).consensus_pending(as_coder)
    if out is not None:
        from caseframe.api.agreement import write_unit_list

        write_unit_list(frame, out, None, "unresolved")
        done(f"Wrote {len(frame)} units to {out}")
    elif as_json:
        print_json(frame.drop(columns=["applied_by", "not_applied_by", "decision"]))
    else:
        print_frame(
            frame.assign(text=frame["text"].str.replace("\n", " ").str.slice(0, 60)),
            f"Units pending for '{as_coder}'",
            ["code", "unit", "document", "reason", "text"],
            empty="Nothing left to resolve.",
        )


@consensus_app.command("decisions")
def decisions(
    ctx: typer.Context,
    as_coder: str = typer.Option("consensus", "--as", help="The consensus coder."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Write the decisions (.xlsx, .docx or .csv) for the audit trail."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """What the consensus coder decided per unit and code, why (note), and who decided."""
    project = open_project(ctx)
    if out is not None:
        path = project.export_consensus_decisions(out, as_coder)
        done(f"Wrote the decisions of '{as_coder}' to {path}")
        return
    frame = project.consensus_decisions(as_coder)
    if as_json:
        print_json(frame)
        return
    print_frame(
        frame.assign(text=frame["text"].str.replace("\n", " ").str.slice(0, 50)),
        f"Decisions of '{as_coder}'",
        ["document", "code", "applied", "decision", "note", "decided_by", "text"],
        empty="No decisions yet.",
    )


# --------------------------------------------------------------------------- coders


@agreement_app.command("coders")
def coders_cmd(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Coders with work, their role, and whether agreement counts them by default."""
    rows = open_project(ctx).agreement_coders()
    if as_json:
        print_json(rows)
        return
    table = Table(title="Coders", box=box.SIMPLE_HEAD)
    for col in ("coder", "kind", "role", "codings", "counted by default"):
        table.add_column(col, justify="right" if col == "codings" else "left")
    for r in rows:
        counted = "yes" if r["counted"] else "no"
        table.add_row(r["name"], r["kind"], r["role"], str(r["codings"]), counted)
    console.print(table)


@agreement_app.command("role")
def role_cmd(
    ctx: typer.Context,
    coder: str = typer.Argument(..., help="The coder's name."),
    role: str = typer.Argument(..., help="independent, reference or consensus"),
) -> None:
    """Mark a coder independent (counted by default), reference or consensus (only when
    named with --coders)."""
    before = open_project(ctx).set_coder_role(coder, role)
    done(f"{coder}: {before} → {role}")
