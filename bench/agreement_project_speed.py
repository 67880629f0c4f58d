"""Speed of agreement through the project store: 1,000 documents x 3 coders x 100,000 codings.

Creates a project in a temporary folder and fills it with bulk inserts through
caseframe.store.schema: 1,000 documents of 30 speaker turns (meaning units, scheme `turn`), a
codebook of 60 codes with Zipf-like frequencies, three human coders who follow a shared "true"
coding 80% of the time and mark every document as coded (coder_documents). A third of the codings
cover only part of their turn, so the overlap rule is exercised. Then it times, separately:

1. building the CodingMatrix from the store (Project.agreement_matrix, all coders, all codes),
2. per_code_agreement with 1,000 bootstrap resamples over units,

and the whole Project.agreement(...) call from a cold start. Goal (issue 5): under 10 s.

Run: .venv/bin/python bench/agreement_project_speed.py [--codings 100000] [--bootstrap 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from caseframe.analysis.agreement import per_code_agreement
from caseframe.api import Project
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now

CODERS = ("ana", "ben", "cai")
TURN = 120  # characters per turn
SEPARATOR = 2


def fill(project: Project, documents: int, per_doc: int, codes: int, codings: int, seed: int):
    rng = np.random.default_rng(seed)
    stamp = now()
    turn_text = ("word " * (TURN // 5))[:TURN]
    text = ("\n\n".join([turn_text] * per_doc)).strip()
    with project.store.transaction() as conn:
        conn.execute(
            t.documents.insert(),
            [
                {
                    "name": f"doc{d:04d}",
                    "text": f"{d:04d}" + text[4:],  # distinct content hashes
                    "content_hash": f"{d:064d}",
                    "source_format": "txt",
                    "word_count": len(text.split()),
                    "pseudonymised": False,
                    "description": "",
                    "meta": {},
                    "guid": new_guid(),
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for d in range(documents)
            ],
        )
        doc_ids = list(conn.scalars(t.documents.select().with_only_columns(t.documents.c.id)))
        conn.execute(
            t.meaning_units.insert(),
            [
                {
                    "document_id": doc,
                    "scheme": "turn",
                    "idx": i,
                    "start": i * (TURN + SEPARATOR),
                    "end": i * (TURN + SEPARATOR) + TURN,
                    "speaker": "A" if i % 2 else "B",
                }
                for doc in doc_ids
                for i in range(per_doc)
            ],
        )
        conn.execute(
            t.codes.insert(),
            [
                {
                    "name": f"code{k:03d}",
                    "kind": "code",
                    "origin": "inductive",
                    "description": "",
                    "position": k,
                    "version": 1,
                    "meta": {},
                    "guid": new_guid(),
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for k in range(codes)
            ],
        )
        code_ids = list(conn.scalars(t.codes.select().with_only_columns(t.codes.c.id)))
        conn.execute(
            t.coders.insert(),
            [{"name": c, "kind": "human", "guid": new_guid(), "created_at": stamp} for c in CODERS],
        )
        coder_ids = list(conn.scalars(t.coders.select().with_only_columns(t.coders.c.id)))
        conn.execute(
            t.coder_documents.insert(),
            [
                {"coder_id": c, "document_id": d, "status": "done"}
                for c in coder_ids
                for d in doc_ids
            ],
        )
        units = documents * per_doc
        weights = 1 / np.arange(1, codes + 1)
        weights /= weights.sum()
        per_coder = codings // len(CODERS)
        truth_unit = rng.integers(0, units, per_coder)
        truth_code = rng.choice(codes, per_coder, p=weights)
        rows, seen = [], set()
        for coder in coder_ids:
            unit, code = truth_unit.copy(), truth_code.copy()
            swap = rng.random(per_coder) < 0.2
            unit[swap] = rng.integers(0, units, swap.sum())
            code[swap] = rng.choice(codes, swap.sum(), p=weights)
            partial = rng.random(per_coder) < 1 / 3
            for u, k, part in zip(unit.tolist(), code.tolist(), partial.tolist(), strict=True):
                doc, i = divmod(u, per_doc)
                start = i * (TURN + SEPARATOR) + (10 if part else 0)
                end = start + (40 if part else TURN)
                key = (doc, start, end, k, coder)
                if key in seen:
                    continue
                seen.add(key)
                rows.append(
                    {
                        "document_id": doc_ids[doc],
                        "start": start,
                        "end": end,
                        "code_id": code_ids[k],
                        "coder_id": coder,
                        "status": "final",
                        "guid": new_guid(),
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
        conn.execute(t.codings.insert(), rows)
    return len(rows)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="agreement speed through the project store")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--per-doc", type=int, default=30)
    parser.add_argument("--codes", type=int, default=60)
    parser.add_argument("--codings", type=int, default=100_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(Path(tmp) / "proj")
        t0 = time.perf_counter()
        rows = fill(project, args.documents, args.per_doc, args.codes, args.codings, args.seed)
        t1 = time.perf_counter()
        project.close()
        project = Project.open(Path(tmp) / "proj")
        t2 = time.perf_counter()
        matrix = project.agreement_matrix()
        t3 = time.perf_counter()
        report = per_code_agreement(matrix, bootstrap=args.bootstrap, seed=args.seed)
        t4 = time.perf_counter()
        again = project.agreement(bootstrap=args.bootstrap, seed=args.seed)
        t5 = time.perf_counter()
        project.close()
    assert again.overall["krippendorff_alpha"] == report.overall["krippendorff_alpha"]
    print(
        f"{args.documents} documents x {args.per_doc} turns = {len(matrix.units)} units, "
        f"{len(CODERS)} coders, {len(matrix.codes)} codes, {rows} codings, "
        f"{args.bootstrap} bootstrap resamples"
    )
    print(f"fill the store (bulk)   {t1 - t0:6.2f} s  (setup, not timed for the goal)")
    print(f"matrix from the store   {t3 - t2:6.2f} s")
    print(f"per_code_agreement      {t4 - t3:6.2f} s")
    print(f"Project.agreement()     {t5 - t4:6.2f} s  (goal: < 10 s)")
    alpha = report.overall["krippendorff_alpha"]
    print(f"(pooled alpha {alpha:.3f}; {len(report.per_code)} codes reported)")
    return {"matrix_s": t3 - t2, "stats_s": t4 - t3, "total_s": t5 - t4, "codings": rows}


if __name__ == "__main__":
    main()
