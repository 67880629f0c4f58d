"""How fast does `batch suggest` run, how does it scale with workers, how much memory per worker?

Data: N synthetic comments (default 1,000,000) made by resampling the real NHS patient-experience
comments (../shared/data/nhs-patient-experience, non-blank answers, with replacement, seed 0),
each with a site (32) and a month (24) column, written as one Parquet file with row groups of
50,000 rows. Model: the `supervised` method fitted on the NHS coded-segment dataset's train
split (bench/convert_nhs.py, 50 codes, no cross-validation: only prediction is measured).

Method: for each worker count (default 1 and 2) a fresh local Dask cluster (processes, one
thread each) runs `batch suggest` over the first `--rows-N` rows (default: all) into a fresh
folder, partitions of 50,000 rows. Timed: wall clock from submitting the first partition to the
last marker (the cluster is started and the model broadcast before the clock starts), and the
per-partition worker seconds from the markers. Peak memory: each worker's maximum resident set
size (getrusage) read from the workers after the run. Projection for 10 million rows on a
32-core cluster: 10,000,000 ÷ (32 × the measured rows per worker-second), which assumes the
per-core rate holds and ignores start-up and the scheduler (a few seconds).

Usage: .venv/bin/python bench/batch_scale.py [--rows 1000000] [--workers 1,2]
           [--limit 1=250000] [--out bench/out/batch]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import OUT, shared_path

SITES = 32
MONTHS = pd.period_range("2022-01", periods=24, freq="M").astype(str).tolist()


def build(rows: int, out: Path) -> Path:
    path = out / f"comments-{rows}.parquet"
    if path.is_file():
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(
        shared_path("data", "nhs-patient-experience") / "neas_comments.csv", dtype=str
    )
    texts = frame["FFT answer"].fillna("").map(lambda t: " ".join(t.split()))
    texts = texts[texts != ""].to_numpy()
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(texts), rows)
    table = pa.table(
        {
            "id": [f"c{i:08d}" for i in range(rows)],
            "site": [f"Site {s:02d}" for s in rng.integers(1, SITES + 1, rows)],
            "month": [MONTHS[m] for m in rng.integers(0, len(MONTHS), rows)],
            "text": texts[pick],
        }
    )
    pq.write_table(table, path, row_group_size=50_000)
    return path


def model(out: Path) -> Path:
    from caseframe.batch.training import from_dataset, train
    from caseframe.suggest.modelfile import save_model

    path = out / "nhs.cfm"
    if path.is_file():
        return path
    dataset = OUT / "nhs"
    if not (dataset / "segments.csv").is_file():
        raise SystemExit("run bench/convert_nhs.py first (it writes bench/out/nhs)")
    fitted, summary, cv = train("supervised", {}, from_dataset(dataset), folds=0)
    settings = {"method": "supervised", "options": {}, "folds": 0, "seed": 0}
    save_model(path, fitted, settings=settings, training=summary, cv=cv, key=KEY)
    return path


KEY = bytes.fromhex("be" * 32)  # the bench signs and loads its own model


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(data: Path, model_path: Path, workers: int, rows: int | None, out: Path) -> dict:
    from caseframe.batch import inputs, runner
    from caseframe.batch.cluster import connect
    from caseframe.batch.suggest_run import run_settings, suggest_partition
    from caseframe.suggest.modelfile import load_model

    loaded = load_model(model_path, KEY)
    parts = inputs.plan([data], 50_000)
    if rows:
        kept, total = [], 0
        for p in parts:
            if total >= rows:
                break
            kept.append(p)
            total += p.rows
        parts = kept
    folder = out / f"run-{workers}w"
    shutil.rmtree(folder, ignore_errors=True)
    settings = run_settings(loaded, "text", "id", ["site", "month"], keep_text=False)
    todo, _ = runner.prepare(folder, "suggest", parts, [], settings, resume=False)
    with connect(workers) as client:
        client.run(lambda: None)  # workers up before the clock starts
        start = time.perf_counter()
        markers = runner.run(
            client, "suggest", todo, suggest_partition, loaded.method, folder, settings
        )
        wall = time.perf_counter() - start
        peaks = client.run(_peak_rss_mib)
    done = sum(m["rows"] for m in markers)
    busy = sum(m["seconds"] for m in markers)
    return {
        "workers": workers,
        "rows": done,
        "partitions": len(markers),
        "wall_s": round(wall, 1),
        "rows_per_s": round(done / wall, 1),
        "rows_per_worker_s": round(done / busy, 1),
        "peak_rss_mib_per_worker": sorted(round(v) for v in peaks.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument(
        "--limit", action="append", default=[], help="W=ROWS: run W workers on ROWS rows only"
    )
    ap.add_argument("--out", default=str(OUT / "batch"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    limits = {int(w): int(r) for w, r in (item.split("=") for item in args.limit)}
    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}")
    start = time.perf_counter()
    data = build(args.rows, out)
    print(f"data: {data} ({args.rows:,} rows) ready in {time.perf_counter() - start:.0f} s")
    model_path = model(out)
    results = []
    for w in (int(x) for x in args.workers.split(",")):
        r = measure(data, model_path, w, limits.get(w), out)
        r["load_after"] = [round(v, 2) for v in os.getloadavg()]
        results.append(r)
        print(json.dumps(r))
    base = results[0]
    for r in results[1:]:
        ratio = r["rows_per_s"] / base["rows_per_s"]
        print(f"scaling {base['workers']}→{r['workers']} workers: {ratio:.2f}× rows/s")
    per_core = max(r["rows_per_worker_s"] for r in results)
    best = min(r["rows_per_worker_s"] for r in results)
    print(
        f"10 M rows on 32 cores at {best:,.0f}–{per_core:,.0f} rows per worker-second: "
        f"{10_000_000 / (32 * per_core) / 60:.1f}–{10_000_000 / (32 * best) / 60:.1f} min"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
