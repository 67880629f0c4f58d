"""Run the suggestion benchmark on the real datasets and print a markdown table.

Converts the data first when bench/out/ lacks it (convert_nhs.py, convert_annomi.py,
convert_pdpilot.py), then measures: NHS (baseline, supervised with learning curve, zero-shot
definitions), AnnoMI (therapist behaviour and client talk; the 10-expert conversations with
human–human agreement beside the method), PDPilot (supervised and zero-shot from the memos), and the
seed study's quotes when examples/peer-support/ has them. Full results go to
bench/out/suggest_results.json.

    .venv/bin/python bench/suggest_real_data.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

from _common import OUT, REPO

sys.path.insert(0, str(REPO / "src"))
from caseframe.suggest.evaluate import bench_suggest  # noqa: E402

CONVERTERS = {
    "nhs": "convert_nhs.py",
    "annomi-therapist": "convert_annomi.py",
    "pdpilot": "convert_pdpilot.py",
}
KEYS = ("micro_f1", "macro_f1", "mean_kappa", "mean_ac1")
# settings of `supervised` compared by cross-validation on the NHS training split (--cv)
CV_SETTINGS: dict[str, dict] = {
    "default": {},
    "logreg": {"model": "logreg", "C": 1.0},
    "svm C=1": {"C": 1.0},
    "svm C=0.1": {"C": 0.1},
    "shrink 5": {"shrink": 5.0},
    "shrink 60": {"shrink": 60.0},
    "stack (label co-occurrence)": {"stack": True},
    "char 2-5": {"char_ngrams": (2, 5)},
    "no definitions": {"use_definitions": False},
}


def ensure(name: str) -> Path:
    folder = OUT / name
    if not (folder / "codings.csv").exists():
        script = Path(__file__).with_name(CONVERTERS[name])
        subprocess.run([sys.executable, str(script)], check=True, cwd=script.parent)
    return folder


def row(label: str, r: dict, extra: str = "") -> str:
    cells = [f"{r[k]:.3f}" for k in KEYS]
    speed = f"{r['units_per_second']:,.0f}"
    return f"| {label} | {' | '.join(cells)} | {speed} | {r['fit_seconds']:.1f} | {extra} |"


def speed_row(folder: Path) -> str:
    """Fit the default method on every NHS comment (about 5,000) and predict them all."""
    import time

    from caseframe.interop.coded_dataset import read_coded_dataset
    from caseframe.suggest import get_method
    from caseframe.suggest.evaluate import label_matrix

    data = read_coded_dataset(folder)
    texts = [s.text for s in data.segments]
    Y = label_matrix(data, data.reference_coder(), [s.id for s in data.segments])
    start = time.perf_counter()
    method = get_method("supervised").fit(texts, Y, data.codebook)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    method.predict(texts)
    ups = len(texts) / (time.perf_counter() - start)
    label = f"speed: supervised, all {len(texts):,} NHS comments"
    return f"| {label} | | | | | {ups:,.0f} | {fit_s:.1f} | |"


def seed_quotes(folder: Path) -> dict:
    """Zero-shot SIS suggestions for the published quotes of the seed study.

    A quote's reference is the set of SIS components its category is linked to in codes.csv; a
    hit@k is a quote whose k best-scored components include one of them. Chance is what a random
    ranking would give.
    """
    import csv
    import time

    import numpy as np

    from caseframe.frameworks.loader import builtin_framework
    from caseframe.suggest.base import get_method

    with open(folder / "codes.csv", encoding="utf-8") as fh:
        links = {r["code"]: set(filter(None, r["sis"].split(";"))) for r in csv.DictReader(fh)}
    with open(folder / "quotes.csv", encoding="utf-8") as fh:
        quotes = [r for r in csv.DictReader(fh) if links.get(r["category"])]
    components = builtin_framework("sis").components
    keys = [c.key for c in components]
    start = time.perf_counter()
    method = get_method("definitions").fit([], None, components)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    P = method.predict_proba([q["quote"] for q in quotes])
    ups = len(quotes) / (time.perf_counter() - start)
    order = np.argsort(-P, axis=1)
    wanted = [links[q["category"]] for q in quotes]

    def hits(k: int) -> float:
        return float(
            np.mean([bool({keys[j] for j in order[i, :k]} & w) for i, w in enumerate(wanted)])
        )

    def chance(k: int) -> float:
        from math import comb

        n = len(keys)
        return float(np.mean([1 - comb(n - len(w), k) / comb(n, k) for w in wanted]))

    return {
        "quotes": len(quotes),
        "hit_at_1": hits(1),
        "hit_at_3": hits(3),
        "chance_at_1": chance(1),
        "chance_at_3": chance(3),
        "fit_seconds": fit_s,
        "units_per_second": ups,
    }


def cross_validate(folder: Path, settings: dict[str, dict], folds: int = 3) -> list[str]:
    """Mean test-free figures of each setting: folds by respondent, inside split=train only."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from caseframe.interop.coded_dataset import read_coded_dataset
    from caseframe.suggest import get_method
    from caseframe.suggest.evaluate import label_matrix, score

    data = read_coded_dataset(folder)
    train = data.split("train")
    texts = [s.text for s in train]
    groups = [s.document or s.id for s in train]
    Y = label_matrix(data, data.reference_coder(), [s.id for s in train])
    lines = [
        f"Cross-validation on the training split only ({folds} folds by respondent):",
        "",
        "| setting | micro-F1 | macro-F1 | mean κ |",
        "|---|---|---|---|",
    ]
    for label, options in settings.items():
        got = []
        for fit_rows, held in GroupKFold(folds).split(texts, groups=groups):
            method = get_method("supervised", **options)
            method.fit([texts[i] for i in fit_rows], Y[fit_rows], data.codebook)
            decided = method.predict([texts[i] for i in held])
            r = score(Y[held], decided, data.code_names)
            got.append([r["micro_f1"], r["macro_f1"], r["mean_kappa"]])
        m = np.mean(got, axis=0)
        lines.append(f"| {label} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |")
        print(lines[-1], flush=True)
    return lines


