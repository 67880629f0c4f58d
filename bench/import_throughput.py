"""Import throughput: read_document + detect_turns + segment, in words per second and peak memory.

Corpora:
  synthetic  N generated transcripts of W words each (interviewer/respondent turns mixing Swedish
             and English words, seeded RNG), written as UTF-8 .txt files in a temporary folder;
  pdpilot    the 7 real PDPilot transcripts (../shared/data/pdpilot-interviews), as pdftotext
             .txt and as the original PDFs.

Method: each corpus is processed `--repeat` times (PDFs `--pdf-repeat` times); the reported
time is the fastest run (least disturbed by other processes on a shared machine), measured
with time.perf_counter around the whole loop: file read, decoding, normalisation, turn
detection, segmentation into turn, paragraph and sentence units. Memory is measured in a
separate run under tracemalloc (peak of Python allocations while processing the corpus, one
document held at a time) and as the process's maximum resident set size from
resource.getrusage (includes the interpreter and the libraries). Words are counted with
caseframe.ingest.word_count, so speaker labels count as words.

    .venv/bin/python bench/import_throughput.py [--docs 100] [--words 8000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from caseframe.ingest import SCHEMES, read_document, segment, word_count

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PDPILOT = SHARED / "data" / "pdpilot-interviews"

SWEDISH = (
    "och det att som en på är av för med till den har inte om ett var jag vi de men så kan "
    "när från efter mycket arbete stöd vården personal kommunen regionen Göteborg möte "
    "förändring utbildning ledning samverkan brukare kamratstöd hållbarhet resurser tid "
    "verksamheten självklart ungefär tillsammans svårt bättre också alltid frågan"
).split()
ENGLISH = (
    "the and to of a in that is was it for on with as we they but so have not this at be "
    "support staff training funding leadership peer worker service sustainability meeting "
    "change team manager evaluation implementation capacity partnership community really"
).split()


def generate_corpus(folder: Path, docs: int, words: int, seed: int) -> tuple[list[Path], int]:
    """Transcripts alternating Interviewer/Respondent turns, wrapped at about 90 characters.

    Returns the files and the number of turns written (to check turn detection against).
    """
    rng = random.Random(seed)
    paths = []
    written_turns = 0
    for n in range(docs):
        lines: list[str] = [f"Intervju {n + 1}", ""]
        written = 0
        speaker = "Interviewer"
        while written < words:
            size = min(
                words - written,
                rng.randint(8, 40) if speaker == "Interviewer" else rng.randint(30, 250),
            )
            vocabulary = SWEDISH if rng.random() < 0.5 else ENGLISH
            turn = [rng.choice(vocabulary) for _ in range(size)]
            for i in range(7, size, rng.randint(8, 14)):
                turn[i] += rng.choice(".?,")
            turn[-1] += "."
            lines.extend(_wrap(f"{speaker}: " + " ".join(turn), 90))
            lines.append("")
            written += size
            written_turns += 1
            speaker = "Respondent" if speaker == "Interviewer" else "Interviewer"
        path = folder / f"synthetic-{n + 1:03d}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths, written_turns


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = "    " + word  # continuation lines are indented
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current]


def process(paths: list[Path]) -> tuple[int, int, int]:
    """Import each file as the CLI will: read, detect turns, cut units in every scheme."""
    words = turns = units = 0
    for path in paths:
        doc = read_document(path)  # decoding, normalisation and detect_turns
        words += word_count(doc.text)
        turns += len(doc.turns)
        for scheme in SCHEMES:
            units += len(segment(doc.text, doc.turns, scheme))
    return words, turns, units


def measure(name: str, paths: list[Path], repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        words, turns, units = process(paths)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    process(paths)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = min(times)
    return {
        "corpus": name,
        "documents": len(paths),
        "bytes": sum(p.stat().st_size for p in paths),
        "words": words,
        "turns": turns,
        "units_all_schemes": units,
        "seconds_best": round(best, 3),
        "seconds_all": [round(t, 3) for t in times],
        "words_per_second": round(words / best),
        "tracemalloc_peak_mib": round(peak / 2**20, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3)
    # pypdf dominates and is slow under tracemalloc: one timed run keeps the script near 30 s.
    parser.add_argument("--pdf-repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory(prefix="caseframe-bench-") as tmp:
        paths, written_turns = generate_corpus(Path(tmp), args.docs, args.words, args.seed)
        results.append(measure(f"synthetic {args.docs}x{args.words}", paths, args.repeat))
        if results[-1]["turns"] != written_turns:
            print(f"error: {written_turns} turns written, {results[-1]['turns']} detected")
            return 1
    if PDPILOT.exists():
        results.append(
            measure("pdpilot txt", sorted((PDPILOT / "text").glob("P*.txt")), args.repeat)
        )
        results.append(
            measure("pdpilot pdf", sorted((PDPILOT / "pdf").glob("P*.pdf")), args.pdf_repeat)
        )
    else:
        print(f"note: {PDPILOT} not found; PDPilot corpus skipped", file=sys.stderr)
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    print(
        f"caseframe import throughput — Python {platform.python_version()}, "
        f"{platform.machine()}, {platform.system()}; best of {args.repeat} runs "
        f"({args.pdf_repeat} for PDF)"
    )
    header = (
        f"{'corpus':<22}{'docs':>6}{'words':>10}{'turns':>8}{'seconds':>9}"
        f"{'words/s':>11}{'peak MiB':>10}"
    )
    print(header)
    for r in results:
        print(
            f"{r['corpus']:<22}{r['documents']:>6}{r['words']:>10}{r['turns']:>8}"
            f"{r['seconds_best']:>9.3f}{r['words_per_second']:>11,}"
            f"{r['tracemalloc_peak_mib']:>10.2f}"
        )
    print(f"process max RSS (whole run, getrusage): {max_rss_mib:.1f} MiB")
    print(
        "time: read_document (read, decode, NFC, detect_turns) + segment in turn, paragraph "
        "and sentences schemes; peak MiB: tracemalloc peak in a separate run"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": results,
                    "max_rss_mib": round(max_rss_mib, 1),
                    "args": {k: str(v) for k, v in vars(args).items()},
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
