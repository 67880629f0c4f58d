"""Agreement on AnnoMI's seven conversations coded by all ten experts.

Reads ../shared/data/annomi/AnnoMI-full.csv (see its PROVENANCE.md), keeps transcripts
7, 27, 55, 56, 66, 109, 130, and reports for therapist behaviour (4 classes, therapist turns)
and client talk type (3 classes, client turns):

* multi-class nominal Krippendorff's alpha and Fleiss' kappa (PROVENANCE anchors: 0.737, 0.467);
* one binary "code" per class (applied / not applied per turn) through
  caseframe.analysis.agreement.per_code_agreement, with 1,000 bootstrap resamples.

Run: .venv/bin/python bench/agreement_annomi.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from caseframe.analysis.agreement import CodingMatrix, UnitInfo, per_code_agreement
from caseframe.analysis.agreement_stats import (
    fleiss_kappa,
    krippendorff_alpha_nominal,
    ratings_to_counts,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"
TEN_CODER_TRANSCRIPTS = (7, 27, 55, 56, 66, 109, 130)
LABELS = {
    "main_therapist_behaviour": (
        "therapist",
        ("reflection", "question", "therapist_input", "other"),
    ),
    "client_talk_type": ("client", ("change", "neutral", "sustain")),
}
ANCHORS = {"main_therapist_behaviour": 0.737, "client_talk_type": 0.467}


def load(path: Path = DATA) -> pd.DataFrame:
    if not path.is_file():
        raise SystemExit(f"AnnoMI data not found at {path}; see shared/data/annomi/PROVENANCE.md")
    frame = pd.read_csv(path)
    return frame[frame["transcript_id"].isin(TEN_CODER_TRANSCRIPTS)]


def label_table(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """units (transcript, utterance) x annotators -> label (NaN where an expert gave none)."""
    speaker, _ = LABELS[column]
    rows = frame[frame["interlocutor"] == speaker]
    table = rows.pivot_table(
        index=["transcript_id", "utterance_id"],
        columns="annotator_id",
        values=column,
        aggfunc="first",
    )
    return table.sort_index()


def multiclass(table: pd.DataFrame, classes: tuple[str, ...]) -> dict:
    codes = {c: float(i) for i, c in enumerate(classes)}
    data = table.apply(lambda col: col.map(codes)).to_numpy(dtype=float).T  # coders x units
    alpha = krippendorff_alpha_nominal(data)
    counts, _ = ratings_to_counts(data, categories=list(codes.values()))
    return {
        "units": alpha.units,
        "coders": int(data.shape[0]),
        "krippendorff_alpha": alpha.value,
        "fleiss_kappa": fleiss_kappa(counts).value,
    }


def binary_matrix(frame: pd.DataFrame, table: pd.DataFrame, classes: tuple[str, ...]):
    texts = frame.drop_duplicates(["transcript_id", "utterance_id"]).set_index(
        ["transcript_id", "utterance_id"]
    )["utterance_text"]
    units = [UnitInfo(f"{t}:{u}", str(t), str(texts.get((t, u), ""))) for t, u in table.index]
    labels = table.to_numpy(dtype=object)
    seen = pd.notna(table).to_numpy()
    applied = np.stack([labels == c for c in classes], axis=2) & seen[:, :, None]
    coders = [f"expert{int(c)}" for c in table.columns]
    return CodingMatrix(units, coders, list(classes), applied, seen)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args(argv)
    frame = load()
    results = {}
    for column, (_, classes) in LABELS.items():
        table = label_table(frame, column)
        multi = multiclass(table, classes)
        started = time.perf_counter()
        report = per_code_agreement(binary_matrix(frame, table, classes), bootstrap=args.bootstrap)
        seconds = time.perf_counter() - started
        results[column] = {
            "multiclass": multi,
            "anchor_alpha": ANCHORS[column],
            "binary": report.to_json(),
            "seconds": seconds,
        }
        print(f"\n{column}: {multi['units']} units, {multi['coders']} coders")
        print(
            f"  multi-class alpha = {multi['krippendorff_alpha']:.3f} "
            f"(PROVENANCE anchor {ANCHORS[column]:.3f}), Fleiss kappa = {multi['fleiss_kappa']:.3f}"
        )
        print(
            f"  {'class':<16} {'alpha':>6} {'95% CI':>15} {'Fleiss':>7} {'AC1':>6} {'agree':>6} "
            f"{'share':>6}"
        )
        for row in report.per_code:
            v, ci = row.values, row.ci["krippendorff_alpha"]
            share = float(np.mean(list(row.prevalence.values())))
            print(
                f"  {row.code:<16} {v['krippendorff_alpha']:6.3f} "
                f"{f'{ci[0]:.3f}-{ci[1]:.3f}' if ci else '-':>15} {v['fleiss_kappa']:7.3f} "
                f"{v['gwet_ac1']:6.3f} {v['percent_agreement']:6.3f} {share:6.3f}"
            )
        print(f"  ({args.bootstrap} bootstrap resamples in {seconds:.2f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
