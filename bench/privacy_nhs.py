"""How much identifying text do caseframe's pattern detectors find in real comments?

Data (from ../shared/data, read-only):
- NHS patient-experience comments (North East Ambulance Service, CC BY-NC-SA 4.0), column
  "FFT answer", with the labellers' "Person identifiable info?" flag;
- AnnoMI motivational-interviewing transcripts (public domain), one row per utterance.

Method: run `caseframe.privacy.scan` with patterns only (no registry, no NER: nothing a team
would add) over every text; count detections per category. Where the flag column has values,
compare per comment: a comment counts as "hit" when at least one detection falls in it. Every
detection is printed with its context so precision can be judged by reading.

Usage: .venv/bin/python bench/privacy_nhs.py [--shared PATH] [--registry names.csv]
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from caseframe.privacy import Registry, scan

FLAG = "Person identifiable info?"
YES = {"1", "yes", "y", "true"}


def nhs(shared: Path, registry: Registry | None) -> None:
    path = shared / "data" / "nhs-patient-experience" / "neas_comments.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    texts = df["FFT answer"].tolist()
    started = time.perf_counter()
    found = [scan(t, registry) for t in texts]
    seconds = time.perf_counter() - started
    flagged = df[FLAG].str.strip().str.casefold().isin(YES)
    hit = pd.Series([bool(d) for d in found], index=df.index)
    per_category = Counter(d.category for ds in found for d in ds)

    print(f"## NHS comments ({path.name})")
    print(
        f"comments: {len(df)}, non-empty: {sum(bool(t.strip()) for t in texts)}, "
        f"characters: {sum(map(len, texts))}, scan time: {seconds:.2f} s"
    )
    print(f"'{FLAG}' values: {df[FLAG].value_counts(dropna=False).to_dict()}")
    print(f"comments flagged: {int(flagged.sum())}; comments with a detection: {int(hit.sum())}")
    if flagged.any():
        tp = int((flagged & hit).sum())
        print(
            f"comment-level precision {tp / max(1, int(hit.sum())):.3f}, "
            f"recall {tp / int(flagged.sum()):.3f}"
        )
        print("flagged comments with no detection:")
        for i in df.index[flagged & ~hit]:
            print(f"  {df.at[i, 'Comment ID']}: {texts[i][:160]!r}")
    else:
        print(
            "the flag column is empty in every row: no comment-level precision/recall can be "
            "computed against it; precision below is by reading each detection"
        )
    masked = int(df["FFT answer"].str.contains(r"\*{3,}").sum())
    print(f"comments with an upstream '***' mask where a name stood: {masked}")
    print(f"detections per category: {dict(per_category.most_common())}")
    for i, detections in enumerate(found):
        for d in detections:
            print(f"  {df.at[i, 'Comment ID']:<24} {d.category:<17} {d.source:<27} {d.context}")


# Person names that occur in AnnoMI, found by reading every capitalised word that is not at
# the start of a sentence (our own reading, not part of the dataset). Left out as ambiguous:
# Oscar (a dog), Jack and Ivy (a song title, "Ivy League"), Green and Howard (also in the
# names of organisations).
ANNOMI_NAMES = (
    "Aiden Andrea Barbara Beth Berger Betty Billy Bob Brown Brownie Bruce Carlo Carrie "
    "Catherine Chris Daryl David Dawn Deborah Delwyn Denise Donna Emily Erin Ferris Fields "
    "Fiona Hailey Hannah Jacob Jake Jean Jill John Johnson Julie Kathy Katie Kaylie Kirsty "
    "Kirtley Kristie Laura Lilly Lily Liz Lori Mark Martin Mary Miguel Mike Morrow Natalie "
    "Nick Nina Rick Ricky Roberts Ruth Sal Sandra Sarah Scott Selby Smith Stowe Tanya Terri "
    "Thompson Tom Tommy Tonny Tristan"
).split()


def annomi(shared: Path, registry: Registry | None) -> None:
    """Scan each transcript as one document (as caseframe imports it), so a name found once
    is also found where it recurs; compare with the hand-made list of names above."""
    path = shared / "data" / "annomi" / "AnnoMI-full.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    utterances = df.drop_duplicates(["transcript_id", "utterance_id"]).copy()
    utterances["order"] = utterances["utterance_id"].astype(int)
    transcripts = {
        tid: "\n".join(group.sort_values("order")["utterance_text"])
        for tid, group in utterances.groupby("transcript_id")
    }
    started = time.perf_counter()
    found = {tid: scan(text, registry) for tid, text in transcripts.items()}
    seconds = time.perf_counter() - started
    unpropagated = {tid: scan(text, registry, propagate=False) for tid, text in transcripts.items()}
    all_detections = [d for ds in found.values() for d in ds]
    print(f"\n## AnnoMI ({path.name})")
    print(
        f"utterances: {len(utterances)} in {len(transcripts)} transcripts, characters: "
        f"{sum(map(len, transcripts.values()))}, scan time: {seconds:.2f} s"
    )
    print(f"detections per category: {dict(Counter(d.category for d in all_detections))}")
    print(f"detections per source: {dict(Counter(d.source for d in all_detections))}")

    name_re = re.compile(r"\b(?:" + "|".join(ANNOMI_NAMES) + r")\b")

    def coverage(detections: dict[str, list]) -> tuple[int, int, Counter[str]]:
        mentions = covered = 0
        missed: Counter[str] = Counter()
        for tid, text in transcripts.items():
            spans = [(d.start, d.end) for d in detections[tid]]
            for m in name_re.finditer(text):
                mentions += 1
                if any(s <= m.start() and m.end() <= e for s, e in spans):
                    covered += 1
                else:
                    missed[m.group(0)] += 1
        return mentions, covered, missed

    mentions, covered, missed = coverage(found)
    _, covered_alone, _ = coverage(unpropagated)
    persons = [d for d in all_detections if d.category == "person"]
    on_list = [d for d in persons if name_re.search(d.text)]
    print(
        f"person-name mentions (hand-made list of {len(ANNOMI_NAMES)} names): {mentions}; "
        f"covered by a detection: {covered} (recall {covered / mentions:.3f}); "
        f"without propagation {covered_alone} ({covered_alone / mentions:.3f})"
    )
    print(
        f"person detections: {len(persons)}; containing a listed name: {len(on_list)} "
        f"(precision against the list {len(on_list) / max(1, len(persons)):.3f})"
    )
    print(f"most missed: {missed.most_common(15)}")
    print("person detections not on the list (read to judge):")
    for d in persons:
        if not name_re.search(d.text):
            print(f"  {d.source:<36} {d.context}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = Path(__file__).resolve().parents[1].parent / "shared"
    parser.add_argument("--shared", type=Path, default=default_shared)
    parser.add_argument("--registry", type=Path, help="a value,category[,pseudonym] CSV")
    args = parser.parse_args()
    registry = Registry.from_csv(args.registry) if args.registry else None
    nhs(args.shared, registry)
    annomi(args.shared, registry)


if __name__ == "__main__":
    main()
