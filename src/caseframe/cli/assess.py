"""`caseframe assess SITE ...`, `assess import|list|suggest|agreement|consensus|anchors` and
`caseframe profile [SITE]`: SIS ratings per site and the sustainability profiles."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, default_group, open_project
from caseframe.cli.output import console, done, print_frame, print_json
from caseframe.errors import InvalidInput

assess_app = default_group(
    "assess",
    "Rate sites on framework components (SIS 0–3): record, import, suggest, agree, consensus.",
    "site",
)
app.add_typer(assess_app, name="assess")

FRAMEWORK_OPTION = typer.Option("sis", "--framework", "-f", help="Framework key.")


def _interactive() -> bool:
    """Prompts only when a person is at the terminal; scripts must say what they want."""
    return sys.stdin.isatty()


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(f"{what} '{item}' is not COMPONENT=VALUE", hint="e.g. O10=2")
        out[key.strip()] = value.strip()
    return out


@assess_app.command("site", hidden=True)
def assess_site(
    ctx: typer.Context,
    site: str = typer.Argument(..., help="The site (case) to rate."),
    framework: str = FRAMEWORK_OPTION,
    at: str = typer.Option(None, "--at", help="Date of the assessment, YYYY-MM-DD (today)."),
    rater: str = typer.Option(..., "--rater", help="Who rates."),
    rating: list[str] = typer.Option(None, "--rating", help="COMPONENT=N; repeatable."),
    note: str = typer.Option("", "--note", help="A note on every rating given."),
    evidence: list[int] = typer.Option(None, "--evidence", help="Coding id; repeatable."),
    from_suggestions: bool = typer.Option(
        False, "--from-suggestions", help="Review caseframe's proposals (accept or change)."
    ),
    accept_all: bool = typer.Option(
        False, "--accept-all", help="With --from-suggestions: accept every proposal unasked."
    ),
    replace: bool = typer.Option(False, "--replace", help="Overwrite this rater's ratings."),
) -> None:
    """Rate a site: --rating COMPONENT=N (repeatable), or review --from-suggestions."""
    project = open_project(ctx)
    day = at or date.today().isoformat()
    given = _pairs(rating, "rating")
    if accept_all and not from_suggestions:
        raise InvalidInput("--accept-all needs --from-suggestions")
    fw = project.rating_framework(framework)
    if from_suggestions:
        _from_suggestions(project, site, fw, day, rater, given, note, accept_all, replace)
        return
    if not given:
        if not _interactive():
            raise InvalidInput(
                "no ratings given", hint="pass --rating COMPONENT=N or --from-suggestions"
            )
        given = _prompt_ratings(fw)
    saved = project.assess(
        site,
        given,
        rater=rater,
        at=day,
        framework=fw.key,
        note=note,
        evidence=evidence or [],
        replace=replace,
    )
    done(f"Recorded {len(saved)} rating(s) of {site} on {day} by {rater}.")


def _prompt_ratings(fw) -> dict[str, str]:
    scale = fw.scale
    anchors = ", ".join(f"{k} {v}" for k, v in sorted(scale.anchors.items()))
    console.print(f"Rate each component {scale.minimum}–{scale.maximum} ({anchors}); Enter skips.")
    out: dict[str, str] = {}
    for c in fw.components:
        answer = typer.prompt(f"{c.key} {c.name}", default="", show_default=False).strip()
        if answer:
            out[c.key] = answer
    return out


def _from_suggestions(project, site, fw, day, rater, given, note, accept_all, replace) -> None:
    suggestions = project.suggest_ratings(site, fw.key)
    if not accept_all and not _interactive():
        raise InvalidInput(
            "reviewing suggestions needs a terminal",
            hint="pass --accept-all to accept every proposal, with --rating C=N to change some",
        )
    ratings: dict[str, str | int] = {}
    notes: dict[str, str] = {}
    evidence: dict[str, list[int]] = {}
    proposed: dict[str, int] = {}
    for s in suggestions:
        if s.rating is None and s.component not in given:
            continue
        console.print(
            f"\n[bold]{s.component} {s.name}[/bold]: proposed "
            f"{'–' if s.rating is None else s.rating}"
        )
        for reason in s.reasons:
            console.print(f"  {reason}", markup=False)
        for e in s.evidence[:5]:
            console.print(f"  “{e.text[:100]}” ({', '.join(e.respondents)})", markup=False)
        choice: str | int | None = given.get(s.component, s.rating)
        if not accept_all and s.component not in given:
            answer = typer.prompt(
                "  Enter accepts, a number changes it, s skips", default="", show_default=False
            ).strip()
            if answer.lower() == "s":
                continue
            choice = answer or s.rating
        if choice is None:
            continue
        ratings[s.component] = choice
        evidence[s.component] = s.evidence_ids
        notes[s.component] = "; ".join(filter(None, [note, *s.reasons]))
        if s.rating is not None:
            proposed[s.component] = s.rating
    if not ratings:
        done(f"No proposal to record for {site}: no component has valenced evidence there.")
        return
    saved = project.assess(
        site,
        ratings,
        rater=rater,
        at=day,
        framework=fw.key,
        notes=notes,
        evidence=evidence,
        suggested=proposed,
        replace=replace,
    )
    changed = sum(1 for k, v in ratings.items() if str(proposed.get(k)) != str(v))
    done(
        f"Recorded {len(saved)} rating(s) of {site} on {day} by {rater} "
        f"({len(saved) - changed} accepted as proposed, {changed} changed)."
    )


@assess_app.command("import")
def import_(
    ctx: typer.Context,
    csv_file: Path = typer.Argument(
        ..., help="site,component,rating,assessed_on[,rater,framework,note,evidence,status]"
    ),
    rater: str = typer.Option(None, "--rater", help="Rater for a file without a rater column."),
    framework: str = FRAMEWORK_OPTION,
    replace: bool = typer.Option(False, "--replace", help="Overwrite existing ratings."),
) -> None:
    """Import ratings of many sites from a CSV (all rows or none)."""
    n = open_project(ctx).import_assessments(csv_file, rater, framework, replace)
    done(f"Imported {n} rating(s).")


@assess_app.command("list")
def list_(
    ctx: typer.Context,
    site: str = typer.Argument(None),
    framework: str = FRAMEWORK_OPTION,
    rater: str = typer.Option(None, "--rater"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List recorded ratings (and kept suggestions)."""
    frame = open_project(ctx).assessments_frame(site, framework, rater)
    if as_json:
        print_json(frame)
    else:
        frame["evidence"] = frame["evidence"].map(lambda ids: ";".join(map(str, ids)))
        print_frame(
            frame,
            "Ratings",
            ["site", "assessed_on", "component", "rating", "rater", "status", "evidence", "note"],
            empty="No ratings.",
        )


