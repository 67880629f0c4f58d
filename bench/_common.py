"""Shared helpers for the bench converters: paths and writing a coded-segment folder."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUT = REPO / "bench" / "out"


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        sys.exit(f"{path}: not found; the shared data folder must sit beside the repository")
    return path


def write_dataset(
    folder: Path,
    codebook: list[dict[str, str]],
    segments: list[dict[str, str]],
    codings: list[dict[str, str]],
) -> Path:
    """Write codebook.csv, segments.csv, codings.csv (FORMATS.md) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "codebook.csv": (["code", "definition", "examples", "parent"], codebook),
        "segments.csv": (["id", "text", "document", "speaker", "split"], segments),
        "codings.csv": (["segment_id", "coder", "code"], codings),
    }
    for name, (columns, rows) in tables.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    return folder


def split_groups(groups: list[str], test_fraction: float, seed: int) -> dict[str, str]:
    """Assign whole groups (respondents, conversations) to train/test with a fixed seed."""
    import numpy as np

    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    n_test = round(test_fraction * len(unique))
    test = {unique[i] for i in order[:n_test]}
    return {g: ("test" if g in test else "train") for g in unique}