def honesty(results: dict[str, dict]) -> list[str]:
    """How honest each method's scores are (Brier score, expected calibration error over every
    unit × code cell) and what the κ floor keeps (codes offered: out-of-fold κ ≥ 0.4 on the
    training codings; figures with the other codes never suggested)."""
    lines = [
        "",
        "Scores and the κ floor (codes offered: out-of-fold κ ≥ 0.4 on the training codings):",
        "",
        "| dataset / method | Brier | ECE | codes offered | offered: micro-F1 | macro-F1 "
        "| mean κ |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        cal = r.get("calibration")
        if not cal:
            continue
        gated = r.get("gated")
        cells = ["", "", "", ""]
        if gated:
            cells = [
                f"{len(gated['codes_offered'])} of {len(r['per_code'])}",
                f"{gated['micro_f1']:.3f}",
                f"{gated['macro_f1']:.3f}",
                f"{gated['mean_kappa']:.3f}",
            ]
        lines.append(
            f"| {label} | {cal['brier']:.4f} | {cal['expected_calibration_error']:.4f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "Reliability of `supervised` on NHS (cells by score):", ""]
    lines += ["| score | cells | mean score | code present |", "|---|---|---|---|"]
    for b in results["NHS supervised"]["calibration"]["reliability"]:
        if b["cells"]:
            lines.append(
                f"| {b['low']:.1f}–{b['high']:.1f} | {b['cells']:,} | {b['mean_score']:.3f} | "
                f"{b['observed']:.3f} |"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the learning curve")
    ap.add_argument(
        "--cv", action="store_true", help="only compare settings by CV on the NHS training split"
    )
    args = ap.parse_args()
    ensure("nhs")
    if args.cv:
        print("\n".join(cross_validate(OUT / "nhs", CV_SETTINGS)))
        return
    ensure("annomi-therapist")
    ensure("pdpilot")
    results: dict[str, dict] = {}
    lines = [
        "| dataset / method | micro-F1 | macro-F1 | mean κ | mean AC1 | units/s | fit s | note |",
        "|---|---|---|---|---|---|---|---|",
    ]

    nhs = OUT / "nhs"
    averaged: list[tuple[str, dict]] = []
    for label, method, zero, curve in [
        ("NHS baseline (TF-IDF + LR)", "baseline", False, False),
        ("NHS supervised", "supervised", False, not args.quick),
        ("NHS definitions (zero-shot)", "definitions", True, False),
    ]:
        r = bench_suggest(nhs, method, zero_shot=zero, learning_curve=curve)
        results[label] = r
        lines.append(row(label, r, f"{r['test_units']} test comments"))
        averaged.append((label, r["averages"]))

    for who in ("therapist", "client"):
        main_dir = OUT / f"annomi-{who}"
        r = bench_suggest(main_dir, "supervised")
        results[f"AnnoMI {who}"] = r
        note = f"{r['test_units']} test turns; multi-class κ {r['multiclass_kappa']:.3f}"
        lines.append(row(f"AnnoMI {who} supervised", r, note))
        r = bench_suggest(OUT / f"annomi-{who}-multi", "supervised", train_dir=main_dir)
        results[f"AnnoMI {who} multi"] = r
        hh = r["human_human"]
        vs = [v["mean_kappa"] for c, v in r["method_vs_coders"].items() if c != "consensus"]
        vs_mc = [
            v["multiclass_kappa"] for c, v in r["method_vs_coders"].items() if c != "consensus"
        ]
        note = (
            f"human–human (45 pairs): κ {hh['mean_kappa']:.3f}, AC1 {hh['mean_ac1']:.3f}, "
            f"micro-F1 {hh['micro_f1']:.3f}, multi-class κ {hh['multiclass_kappa']:.3f}; "
            f"method vs each expert: κ {sum(vs) / len(vs):.3f}, "
            f"multi-class κ {sum(vs_mc) / len(vs_mc):.3f}"
        )
        lines.append(row(f"AnnoMI {who}, 10-expert turns (vs majority)", r, note))

    pd_dir = OUT / "pdpilot"
    for label, method, zero, opts in [
        ("PDPilot supervised", "supervised", False, {}),
        ("PDPilot definitions (memos + names)", "definitions", True, {"min_described": 0.0}),
    ]:
        r = bench_suggest(pd_dir, method, zero_shot=zero, options=opts)
        results[label] = r
        lines.append(
            row(label, r, f"{r['codes_scored']} codes used on {r['test_units']} paragraphs")
        )

    seed = REPO / "examples" / "peer-support"
    if (seed / "quotes.csv").exists() and (seed / "codes.csv").exists():
        r = seed_quotes(seed)
        results["seed quotes"] = r
        lines.append(
            f"| seed quotes → SIS (zero-shot definitions) | hit@1 {r['hit_at_1']:.3f} | "
            f"hit@3 {r['hit_at_3']:.3f} | | | {r['units_per_second']:,.0f} | "
            f"{r['fit_seconds']:.1f} | {r['quotes']} quotes; chance hit@1 {r['chance_at_1']:.3f}, "
            f"hit@3 {r['chance_at_3']:.3f} |"
        )
    else:
        lines.append(
            "| seed quotes (SIS, zero-shot) | not run: examples/peer-support/ lacks "
            "quotes.csv/codes.csv | | | | | | |"
        )

    lines.append(speed_row(nhs))
    curve = results["NHS supervised"].get("learning_curve", [])
    if curve:
        lines += [
            "",
            "NHS learning curve (supervised; same test split):",
            "",
            "| share of training codings | units | micro-F1 | macro-F1 | mean κ | fit s |",
            "|---|---|---|---|---|---|",
        ]
        for c in curve:
            lines.append(
                f"| {c['fraction']:.0%} | {c['train_units']} | {c['micro_f1']:.3f} | "
                f"{c['macro_f1']:.3f} | {c['mean_kappa']:.3f} | {c['fit_seconds']:.1f} |"
            )
    lines += [
        "",
        "NHS macro-F1 / mean κ over other sets of codes (evaluate.averages):",
        "",
        "| method | " + " | ".join(averaged[0][1]) + " |",
        "|---|" + "---|" * len(averaged[0][1]),
    ]
    for label, av in averaged:
        cells = [
            f"{av[k]['macro_f1']:.3f} / {av[k]['mean_kappa']:.3f} ({av[k]['codes']})"
            if k in av
            else ""
            for k in averaged[0][1]
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += honesty(results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"Peak memory of the whole run: {peak:.0f} MiB."]
    (OUT / "suggest_results.json").write_text(json.dumps(results, indent=1, default=float))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
