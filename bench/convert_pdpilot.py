"""Convert the PDPilot interview study (MAXQDA exports) to a coded-segment dataset.

Units are the transcripts' numbered paragraphs (speaker turns). The codebook is the MAXQDA code
system (code = its full path "Parent > Child", definition = its memo). A paragraph carries a code
when the coded segment's text lies in it: at least a third of the segment's word 4-grams (or, for
very short segments, all its words in order) occur in the paragraph. Split by interview, fixed
seed (2 of 7 interviews held out). The analyst is the one coder, named `analyst`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from _common import OUT, shared_path, split_groups, write_dataset

MEMO_COLUMN = 74
_PARA = re.compile(r"^(\d+)\s{2,}(\S.*)$")
_RECORD = re.compile(r"^(P\d+)\s+\S")


def norm_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def parse_code_system(text: str) -> list[dict[str, str]]:
    codes: list[dict[str, str]] = []
    stack: list[tuple[int, str]] = []
    for line in text.splitlines()[3:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        name = line[:MEMO_COLUMN].strip()
        memo = re.sub(r"\s+\d+\s*$", "", line[MEMO_COLUMN:]).strip()
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        path = f"{parent} > {name}" if parent else name
        codes.append({"code": path, "definition": memo, "parent": parent})
        stack.append((depth, path))
    return codes


def parse_segments(text: str, known: set[str]) -> list[tuple[str, str, str]]:
    """(document, code path, segment text) rows of the coded-segments export.

    Column positions change from page to page, so a record's code is the longest known code path
    that starts the line after the document name; the segment text is the rest.
    """
    by_length = sorted(known, key=len, reverse=True)
    rows: list[list[str]] = []
    for line in text.splitlines()[2:]:
        match = _RECORD.match(line)
        if match:
            rest = line[match.end(1) :].lstrip()
            code = next((c for c in by_length if rest.startswith(c)), None)
            if code is None:
                raise SystemExit(f"unknown code path in coded segments: {rest[:80]!r}")
            segment = rest[len(code) :]
            rows.append([match.group(1), code, segment.strip()])
        elif rows and line.strip():
            rows[-1][2] += " " + line.strip()
    return [(d, c, s) for d, c, s in rows]


def parse_transcript(text: str) -> list[tuple[str, str]]:
    """(speaker, text) per numbered paragraph."""
    paragraphs: list[list[str]] = []
    for line in text.splitlines():
        match = _PARA.match(line)
        if match:
            paragraphs.append([match.group(2)])
        elif paragraphs and line.strip():
            paragraphs[-1].append(line.strip())
    out = []
    for lines in paragraphs:
        body = " ".join(" ".join(lines).split())
        speaker, sep, rest = body.partition(": ")
        if sep and len(speaker) < 20:
            out.append((speaker, rest))
        else:
            out.append(("", body))
    return out


def contains(paragraph: list[str], segment: list[str]) -> bool:
    if len(segment) < 6:
        joined = " " + " ".join(paragraph) + " "
        return " " + " ".join(segment) + " " in joined
    grams = {tuple(paragraph[i : i + 4]) for i in range(len(paragraph) - 3)}
    seg = [tuple(segment[i : i + 4]) for i in range(len(segment) - 3)]
    return sum(g in grams for g in seg) >= max(2, len(seg) / 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(OUT / "pdpilot"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    folder = shared_path("data", "pdpilot-interviews", "text")
    codebook = parse_code_system((folder / "code-system.txt").read_text(encoding="utf-8"))
    known = {c["code"] for c in codebook}
    coded = parse_segments((folder / "coded-segments.txt").read_text(encoding="utf-8"), known)
    documents = [f"P{i}" for i in range(1, 8)]
    split = split_groups(documents, 2 / 7, args.seed)
    segments, codings, unmatched = [], [], 0
    for doc in documents:
        paras = parse_transcript((folder / f"{doc}.txt").read_text(encoding="utf-8"))
        words = [norm_words(t) for _, t in paras]
        ids = []
        for k, (speaker, body) in enumerate(paras):
            sid = f"{doc}-{k + 1}"
            ids.append(sid)
            segments.append(
                {"id": sid, "text": body, "document": doc, "speaker": speaker, "split": split[doc]}
            )
        for d, code, text in coded:
            if d != doc:
                continue
            seg = norm_words(text)
            hits = [ids[k] for k, w in enumerate(words) if contains(w, seg)]
            unmatched += not hits
            codings.extend({"segment_id": s, "coder": "analyst", "code": code} for s in hits)
    codings = [dict(t) for t in {tuple(c.items()) for c in codings}]
    codings.sort(key=lambda c: (c["segment_id"], c["code"]))
    out = write_dataset(Path(args.out), codebook, segments, codings)
    print(
        f"{out}: {len(codebook)} codes, {len(segments)} paragraphs, {len(coded)} coded segments "
        f"({unmatched} not located), {len(codings)} paragraph codings"
    )


if __name__ == "__main__":
    main()
