"""Precision of the person proposals of a project-wide privacy scan, on real interviews.

Data (from ../shared/data, read-only): the 7 PDPilot user-study interview transcripts
(pdftotext extractions, BSD-3) and the 133 AnnoMI motivational-interviewing transcripts (one
document per transcript). Each corpus is scanned as one project would be: patterns only (no
registry, no NER), and every name a pattern finds is looked for in every transcript.

Two propagation rules are compared:
- "before": a found name matched in any case everywhere (caseframe until this change);
- "now": `caseframe.privacy.corpus.scan_corpus`, which takes only capitalised occurrences and,
  for a name the corpus also writes as a lower-case word, only mid-sentence ones.

Every proposal of "now" was read in its context and labelled (the lists below are that
labelling, not part of the data). A proposal counts as a person when its transcript's list
holds its exact text and it is not in NOT_PERSONS; anything else is printed as unlabelled.
Recall on AnnoMI uses the hand-made list of person names in bench/privacy_nhs.py.

Usage: .venv/bin/python bench/privacy_precision.py [--shared PATH] [--show]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import pandas as pd

from caseframe.privacy import PseudonymBook, Registry
from caseframe.privacy.corpus import scan_corpus
from caseframe.privacy.detect import detections, detector_hits, found_names

sys.path.insert(0, str(Path(__file__).resolve().parent))
from privacy_nhs import ANNOMI_NAMES  # noqa: E402

# Person names proposed per AnnoMI transcript, each read in context: all are persons.
ANNOMI_PERSONS = {
    "2": "John",
    "4": "Emily",
    "5": "Billy",
    "6": "Sal",
    "12": "Kirtley|Sarah",
    "13": "Smith",
    "16": "Rick",
    "18": "Sarah",
    "21": "Laura",
    "23": "Hannah",
    "25": "Liz",
    "27": "John|Sal",
    "28": "Carrie|Kathy",
    "29": "Natalie",
    "30": "Mary",
    "31": "Johnson|Tonny Brownie",
    "35": "Dawn|Natalie",
    "36": "Barbara|Betty|Brown",
    "38": "Delwyn|Sarah",
    "44": "Andrea",
    "45": "Mary",
    "47": "Mary",
    "52": "Nick",
    "53": "Laura",
    "54": "Scott",
    "56": "Denise|Fields|Smith",
    "57": "Johnson",
    "58": "Scott",
    "61": "Fields|Smith|Terri",
    "66": "Bruce Berger|Stowe",
    "67": "Sarah",
    "68": "Andrea",
    "69": "Martin",
    "70": "Lori|Martin",
    "71": "Billy",
    "74": "Emily",
    "76": "Deborah",
    "77": "Smith",
    "78": "Bruce Berger|Julie Thompson|Sarah",
    "80": "Jean",
    "83": "Rick",
    "84": "Billy",
    "85": "Scott",
    "87": "Sarah",
    "91": "Jean|Selby",
    "92": "Bruce Berger|Julie Thompson|Sarah",
    "94": "Ruth",
    "95": "Ruth",
    "96": "Katie",
    "97": "Smith",
    "98": "Kathy|Mary|Mike",
    "100": "John",
    "102": "Liz",
    "108": "Sarah",
    "111": "Beth|Katie|Smith",
    "113": "Sandra",
    "121": "Billy|Mark|Mike",
    "124": "Natalie",
    "126": "Ferris|Kaylie|Lori",
    "127": "John|Sal",
    "129": "Morrow",
    "132": "Green",
}
# Read in context and not a person (transcript, text, why).
NOT_PERSONS = {
    ("annomi", "100", "John"): "John Howard Society, an organisation",
    ("annomi", "121", "Green"): "Green Prescriptions, an organisation",
    ("annomi", "119", "fields"): "the word: what fields you might be interested in",
    ("annomi", "5", "nick"): "the verb: nick a car",
    ("annomi", "54", "jean"): "the word: those jeans",
    ("annomi", "62", "mark"): "the verb: mark out",
    ("annomi", "79", "green"): "the colour: a green light",
    ("annomi", "80", "mark"): "the verb: mark down",
    ("annomi", "91", "mark"): "the verb: mark that down",
    ("pdpilot", "P7.txt", "Zillow"): "a company: I'm Zillow and I'm trying to bid on homes",
}
# PDPilot: names were replaced by "X" upstream except the interviewer's; in the text (beside
# the "Dan:" speaker labels) he is named twice, "Thanks, Daniel" and "You too, Daniel".
PDPILOT_NAMES = ("Daniel",)


def pdpilot(shared: Path) -> dict[str, str]:
    folder = shared / "data" / "pdpilot-interviews" / "text"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("P*.txt"))}


def annomi(shared: Path) -> dict[str, str]:
    df = pd.read_csv(
        shared / "data" / "annomi" / "AnnoMI-full.csv", dtype=str, keep_default_na=False
    )
    rows = df.drop_duplicates(["transcript_id", "utterance_id"]).copy()
    rows["order"] = rows["utterance_id"].astype(int)
    return {
        tid: "\n".join(group.sort_values("order")["utterance_text"])
        for tid, group in rows.groupby("transcript_id")
    }


def scan_before(texts: dict[str, str]) -> dict[str, list]:
    """The earlier rule: every found name matched case-insensitively in every text."""
    first = {ref: detector_hits(text) for ref, text in texts.items()}
    found = Registry()
    seen: set[str] = set()
    for ref, hits in first.items():
        for value, category, _source, _home in found_names(hits, ref):
            if value[:1].isupper() and value.casefold() not in seen:
                seen.add(value.casefold())
                found.add(value, category)
    out = {}
    for ref, text in texts.items():
        spread = [h._replace(source="propagated:project") for h in found.find(text)]
        out[ref] = detections(text, first[ref] + spread)
    return out


def scan_now(texts: dict[str, str]) -> dict[str, list]:
    return scan_corpus(texts, Registry(), PseudonymBook())


def judge(corpus: str, found: dict[str, list], persons: dict[str, str]) -> tuple[int, int, list]:
    """(person proposals, persons among them, unlabelled proposals)."""
    total = right = 0
    unlabelled = []
    for ref, dets in found.items():
        for d in dets:
            if d.category != "person":
                continue
            total += 1
            if (corpus, ref, d.text) in NOT_PERSONS:
                continue
            if d.text in persons.get(ref, "").split("|"):
                right += 1
            else:
                unlabelled.append((ref, d))
    return total, right, unlabelled


def recall(texts: dict[str, str], found: dict[str, list], names) -> tuple[int, int]:
    pattern = re.compile(r"\b(?:" + "|".join(names) + r")\b")
    mentions = covered = 0
    for ref, text in texts.items():
        spans = [(d.start, d.end) for d in found.get(ref, [])]
        for m in pattern.finditer(text):
            mentions += 1
            covered += any(s <= m.start() and m.end() <= e for s, e in spans)
    return mentions, covered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = Path(__file__).resolve().parents[1].parent / "shared"
    parser.add_argument("--shared", type=Path, default=default_shared)
    parser.add_argument("--show", action="store_true", help="print every proposal")
    args = parser.parse_args()
    corpora = {
        "pdpilot": (pdpilot(args.shared), {}, PDPILOT_NAMES),
        "annomi": (annomi(args.shared), ANNOMI_PERSONS, ANNOMI_NAMES),
    }
    for corpus, (texts, persons, names) in corpora.items():
        words = sum(len(t.split()) for t in texts.values())
        print(f"## {corpus}: {len(texts)} transcripts, {words} words")
        for rule, scan in (("before", scan_before), ("now", scan_now)):
            started = time.perf_counter()
            found = scan(texts)
            seconds = time.perf_counter() - started
            total, right, unlabelled = judge(corpus, found, persons)
            mentions, covered = recall(texts, found, names)
            precision = f"{right / total:.3f}" if total else "n/a"
            print(
                f"{rule:>6}: {total} person proposals, {right} persons, precision {precision}; "
                f"hand-listed mentions covered {covered}/{mentions}; {seconds:.2f} s"
            )
            for ref, d in unlabelled:
                print(f"        unlabelled: {ref} {d.text!r} {d.source} {d.context}")
            if args.show:
                for ref, dets in found.items():
                    for d in dets:
                        print(f"        {ref}\t{d.text}\t{d.source}\t{d.context}")
        lower = sum(len(re.findall(r"\blearning\b", t)) for t in texts.values())
        print(f"        (the lower-case word 'learning' occurs {lower} times)")


if __name__ == "__main__":
    main()
