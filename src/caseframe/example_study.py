"""The bundled example study: Grim et al. (2022), rebuilt from its published text.

`examples/peer-support/` holds the data (cases, codes, the paper's quotes with their printed
attributions, illustrative SIS ratings). This module turns it into a project the normal way:
cases and codes are imported, one excerpt transcript per respondent is written and imported,
and each quote is coded by locating its exact text.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from caseframe.api import Project
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.util.csvfile import read_csv_rows

CODER = "Grim et al. (consensus)"
DEMO_MARK = ".caseframe-demo"
CITATION = (
    "Grim K, Bergmark M, Argentzell E, Rosenberg D. Managing Peer Support Workers in Swedish "
    "Mental Health Services – A Leadership Perspective on Implementation and Sustainability. "
    "Research Square preprint, 2022. doi:10.21203/rs.3.rs-1300247/v1. CC BY 4.0."
)


def example_data_dir() -> Path:
    here = Path(__file__).resolve()
    for base in (here.parents[2], Path.cwd()):
        candidate = base / "examples" / "peer-support"
        if (candidate / "quotes.csv").is_file():
            return candidate
    raise NotFound(
        "the example study's data (examples/peer-support) was not found",
        hint="run caseframe from a clone of the repository",
    )


@dataclass
class ExampleBuild:
    project: Project
    out: Path
    warnings: list[str] = field(default_factory=list)
    quotes: int = 0


def resolve_attribution(token: str, respondents: set[str]) -> tuple[str, str | None]:
    """A printed attribution to a respondent id, with a warning when it had to be corrected.

    Respondents are numbered per region (A1–A7, B8–B12, C13–C18). A reversed id ("12B") is read
    back; an id outside its region's numbers ("C6") is read as the only respondent of that
    region whose number ends in the printed digits.
    """
    token = token.strip()
    if token in respondents:
        return token, None
    reversed_id = re.fullmatch(r"(\d+)([A-Z])", token)
    if reversed_id and f"{reversed_id[2]}{reversed_id[1]}" in respondents:
        fixed = f"{reversed_id[2]}{reversed_id[1]}"
        return fixed, f"attribution '{token}' is written backwards; read as {fixed}"
    parts = re.fullmatch(r"([A-Z])(\d+)", token)
    if parts:
        region, digits = parts[1], parts[2]
        same_region = sorted((r for r in respondents if r.startswith(region)), key=_order)
        matches = [r for r in same_region if r[1:].endswith(digits)]
        if len(matches) == 1:
            span = f"{same_region[0]}–{same_region[-1]}" if same_region else "none"
            return matches[0], (
                f"attribution '{token}' is not a respondent id (region {region} has {span}); "
                f"read as {matches[0]}"
            )
    raise InvalidInput(f"attribution '{token}' names no respondent and cannot be resolved")


def build_example(out: str | Path, data: Path | None = None) -> ExampleBuild:
    data = data or example_data_dir()
    out = Path(out)
    project_dir = out / "project"
    if out.exists() and any(out.iterdir()):
        if not (out / DEMO_MARK).is_file():
            raise Conflict(
                "the folder exists and was not made by 'caseframe demo'",
                where=str(out),
                hint="choose another --out folder",
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARK).write_text("made by caseframe demo; rebuilt on every run\n")

    project = Project.init(project_dir, name="Managing peer support workers (Grim et al. 2022)")
    build = ExampleBuild(project, out)
    project.import_cases(data / "cases.csv")
    project.import_codes(data / "codes.csv", framework="sis")
    for code in project.codes():
        if code.description:
            project.add_memo("code", code.id, code.description, author=CODER, title=code.name)
    project.add_memo("project", None, CITATION, title="Source and licence")

    respondents = {c.key for c in project.cases() if c.kind == "respondent"}
    _header, rows = read_csv_rows(
        data / "quotes.csv", required=("quote", "attribution", "category")
    )
    per_respondent: dict[str, list[dict]] = {r: [] for r in sorted(respondents, key=_order)}
    for line, row in rows:
        for token in row["attribution"].split(","):
            key, warning = resolve_attribution(token, respondents)
            if warning:
                build.warnings.append(f"quotes.csv:{line}: {warning}")
            per_respondent[key].append(row)
        build.quotes += 1

    transcripts = out / "transcripts"
    transcripts.mkdir()
    codings, mapping = [], []
    for key, quotes in per_respondent.items():
        if not quotes:
            continue
        text = f"Published quotes of Manager {key} (Grim et al. 2022, CC BY 4.0)\n"
        seen: dict[str, int] = {}
        for row in quotes:
            quote = row["quote"]
            if quote not in seen:
                text += f"\n{key}: {quote}\n"
                seen[quote] = text.count(quote)  # occurrence of this passage in the document
            codings.append(
                {
                    "document": f"{key}.txt",
                    "code": row["category"],
                    "coder": CODER,
                    "quote": quote,
                    "occurrence": str(seen[quote]),
                    "valence": row.get("valence", ""),
                    "memo": row.get("note", ""),
                }
            )
        (transcripts / f"{key}.txt").write_text(text, encoding="utf-8")
        mapping.append({"file": f"{key}.txt", "case": key})
    _write_csv(out / "document-cases.csv", mapping)
    _write_csv(out / "codings.csv", codings)
    results = project.import_documents(
        sorted(transcripts.glob("*.txt")), mapping=out / "document-cases.csv"
    )
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise InvalidInput(f"the example transcripts did not import: {failed[0]}")
    project.import_codings(out / "codings.csv")
    # the paper's codings are the analysts' agreed result, not one independent coder's
    project.set_coder_role(CODER, "consensus")
    (out / "build.json").write_text(
        json.dumps({"quotes": build.quotes, "warnings": build.warnings}, indent=2),
        encoding="utf-8",
    )
    return build


EXAMPLE_NOTICE = (
    "Illustrative ratings: the example study (Grim et al. 2022) publishes no SIS ratings. These "
    "were made up from the paper's general findings to show site profiles and change over time; "
    "they are not data about the services."
)


def load_example_ratings(project: Project, *, actor: str | None = None) -> int:
    """The example study's illustrative SIS ratings (examples/peer-support/ratings.csv), with
    a notice saying so and risk wording for peer support workers."""
    project.set_profile_wording(
        "sis",
        risks={
            "C2": "supervision for the peer support worker",
            "O4": "defined role for the peer support worker",
            "T7": "training of staff before the peer support worker started",
        },
        notice=EXAMPLE_NOTICE,
        actor=actor,
    )
    return project.import_assessments(example_data_dir() / "ratings.csv", actor=actor)


def _order(key: str) -> tuple[str, int]:
    return key[0], int(key[1:]) if key[1:].isdigit() else 0


def _write_csv(path: Path, rows: list[dict]) -> None:
    import pandas as pd

    from caseframe.interop.tables import write_csv

    write_csv(pd.DataFrame.from_records(rows, columns=list(rows[0])), path)
