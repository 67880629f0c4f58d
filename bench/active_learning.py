"""Active learning proven by simulation, and the review queue's refit time.

For each dataset (coded-segment folders made by bench/convert_*.py in bench/out/), a simulated
coder labels the split=train units k at a time, either in the order `suggest next` asks for
(uncertainty and coverage) or at random, both from the same random start; `supervised` is refitted
after every k labels and scored on split=test (`caseframe bench active`). Printed: the learning
curves (macro-F1) and the labels each order needs to reach 90 % of the macro-F1 of a fit on the
whole pool. Full results: bench/out/active_results.json.

--queue-speed times the review queue's model (`caseframe.suggest.queue.QueueModel`) on NHS
comments: fitted on 5,000 human-coded units with 5,000 units pending, then refitted after each
batch of k = 10 decisions (on 10 random units and up to 10 different codes, decided as the NHS
coders did), as the web queue does: the classifiers of the codes decided on, then all scores.

    .venv/bin/python bench/active_learning.py [--only nhs] [--queue-speed]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import OUT, REPO

sys.path.insert(0, str(REPO / "src"))

# dataset -> (converter, k, start); k is about 5 % of the pool, so a curve has about 20 points
DATASETS = {
    "nhs": ("convert_nhs.py", 200, 200),
    "annomi-therapist": ("convert_annomi.py", 200, 200),
    "pdpilot": ("convert_pdpilot.py", 40, 40),
}


def ensure(name: str) -> Path:
    folder = OUT / name
    if not (folder / "codings.csv").exists():
        script = Path(__file__).with_name(DATASETS[name][0])
        subprocess.run([sys.executable, str(script)], check=True, cwd=script.parent)
    return folder


def simulate(name: str, seed: int = 0) -> dict:
    from caseframe.suggest.active import bench_active

    _, k, start = DATASETS[name]
    began = time.perf_counter()
    result = bench_active(
        ensure(name),
        k=k,
        start=start,
        seed=seed,
        on_progress=lambda m: print("  " + m, flush=True),
    )
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


def table(result: dict) -> str:
    active = {p["labels"]: p["macro_f1"] for p in result["curves"]["active"]}
    rand = {p["labels"]: p["macro_f1"] for p in result["curves"]["random"]}
    lines = ["| labels | active macro-F1 | random macro-F1 |", "|---|---|---|"]
    for n in sorted(set(active) | set(rand)):
        a = f"{active[n]:.3f}" if n in active else ""
        r = f"{rand[n]:.3f}" if n in rand else ""
        lines.append(f"| {n:,} | {a} | {r} |")
    return "\n".join(lines)


def queue_speed(k: int = 10, rounds: int = 5) -> dict:
    """Refit times of the review queue's model on 5,000 + 5,000 NHS comments."""
    import numpy as np

    from caseframe.interop.coded_dataset import read_coded_dataset
    from caseframe.suggest.evaluate import label_matrix
    from caseframe.suggest.queue import QueueModel

    data = read_coded_dataset(ensure("nhs"))
    segments = data.segments
    texts = [s.text for s in segments]
    Y = label_matrix(data, data.reference_coder(), [s.id for s in segments])
    n = min(5000, len(texts))
    rng = np.random.default_rng(0)
    # the pending units: the same comments again (a queue of 5,000)
    model = QueueModel(data.codebook, texts[:n], Y[:n], texts[:n], k=k)
    start = time.perf_counter()
    model.fit()
    fit_s = time.perf_counter() - start
    times = []
    for _ in range(rounds):
        units = rng.choice(n, size=k, replace=False)
        codes = rng.choice(np.flatnonzero(model.method.trained_), size=k)
        # a reviewer who decides as the NHS coders did; 10 decisions on up to 10 codes
        model.decide([(int(u), int(j), int(Y[u, j])) for u, j in zip(units, codes, strict=True)])
        times.append(model.retrain())
    return {
        "training_units": n,
        "pending_units": n,
        "k": k,
        "initial_fit_seconds": round(fit_s, 2),
        "refit_seconds": [round(t, 3) for t in times],
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(DATASETS))
    parser.add_argument("--queue-speed", action="store_true")
    parser.add_argument("--seed", type=int, default=0, help="the random start and order")
    args = parser.parse_args()
    out: dict = {}
    path = OUT / "active_results.json"
    if path.exists():
        out = json.loads(path.read_text(encoding="utf-8"))
    if args.queue_speed:
        out["queue_speed"] = queue_speed()
        print(json.dumps(out["queue_speed"], indent=1))
    else:
        for name in [args.only] if args.only else list(DATASETS):
            print(f"{name}:", flush=True)
            result = simulate(name, args.seed)
            out[name if not args.seed else f"{name} seed {args.seed}"] = result
            print(
                f"\n{name}: pool {result['pool_units']:,}, test {result['test_units']:,}, "
                f"whole-pool macro-F1 {result['full']['macro_f1']:.3f}, target "
                f"{result['target_macro_f1']:.3f}; labels to 90 %: {result['labels_to_90pct']} "
                f"({result['seconds']} s)\n"
            )
            print(table(result), flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
