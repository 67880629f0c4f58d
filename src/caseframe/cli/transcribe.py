"""`caseframe transcribe AUDIO...`, `caseframe export document` (subtitles) and
`caseframe documents relabel`.

Import-light: faster-whisper, numpy and the transcription package load inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from caseframe.cli.app import app, open_project
from caseframe.cli.codings import export_app
from caseframe.cli.documents import docs_app
from caseframe.cli.output import console, err_console, warn


@app.command("transcribe")
def transcribe(
    ctx: typer.Context,
    audio: list[Path] = typer.Argument(..., help="Recordings: wav, mp3, m4a, ogg, flac."),
    model_path: Path = typer.Option(
        ...,
        "--model-path",
        help="Folder with a Whisper model converted for CTranslate2 (never downloaded).",
    ),
    language: str = typer.Option(
        "auto", "--language", help="sv, en, another Whisper code, or auto."
    ),
    case: str = typer.Option(None, "--case", help="Link each transcript to this case."),
    speakers: str = typer.Option(
        None,
        "--speakers",
        help='Turn labels, e.g. "Interviewer,Manager": the first two alternate as a first guess.',
    ),
    pseudonymise: bool = typer.Option(
        False,
        "--pseudonymise",
        help="Replace names before anything is stored, and mute them in the audio (needs a key).",
    ),
    key: Path = typer.Option(None, "--key", help="Key file for --pseudonymise ($CASEFRAME_KEY)."),
    yes: bool = typer.Option(False, "--yes", help="With --pseudonymise: accept every proposal."),
    pause: float = typer.Option(1.0, "--pause", help="Seconds of silence that start a new turn."),
    chunk_minutes: float = typer.Option(
        5.0, "--chunk-minutes", help="Audio decoded and saved for resuming at a time."
    ),
    state_dir: Path = typer.Option(
        None, "--state-dir", help="Where unfinished runs are kept (default: the user cache)."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
    compute_type: str = typer.Option("int8", "--compute-type", help="int8, float16, float32..."),
    threads: int = typer.Option(0, "--threads", help="CPU threads (0: up to 8)."),
    beam_size: int = typer.Option(1, "--beam-size", help="1 is fastest; 5 is Whisper's default."),
) -> None:
    """Transcribe recordings locally into documents linked to their audio."""
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from caseframe.transcribe.engine import Settings

    project = open_project(ctx)
    keyfile = confirm = None
    if pseudonymise:
        from caseframe.cli.privacy import confirm_proposals, open_key

        keyfile = open_key(project, key)
        confirm = None if yes else confirm_proposals
    settings = Settings(
        device=device, compute_type=compute_type, threads=threads, beam_size=beam_size
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[minutes]}"),
        TextColumn("{task.fields[speed]}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks: dict[Path, int] = {}

        def on_progress(p) -> None:
            if p.path not in tasks:
                tasks[p.path] = progress.add_task(p.path.name, total=p.total, minutes="", speed="")
            rtf = p.real_time_factor
            progress.update(
                tasks[p.path],
                completed=p.done,
                total=p.total,
                minutes=f"{p.done / 60:.1f}/{p.total / 60:.1f} min",
                speed=f"{1 / rtf:.1f}× real time" if rtf else "",
            )

        def paused_confirm(name, items):
            progress.stop()
            try:
                return confirm(name, items)
            finally:
                progress.start()

        results = project.transcribe(
            audio,
            model_path,
            language=language,
            case=case,
            speakers=speakers,
            key=keyfile,
            confirm=paused_confirm if confirm else None,
            pause=pause,
            chunk_seconds=chunk_minutes * 60,
            settings=settings,
            state_dir=state_dir,
            on_progress=on_progress,
        )
    failed = 0
    for r in results:
        if not r.ok:
            failed += 1
            err_console.print(f"error: {r.error}", markup=False, soft_wrap=True)
            continue
        speed = f", {1 / r.real_time_factor:.1f}× real time" if r.real_time_factor else ""
        resumed = f", resumed at {r.resumed_from / 60:.1f} min" if r.resumed_from else ""
        muted = f", {r.muted} names muted in the audio" if r.muted else ""
        console.print(
            f"transcribed {r.document}: {r.duration / 60:.1f} min ({r.language}), {r.words} words, "
            f"{r.turns} turns, {r.segments} timed passages{speed}{resumed}{muted}",
            markup=False,
        )
        if r.turns and not speakers:
            warn(f"{r.document}: turns are labelled 'Speaker'; relabel them in the web view")
    console.print(f"{len(results) - failed} transcribed, {failed} failed.")
    if failed:
        raise typer.Exit(1)


@export_app.command("document")
def export_document(
    ctx: typer.Context,
    document: str = typer.Argument(..., help="Document name or id."),
    fmt: str = typer.Option("vtt", "--format", "-f", help="vtt (WebVTT) or srt (SubRip)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: standard output)."),
) -> None:
    """Export a transcribed document as subtitles with its timings and speakers."""
    project = open_project(ctx)
    if out is None:
        typer.echo(project.subtitles(document, fmt), nl=False)
        return
    project.export_subtitles(document, fmt, out)
    console.print(f"wrote {out}", markup=False)


@docs_app.command("relabel")
def relabel(
    ctx: typer.Context,
    document: str = typer.Argument(..., help="Document name or id."),
    turn: int = typer.Argument(..., help="Turn number (0 is the first; see 'documents show')."),
    speaker: str = typer.Argument(..., help="The new speaker label."),
) -> None:
    """Give a speaker turn another label (recorded in the audit log)."""
    result = open_project(ctx).relabel_turn(document, turn, speaker)
    console.print(f"turn {result.index} is now '{result.speaker}'", markup=False)
