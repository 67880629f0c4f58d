"""Generate a large synthetic caseframe project fast, for benchmarks.

Shape (defaults): 3 regions → 100 sites → 1,000 respondents, one transcript per respondent of
8,000 words in paragraphs of 60–140 words (each paragraph a meaning unit, scheme `paragraph`),
a code tree of 50 codes (1 theme → 4 main categories → 10 categories → 35 codes; categories
mapped to SIS components, a few codes deductive), 3 human coders and 100,000 codings: each a
random span of 5–40 words inside one paragraph, on a random category or code, with a valence
(facilitator 45 %, barrier 25 %, mixed 10 %, none 20 %). Sites carry `setting` (municipal /
regional). Everything is written with bulk inserts through caseframe.store.schema in one
transaction per table group; the texts come from a fixed vocabulary and a seeded generator, so
the same arguments give the same project.

    .venv/bin/python bench/generate_project.py OUT_DIR [--transcripts N] [--codings N] ...
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from caseframe.api import Project  # noqa: E402
from caseframe.store import schema as t  # noqa: E402
from caseframe.store.core import now  # noqa: E402

VOCABULARY = (
    "the a and to of in that it is was we they peer support worker staff manager service user "
    "team role work time think really have had not but with for this on be as about when so "
    "what there were more some very also them would like just know because people their our "
    "meeting training supervision funding project recovery experience client trust hope "
    "boundaries climate structure organisation region municipality psychiatry unit group "
    "change question perspective knowledge important difficult good new together need"
).split()
SIS = (
    [f"O{i}" for i in range(1, 13)]
    + [f"T{i}" for i in range(1, 8)]
    + [f"C{i}" for i in range(1, 6)]
)


def _guid() -> str:
    return str(uuid.uuid4()).upper()


def _text(rng: np.random.Generator, words: int) -> tuple[str, list[tuple[int, int]], np.ndarray]:
    """A transcript of `words` words in paragraphs; returns text, paragraph ranges and the
    (start, end) character offsets of every word (an n × 2 array)."""
    picks = rng.integers(0, len(VOCABULARY), size=words)
    tokens = [VOCABULARY[i] for i in picks]
    paragraphs, word_spans, parts = [], [], []
    pos, i = 0, 0
    while i < words:
        n = int(rng.integers(60, 141))
        chunk = tokens[i : i + n]
        start = pos
        for w in chunk:
            word_spans.append((pos, pos + len(w)))
            pos += len(w) + 1
        para = " ".join(chunk)
        parts.append(para)
        paragraphs.append((start, start + len(para)))
        pos = start + len(para) + 2  # "\n\n"
        i += n
    spans = np.array(word_spans, dtype=np.int64)
    return "\n\n".join(parts), paragraphs, spans


def generate_project(
    out_dir: str | Path,
    transcripts: int = 1000,
    words: int = 8000,
    codes: int = 50,
    codings: int = 100_000,
    coders: int = 3,
    regions: int = 3,
    sites: int = 100,
    seed: int = 0,
) -> Path:
    """Write a synthetic project into `out_dir` (must not exist or be empty); returns it."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    project = Project.init(out, name=f"Synthetic study ({transcripts} transcripts)")
    stamp = now()
    stamps = {"created_at": stamp, "updated_at": stamp}
    with project.store.transaction() as conn:
        # cases: regions → sites → respondents; `setting` on sites
        conn.execute(
            t.attributes.insert(), [{"id": 1, "name": "setting", "type": "text", "guid": _guid()}]
        )
        case_rows, attr_rows = [], []
        region_keys = [chr(ord("A") + r) for r in range(regions)]
        for r, key in enumerate(region_keys, start=1):
            case_rows.append(
                {"id": r, "key": key, "label": f"Region {key}", "kind": "region", "parent_id": None}
            )
        site_ids = []
        for s in range(sites):
            cid = regions + 1 + s
            region = s % regions
            key = f"{region_keys[region]}-S{s // regions + 1}"
            case_rows.append(
                {"id": cid, "key": key, "label": key, "kind": "site", "parent_id": region + 1}
            )
            setting = "municipal" if s % 2 == 0 else "regional"
            attr_rows.append({"case_id": cid, "attribute_id": 1, "value": setting})
            site_ids.append(cid)
        resp_ids = []
        for n in range(transcripts):
            cid = regions + sites + 1 + n
            site = site_ids[n % sites]
            region = (n % sites) % regions
            case_rows.append(
                {
                    "id": cid,
                    "key": f"{region_keys[region]}{n + 1}",
                    "label": f"Respondent {n + 1}",
                    "kind": "respondent",
                    "parent_id": site,
                }
            )
            resp_ids.append(cid)
        for row in case_rows:
            row.update(description="", guid=_guid(), **stamps)
        conn.execute(t.cases.insert(), case_rows)
        conn.execute(t.case_attributes.insert(), attr_rows)

        # codes: theme → main categories → categories → codes
        comps = {
            key: cid
            for key, cid in conn.execute(
                t.framework_components.select()
                .with_only_columns(t.framework_components.c.key, t.framework_components.c.id)
                .join(t.frameworks, t.frameworks.c.id == t.framework_components.c.framework_id)
                .where(t.frameworks.c.key == "sis")
            )
        }
        n_main, n_cat = 4, 10
        code_rows, mappings = [], []

        def add_code(name, parent, kind, component=None):
            cid = len(code_rows) + 1
            code_rows.append(
                {
                    "id": cid,
                    "name": name,
                    "parent_id": parent,
                    "kind": kind,
                    "origin": "deductive" if component else "inductive",
                    "component_id": component,
                    "description": f"Description of {name}.",
                    "color": None,
                    "position": cid,
                    "version": 1,
                    "meta": {},
                    "guid": _guid(),
                    **stamps,
                }
            )
            return cid

        theme = add_code("Theme", None, "theme")
        mains = [add_code(f"Main category {m + 1}", theme, "main_category") for m in range(n_main)]
        cats = []
        for c in range(n_cat):
            cid = add_code(f"Category {c + 1}", mains[c % n_main], "category")
            for key in rng.choice(SIS, size=2, replace=False):
                mappings.append({"code_id": cid, "component_id": comps[str(key)]})
            cats.append(cid)
        leaf = 0
        while len(code_rows) < codes:
            leaf += 1
            component = comps[SIS[leaf % len(SIS)]] if leaf % 5 == 0 else None
            add_code(f"Code {leaf}", cats[leaf % n_cat], "code", component)
        conn.execute(t.codes.insert(), code_rows)
        conn.execute(t.code_mappings.insert(), mappings)
        conn.execute(
            t.coders.insert(),
            [
                {
                    "id": i + 1,
                    "name": f"coder{i + 1}",
                    "kind": "human",
                    "guid": _guid(),
                    "created_at": stamp,
                }
                for i in range(coders)
            ],
        )

    # documents with paragraphs (meaning units), in batches to bound memory
    unit_index: list[tuple[int, int, int, np.ndarray]] = []  # (doc id, first word, end word, spans)
    unit_id = 0
    batch = 100
    for first in range(0, transcripts, batch):
        docs, links, units = [], [], []
        for n in range(first, min(first + batch, transcripts)):
            text, paragraphs, spans = _text(rng, words)
            doc_id = n + 1
            docs.append(
                {
                    "id": doc_id,
                    "name": f"R{n + 1:04d}.txt",
                    "text": text,
                    "content_hash": hashlib.sha256(text.encode()).hexdigest(),
                    "source_format": "txt",
                    "source_path": None,
                    "word_count": words,
                    "pseudonymised": False,
                    "description": "",
                    "meta": {},
                    "guid": _guid(),
                    **stamps,
                }
            )
            links.append({"document_id": doc_id, "case_id": resp_ids[n]})
            starts = spans[:, 0]
            for idx, (ps, pe) in enumerate(paragraphs):
                unit_id += 1
                units.append(
                    {
                        "id": unit_id,
                        "document_id": doc_id,
                        "scheme": "paragraph",
                        "idx": idx,
                        "start": ps,
                        "end": pe,
                        "speaker": None,
                        "external_id": None,
                        "split": None,
                    }
                )
                lo, hi = np.searchsorted(starts, [ps, pe])
                unit_index.append((doc_id, int(lo), int(hi), spans))
        with project.store.transaction() as conn:
            conn.execute(t.documents.insert(), docs)
            conn.execute(t.document_cases.insert(), links)
            conn.execute(t.meaning_units.insert(), units)

    # codings: a random span of 5–40 words inside a random paragraph
    code_ids = np.arange(1 + 1 + n_main, len(code_rows) + 1)  # categories and codes
    picks = rng.integers(0, len(unit_index), size=int(codings * 1.05))
    valence_pick = rng.choice(
        ["facilitator", "barrier", "mixed", None], p=[0.45, 0.25, 0.10, 0.20], size=len(picks)
    )
    seen, rows = set(), []
    for k, u in enumerate(picks):
        doc_id, lo, hi, spans = unit_index[u]
        length = int(rng.integers(5, 41))
        w0 = int(rng.integers(lo, max(lo + 1, hi - length)))
        w1 = min(hi - 1, w0 + length - 1)
        start, end = int(spans[w0, 0]), int(spans[w1, 1])
        code = int(code_ids[rng.integers(0, len(code_ids))])
        coder = int(rng.integers(1, coders + 1))
        key = (doc_id, start, end, code, coder)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "document_id": doc_id,
                "start": start,
                "end": end,
                "code_id": code,
                "coder_id": coder,
                "meaning_unit_id": None,
                "valence": valence_pick[k],
                "strength": None,
                "memo": None,
                "score": None,
                "status": "final",
                "guid": _guid(),
                "selection_guid": None,
                **stamps,
            }
        )
        if len(rows) == codings:
            break
    with project.store.transaction() as conn:
        for at in range(0, len(rows), 20_000):
            conn.execute(t.codings.insert(), rows[at : at + 20_000])
    project.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    for name, default in (
        ("transcripts", 1000),
        ("words", 8000),
        ("codes", 50),
        ("codings", 100_000),
        ("coders", 3),
        ("regions", 3),
        ("sites", 100),
        ("seed", 0),
    ):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = vars(parser.parse_args())
    started = time.perf_counter()
    path = generate_project(args.pop("out"), **args)
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
