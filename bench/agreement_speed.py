"""Speed of meaning-unit agreement: 1,000 documents x 3 coders x 100,000 codings.

Builds a synthetic coded-segment dataset (FORMATS.md) in a temporary folder — 1,000 documents of
30 segments each, a codebook of 60 codes with skewed frequencies, three coders who agree with a
shared "true" coding most of the time — then times, separately:

1. reading the folder with read_coded_dataset,
2. matrix_from_dataset (all coders, all codes),
3. per_code_agreement with 1,000 bootstrap resamples over units, all codes at once.

Goal (issue): the whole computation in under 10 s. Run:
    .venv/bin/python bench/agreement_speed.py [--codes 60] [--bootstrap 1000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from caseframe.analysis.agreement import matrix_from_dataset, per_code_agreement
from caseframe.interop.coded_dataset import read_coded_dataset


def write_dataset(
    folder: Path, documents: int, per_doc: int, codes: int, codings: int, seed: int
) -> int:
    rng = np.random.default_rng(seed)
    units = documents * per_doc
    names = [f"code{k:03d}" for k in range(codes)]
    with open(folder / "codebook.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["code"])
        w.writerows([n] for n in names)
    with open(folder / "segments.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "document"])
        for u in range(units):
            w.writerow([f"s{u}", f"segment {u} text", f"doc{u // per_doc}"])
    # a shared "true" coding with Zipf-like code frequencies, about codings/3 per coder
    weights = 1 / np.arange(1, codes + 1)
    weights /= weights.sum()
    per_coder = codings // 3
    truth_unit = rng.integers(0, units, per_coder)
    truth_code = rng.choice(codes, per_coder, p=weights)
    rows = 0
    with open(folder / "codings.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["segment_id", "coder", "code"])
        for coder in ("ana", "ben", "cai"):
            unit, code = truth_unit.copy(), truth_code.copy()
            swap = rng.random(per_coder) < 0.2  # each coder departs from the truth 20% of the time
            unit[swap] = rng.integers(0, units, swap.sum())
            code[swap] = rng.choice(codes, swap.sum(), p=weights)
            for u, k in zip(unit, code, strict=True):
                w.writerow([f"s{u}", coder, names[k]])
                rows += 1
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="agreement speed benchmark")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--per-doc", type=int, default=30)
    parser.add_argument("--codes", type=int, default=60)
    parser.add_argument("--codings", type=int, default=100_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = write_dataset(
            folder, args.documents, args.per_doc, args.codes, args.codings, args.seed
        )
        t0 = time.perf_counter()
        dataset = read_coded_dataset(folder)
        t1 = time.perf_counter()
        matrix = matrix_from_dataset(dataset)
        t2 = time.perf_counter()
        report = per_code_agreement(matrix, bootstrap=args.bootstrap, seed=args.seed)
        t3 = time.perf_counter()
    print(
        f"{args.documents} documents x {args.per_doc} segments = {len(matrix.units)} units, "
        f"3 coders, {args.codes} codes, {rows} codings, {args.bootstrap} bootstrap resamples"
    )
    print(f"read_coded_dataset   {t1 - t0:6.2f} s")
    print(f"matrix_from_dataset  {t2 - t1:6.2f} s")
    print(f"per_code_agreement   {t3 - t2:6.2f} s")
    print(f"total                {t3 - t0:6.2f} s")
    alpha = report.overall["krippendorff_alpha"]
    print(f"(pooled alpha {alpha:.3f}; {len(report.per_code)} codes reported)")


if __name__ == "__main__":
    main()
