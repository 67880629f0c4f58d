"""Convert the NHS patient-experience comments (NEAS trust) to a coded-segment dataset.

Input: shared/data/nhs-patient-experience/neas_comments.csv (50 one-hot framework labels) and
framework_v3_codebook.qmd (definitions and examples). Output: bench/out/nhs/ with a train/test
split by respondent (20 % of respondents held out, fixed seed). Comments with a blank answer are
left out (the format needs a text, and the NHS team's loader drops them too); the 1,189 answers
that read "Did not answer" stay in, coded "Labelling not possible" as in the source. The labeller
is the one coder, named `labeller`.

The CSV uses the finer label set of the framework's earlier revision; labels that the v3 codebook
merged take the merged category's definition and examples (MERGED below), and labels it dropped
keep only their name.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from _common import OUT, shared_path, split_groups, write_dataset

MERGED = {
    "Number & deployment of staff": "Staffing levels & responsiveness",
    "Staff responsiveness": "Staffing levels & responsiveness",
    "Staff continuity": "Continuity of care",
    "Diagnosis & triage": "Continuity of care",
    "Referals & continuity of care": "Continuity of care",
    "Care plans": "Continuity of care",
    "Environment & Facilities": "Environment, facilities & equipment",
    "Provision of medical equipment": "Environment, facilities & equipment",
}
FIRST_LABEL_COLUMN = 11


def parse_codebook(text: str) -> dict[str, tuple[str, list[str], str]]:
    """title -> (definition, examples, group) from the framework's Quarto page."""
    out: dict[str, tuple[str, list[str], str]] = {}
    group = ""
    for block in re.split(r"\n(?=#{2,3} )", text):
        head, _, body = block.partition("\n")
        if head.startswith("## "):
            group = head[3:].strip()
            continue
        if not head.startswith("### "):
            continue
        body = body.split("\n:::")[0]
        definition, _, ex_block = body.partition("Examples:")
        examples: list[str] = []
        for line in ex_block.splitlines():
            line = re.sub(r"^\s*[A-Za-z][\w/ ]{0,25}:\s", "", line.strip())
            for piece in re.split(r"['‘’]\s*,\s*['‘’]", line):
                piece = piece.strip().strip("'‘’").strip().replace("|", "/")
                if len(piece) > 1:
                    examples.append(piece)
        definition = " ".join(definition.split())
        out[head[4:].strip()] = (definition, examples, group)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(OUT / "nhs"))
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    folder = shared_path("data", "nhs-patient-experience")
    frame = pd.read_csv(folder / "neas_comments.csv", dtype=str)
    labels = list(frame.columns[FIRST_LABEL_COLUMN:])
    book = parse_codebook((folder / "framework_v3_codebook.qmd").read_text(encoding="utf-8"))

    codebook = []
    for label in labels:
        definition, examples, _ = book.get(MERGED.get(label, label), ("", [], ""))
        codebook.append({"code": label, "definition": definition, "examples": " | ".join(examples)})

    frame = frame[frame["FFT answer"].fillna("").str.strip() != ""]
    split = split_groups(frame["Respondent ID"].tolist(), args.test_fraction, args.seed)
    segments, codings = [], []
    for _, row in frame.iterrows():
        sid = row["Comment ID"]
        segments.append(
            {
                "id": sid,
                "text": " ".join(row["FFT answer"].split()),
                "document": row["Respondent ID"],
                "split": split[row["Respondent ID"]],
            }
        )
        for label in labels:
            if str(row[label]).strip() in {"1", "1.0"}:
                codings.append({"segment_id": sid, "coder": "labeller", "code": label})
    out = write_dataset(Path(args.out), codebook, segments, codings)
    n_test = sum(s["split"] == "test" for s in segments)
    print(
        f"{out}: {len(codebook)} codes, {len(segments)} comments ({n_test} test), "
        f"{len(codings)} codings"
    )


if __name__ == "__main__":
    main()