@assess_app.command("suggest")
def suggest(
    ctx: typer.Context,
    site: str = typer.Argument(...),
    framework: str = FRAMEWORK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show proposed ratings with their reasons and evidence (nothing is stored)."""
    import pandas as pd

    suggestions = open_project(ctx).suggest_ratings(site, framework)
    if as_json:
        print_json([s.to_dict() for s in suggestions])
        return
    frame = pd.DataFrame.from_records(
        [
            {
                "component": s.component,
                "name": s.name,
                "proposed": "" if s.rating is None else s.rating,
                "evidence": len(s.evidence),
                "reasons": " | ".join(s.reasons),
            }
            for s in suggestions
        ]
    )
    print_frame(
        frame, f"Proposed ratings for {site} (accept with 'assess {site} --from-suggestions')"
    )


@assess_app.command("agreement")
def agreement(
    ctx: typer.Context,
    framework: str = FRAMEWORK_OPTION,
    rater: list[str] = typer.Option(
        None, "--rater", help="The two raters (default: the only two)."
    ),
    site: str = typer.Option(None, "--site"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Two raters' agreement on their ratings: exact, within one, κ, weighted κ, ordinal α."""
    result = open_project(ctx).assessment_agreement(framework, rater or None, site)
    if as_json:
        print_json(result.to_dict())
        return
    a, b = result.raters
    console.print(f"{a} vs {b}: {result.units} component ratings on the same site and date")

    def show(name, coef):
        value = "undefined" if coef.value is None else f"{coef.value:.3f}"
        console.print(f"  {name}: {value}" + (f" ({coef.reason})" if coef.reason else ""))

    show("exact agreement", result.exact)
    if result.within_one is not None:
        console.print(f"  within one point: {result.within_one:.3f}")
    show("Cohen's κ", result.cohen_kappa)
    show("weighted κ (quadratic)", result.weighted_kappa)
    show("Krippendorff's α (ordinal)", result.alpha_ordinal)
    print_frame(result.per_site, "Per site")
    print_frame(result.disagreements, "Disagreements", empty="No disagreements.")


@assess_app.command("consensus")
def consensus(
    ctx: typer.Context,
    site: str = typer.Argument(...),
    at: str = typer.Option(..., "--at", help="Date of the raters' assessment, YYYY-MM-DD."),
    framework: str = FRAMEWORK_OPTION,
    decide: list[str] = typer.Option(None, "--decide", help="COMPONENT=N where raters differ."),
    rater: str = typer.Option("consensus", "--rater", help="Name recorded for the consensus."),
    note: str = typer.Option("", "--note"),
    replace: bool = typer.Option(False, "--replace"),
) -> None:
    """Record consensus ratings: agreed values taken over, differences decided with --decide."""
    saved = open_project(ctx).assessment_consensus(
        site, at, framework, _pairs(decide, "decision"), rater, note, replace
    )
    done(f"Recorded {len(saved)} consensus rating(s) of {site} on {at}.")


@assess_app.command("anchors")
def anchors(
    ctx: typer.Context,
    framework: str = FRAMEWORK_OPTION,
    set_: list[str] = typer.Option(None, "--set", help="VALUE=LABEL; repeatable."),
    reset: bool = typer.Option(False, "--reset", help="Back to the framework file's anchors."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show or set the scale anchors used for this project's ratings."""
    project = open_project(ctx)
    if set_ or reset:
        fw = project.set_scale_anchors(framework, {} if reset else _pairs(set_, "anchor"))
    else:
        fw = project.rating_framework(framework)
    scale = fw.scale
    if as_json:
        print_json({"min": scale.minimum, "max": scale.maximum, "anchors": scale.anchors})
    else:
        for k, v in sorted(scale.anchors.items()):
            console.print(f"{k}  {v}")


@app.command("profile")
def profile(
    ctx: typer.Context,
    site: str = typer.Argument(None, help="One site (default: all rated sites)."),
    framework: str = FRAMEWORK_OPTION,
    fmt: str = typer.Option(None, "--format", help="html, md or xlsx (writes a file)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default profiles.FORMAT)."),
    at: str = typer.Option(None, "--at", help="Latest assessment on or before this date."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Site sustainability profiles: scores, missing and weak components, change, risks."""
    project = open_project(ctx)
    if fmt or out:
        fmt = fmt or (out.suffix.lstrip(".") if out else "html")
        path = project.write_profiles(
            fmt, out or Path(f"profiles.{fmt}"), site=site, framework=framework, at=at
        )
        done(f"Wrote {path}")
        return
    sites = project.site_profiles(framework, at)
    chosen = [sites.profile(project.case(site).key)] if site else sites.profiles
    if as_json:
        print_json([p.to_dict() for p in chosen])
        return
    if not chosen:
        console.print("No site has been rated yet.")
        return
    if sites.notice:
        console.print(f"[bold]{sites.notice}[/bold]")
    for p in chosen:
        levels = ", ".join(f"{lv.level} {lv.score:g}/{lv.maximum}" for lv in p.levels)
        change = f" ({p.total_change:+g} since {p.previous_on})" if p.previous_on else ""
        console.print(
            f"\n[bold]{p.label} ({p.site})[/bold] {p.assessed_on}: total {p.total:g}/"
            f"{p.total_max}{change}; {levels}"
        )
        for q, comp, a in p.key_questions:
            console.print(f"  {q} {a} ({comp})", markup=False)
        for r in p.risks:
            console.print(f"  - {r}", markup=False)
