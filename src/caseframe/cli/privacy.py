"""`caseframe privacy ...`: the key file, the name registry, scan and apply.

The key path comes from --key or $CASEFRAME_KEY and must lie outside the project folder; the
passphrase from $CASEFRAME_KEY_PASSPHRASE or a hidden prompt. Logic lives in the API
(caseframe.api.privacy); these commands parse, prompt and print.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from caseframe.cli.app import JSON_OPTION, app, open_project
from caseframe.cli.output import console, print_json, warn
from caseframe.errors import InvalidInput
from caseframe.privacy.settings import KEY_ENV, PASSPHRASE_ENV

privacy_app = typer.Typer(
    help="Confidentiality: find names and identifiers, replace them with pseudonyms, keep the key."
)
app.add_typer(privacy_app, name="privacy")
key_app = typer.Typer(help="The encrypted key file (real value -> pseudonym).")
privacy_app.add_typer(key_app, name="key")
registry_app = typer.Typer(help="Names to hide, kept in the key file (never in the store).")
privacy_app.add_typer(registry_app, name="registry")

KEY_OPTION = typer.Option(
    None, "--key", "-k", help=f"Key file, outside the project (default: ${KEY_ENV})."
)


def key_path(key: Path | None) -> Path:
    if key is not None:
        return key
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    raise InvalidInput(
        "no key file given",
        hint=f"pass --key PATH (outside the project folder) or set ${KEY_ENV}",
    )


def passphrase(confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    return typer.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm)


def open_key(project, key: Path | None):
    """The opened key file of --key / $CASEFRAME_KEY (used by `import --pseudonymise` too)."""
    path = project.check_private_path(key_path(key))
    return project.open_key(path, passphrase())


def confirm_proposals(file_name: str, items) -> bool:
    """Show a file's proposals and ask whether to import it with them."""
    _print_items(items)
    return typer.confirm(f"Import {file_name} with these {len(items)} replacements?")


def _items_frame(items):
    import pandas as pd

    return pd.DataFrame.from_records(
        [
            {
                "document": i.document,
                "category": i.detection.category,
                "source": i.detection.source,
                "text": i.detection.text,
                "pseudonym": i.pseudonym,
                "context": i.detection.context,
            }
            for i in items
        ],
        columns=["document", "category", "source", "text", "pseudonym", "context"],
    )


def print_plain_frame(frame, title: str, empty: str) -> None:
    """A table whose cells are shown literally: "[Town 2]" is a pseudonym, not Rich markup."""
    from rich.table import Table
    from rich.text import Text

    if frame.empty:
        console.print(empty, markup=False)
        return
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col))
    for row in frame.itertuples(index=False):
        table.add_row(*[Text(str(v)) for v in row])
    console.print(table)


def done(message: str) -> None:
    console.print(message, markup=False, highlight=False)


