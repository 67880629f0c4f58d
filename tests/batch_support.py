"""Helpers for the batch and model-file tests: NHS comments as a dataset, a batch input file and
a small trained model (real comments from ../shared/data/nhs-patient-experience)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

CODES = [
    "Positive experience & gratitude",
    "Staff manner & personal attributes",
    "Timeliness of care",
    "Transport to/ from services",
    "Contacting services",
    "Labelling not possible",
]
KEY_HEX = "5a" * 32  # a fixed model-signing key for tests (set as $CASEFRAME_MODEL_KEY)
SITES = ["North", "South", "East"]
MONTHS = ["2021-10", "2021-11", "2021-12", "2022-01"]


def nhs_comments(shared: Path) -> pd.DataFrame:
    """Every non-blank NHS comment with the test codes as 0/1 columns, in file order."""
    frame = pd.read_csv(shared / "data" / "nhs-patient-experience" / "neas_comments.csv", dtype=str)
    frame = frame[frame["FFT answer"].fillna("").str.strip() != ""].reset_index(drop=True)
    out = pd.DataFrame(
        {"id": frame["Comment ID"], "text": frame["FFT answer"].map(lambda t: " ".join(t.split()))}
    )
    for code in CODES:
        out[code] = frame[code].fillna("").str.strip().isin(["1", "1.0"]).astype(int)
    return out


def write_dataset(comments: pd.DataFrame, folder: Path) -> Path:
    """A coded-segment dataset (FORMATS.md) of the comments, coder `labeller`."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "codebook.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "definition"])
        w.writerows([c, ""] for c in CODES)
    comments[["id", "text"]].assign(split="train").to_csv(folder / "segments.csv", index=False)
    rows = [(r.id, "labeller", c) for c in CODES for r in comments[comments[c] == 1].itertuples()]
    with open(folder / "codings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["segment_id", "coder", "code"])
        w.writerows(rows)
    return folder


def batch_input(comments: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The comments as a batch input CSV with site and month columns (assigned in turn)."""
    frame = pd.DataFrame(
        {
            "id": comments["id"],
            "site": [SITES[i % len(SITES)] for i in range(len(comments))],
            "month": [MONTHS[(i // 7) % len(MONTHS)] for i in range(len(comments))],
            "text": comments["text"],
        }
    )
    frame.to_csv(path, index=False)
    return frame


def train_model(shared: Path, folder: Path, n: int = 900, folds: int = 3) -> Path:
    """A supervised model trained on the first `n` comments, saved signed with KEY_HEX."""
    from caseframe.batch.training import from_dataset, train
    from caseframe.suggest.modelfile import save_model

    data = write_dataset(nhs_comments(shared).iloc[:n], folder / "train-set")
    fitted, summary, cv = train("supervised", {}, from_dataset(data), folds=folds)
    out = folder / "model.cfm"
    save_model(
        out,
        fitted,
        settings={"method": "supervised", "options": {}, "folds": folds, "seed": 0},
        training=summary,
        cv=cv,
        key=bytes.fromhex(KEY_HEX),
    )
    return out