def _print_items(items) -> None:
    """One proposal per line (a table would cut the context on a narrow terminal)."""
    if not items:
        console.print("Nothing to replace.")
        return
    console.print(f"Proposed replacements ({len(items)}):")
    for i in items:
        d = i.detection
        console.print(
            f"  {i.document} [{d.start}:{d.end}] {d.category} ({d.source}): "
            f"{d.text!r} -> {i.pseudonym}    {d.context}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


# -- key --------------------------------------------------------------------------------------


@key_app.command("create")
def key_create(ctx: typer.Context, key: Path = KEY_OPTION) -> None:
    """Create a new, empty key file (asks for the passphrase twice)."""
    project = open_project(ctx)
    path = project.check_private_path(key_path(key))
    project.create_key(path, passphrase(confirm=True))
    done(f"created key file {path}; keep it and its passphrase apart from the project")


@key_app.command("passphrase")
def key_passphrase(ctx: typer.Context, key: Path = KEY_OPTION) -> None:
    """Change the key file's passphrase."""
    keyfile = open_key(open_project(ctx), key)
    new = typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    keyfile.change_passphrase(new)
    done("passphrase changed")


@privacy_app.command("reidentify")
def reidentify(
    ctx: typer.Context,
    pseudonym: str = typer.Argument(..., help='A label such as "Town 2" or "[Town 2]".'),
    key: Path = KEY_OPTION,
) -> None:
    """Print the real value(s) behind a pseudonym."""
    keyfile = open_key(open_project(ctx), key)
    found = keyfile.book.reidentify(pseudonym)
    if not found:
        raise InvalidInput(f"no value has the pseudonym {pseudonym}")
    for a in found:
        console.print(f"{a.pseudonym}\t{a.category}\t{a.value}", markup=False)


# -- registry ---------------------------------------------------------------------------------


@registry_app.command("add")
def registry_add(
    ctx: typer.Context,
    value: str = typer.Argument(..., help="The real name as written."),
    category: str = typer.Option(
        ..., "--category", "-c", help="respondent, site, person, place or organisation"
    ),
    pseudonym: str = typer.Option(None, "--pseudonym", help='Fixed label, e.g. "Manager A3".'),
    variant: list[str] = typer.Option(None, "--variant", help="Another spelling or short form."),
    key: Path = KEY_OPTION,
) -> None:
    """Add a name to the key's registry."""
    project = open_project(ctx)
    keyfile = open_key(project, key)
    entry = project.register_name(keyfile, value, category, pseudonym, variant or ())
    done(f"added {entry.category} -> {keyfile.book.lookup(entry.value, entry.category)}")


@registry_app.command("import")
def registry_import(
    ctx: typer.Context,
    names: Path = typer.Argument(..., help="CSV: value,category[,pseudonym[,variant|variant]]"),
    key: Path = KEY_OPTION,
) -> None:
    """Add a list of names (staff, places, organisations) to the key; all or nothing."""
    project = open_project(ctx)
    count = project.import_names(open_key(project, key), names)
    done(f"added {count} names to the key")
    warn(f"{names} holds real names: keep it with the key file or delete it")


@registry_app.command("from-cases")
def registry_from_cases(
    ctx: typer.Context,
    attr: str = typer.Option("real_name", "--attr", help="Case attribute holding a real name."),
    category: str = typer.Option(None, "--category", help="Default: from the case kind."),
    key: Path = KEY_OPTION,
) -> None:
    """Move real names from a case attribute into the key and delete the attribute."""
    project = open_project(ctx)
    entries = project.names_from_cases(open_key(project, key), attr, category)
    done(f"moved {len(entries)} names into the key; attribute '{attr}' deleted from the store")


@registry_app.command("list")
def registry_list(ctx: typer.Context, key: Path = KEY_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List the registry with each name's pseudonym (prints real names)."""
    import pandas as pd

    keyfile = open_key(open_project(ctx), key)
    frame = pd.DataFrame.from_records(
        [
            {
                "value": e.value,
                "category": e.category,
                "pseudonym": keyfile.book.lookup(e.value, e.category) or "",
                "variants": " | ".join(e.variants),
            }
            for e in keyfile.registry
        ],
        columns=["value", "category", "pseudonym", "variants"],
    )
    print_json(frame) if as_json else print_plain_frame(frame, "Registry", "No names yet.")


# -- scan and apply ---------------------------------------------------------------------------


@privacy_app.command("scan")
def scan_cmd(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="Files to scan before import (default: store)."),
    documents: list[str] = typer.Option(None, "--document", "-d", help="Only these documents."),
    no_fields: bool = typer.Option(
        False, "--no-fields", help="Skip names, labels, memos; scan transcripts only."
    ),
    ner: str = typer.Option(None, "--ner", help="spaCy pipeline (package or folder) for NER."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Review list (default: next to the key file)."
    ),
    key: Path = KEY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List every proposed replacement and write the review list for `privacy apply`."""
    from caseframe.privacy import load_ner

    project = open_project(ctx)
    keyfile = open_key(project, key)
    ner_fn = load_ner(ner) if ner else None
    if files:
        from caseframe.ingest import read_document

        texts = {f.name: read_document(f).text for f in files}
        items = project.scan_texts(keyfile, texts, ner=ner_fn)
    else:
        items = project.privacy_scan(keyfile, documents or None, fields=not no_fields, ner=ner_fn)
    out = out or keyfile.path.with_name(f"{keyfile.path.stem}-review.csv")
    path = project.write_privacy_review(out, items)
    if as_json:
        print_json(_items_frame(items))
    else:
        _print_items(items)
        console.print(f"{len(items)} proposals written to {path}", markup=False)
    warn(
        f"{path} holds real names (mode 0600): set accept to yes/no, then run "
        f"'caseframe privacy apply {path}', and delete the file afterwards"
    )


@privacy_app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    review: Path = typer.Argument(..., help="The review list from `privacy scan`."),
    key: Path = KEY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Apply the accepted replacements to the project, keeping every coding on its text."""
    project = open_project(ctx)
    summary = project.apply_privacy_review(open_key(project, key), review)
    if as_json:
        print_json(summary)
        return
    done(
        f"{summary.replacements} replacements: {summary.documents} documents "
        f"({summary.codings} codings remapped), {summary.fields} other fields, "
        f"{summary.scrubbed} speaker names and log entries; store compacted"
    )
    warn(f"delete {review} now: it holds the real names")


def pseudonymising_import(project, key: Path | None, yes: bool, progress):
    """`project.import_documents` with names replaced first (for `import --pseudonymise`).

    The progress bar is paused while the passphrase or a confirmation is asked for.
    """
    from functools import partial

    progress.stop()
    try:
        keyfile = open_key(project, key)
    finally:
        progress.start()

    def confirm(file_name: str, items) -> bool:
        progress.stop()
        try:
            return confirm_proposals(file_name, items)
        finally:
            progress.start()

    return partial(project.import_pseudonymised, key=keyfile, confirm=None if yes else confirm)
