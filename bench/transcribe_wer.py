"""Transcription: word error rate per language, real-time factor and peak memory.

Speech is made with espeak-ng (as in the tests): English from the managers' quotes in the seed
study, Swedish from the sentences in tests/speech.py, each language as one recording with the
sentences 1.6 s apart in two alternating voices. Each recording goes through the whole pipeline
(`Project.transcribe`: ffmpeg, chunks, faster-whisper, turns, store); WER is computed over all
sentences of a language together (errors summed / reference words summed), after lower-casing
and dropping punctuation. Then a long recording (sentences repeated to --long-minutes) measures
speed over several chunks, and a 90-minute file is decoded in chunks to show memory stays flat.

    PYTHONPATH=src:tests python bench/transcribe_wer.py [--model-path DIR] [--long-minutes 6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

import numpy as np  # noqa: E402

import speech  # noqa: E402
from caseframe.api import Project  # noqa: E402
from caseframe.transcribe.wer import corpus_wer, words  # noqa: E402

SEED = REPO.parent / "shared" / "seed" / "grim-2022-managing-peer-support-workers.txt"
VOICES = {"en": ("en", "en-us+f3"), "sv": ("sv", "sv+f3")}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # this process's peak


def sentences(language: str, count: int) -> list[str]:
    if language == "en":
        return [s for _who, s in speech.seed_utterances(SEED.read_text("utf-8"))][:count]
    return speech.SWEDISH[:count]


def run_language(project, model, folder, language, count, beam) -> dict:
    from caseframe.transcribe.engine import Settings

    refs = sentences(language, count)
    voices = VOICES[language]
    clip = folder / f"{language}.wav"
    times = speech.dialogue(clip, [(voices[i % 2], s) for i, s in enumerate(refs)])
    began = time.monotonic()
    (result,) = project.transcribe(
        [clip],
        model,
        language=language,
        state_dir=folder / "state",
        settings=Settings(beam_size=beam),
    )
    wall = time.monotonic() - began
    if not result.ok:
        raise SystemExit(result.error)
    text = project.document(result.document).text
    audio_s = times[-1][1] + 0.5
    return {
        "language": language,
        "sentences": len(refs),
        "reference_words": sum(len(words(r)) for r in refs),
        "audio_seconds": round(audio_s, 1),
        "wer": round(corpus_wer([(" ".join(refs), text)]), 3),
        "turns_found": result.turns,
        "real_time_factor": round(result.real_time_factor or 0, 3),
        "wall_seconds": round(wall, 1),
    }


def run_long(project, model, folder, minutes: float, beam: int) -> dict:
    from caseframe.transcribe.engine import Settings

    refs = sentences("en", 40)
    lines, total = [], 0.0
    per_round = [(VOICES["en"][i % 2], s) for i, s in enumerate(refs)]
    probe = speech.dialogue(folder / "probe.wav", per_round)
    rounds = max(1, int(minutes * 60 // probe[-1][1]) + 1)
    for _ in range(rounds):
        lines += per_round
    clip = folder / "long.wav"
    times = speech.dialogue(clip, lines)
    total = times[-1][1] + 0.5
    began = time.monotonic()
    (result,) = project.transcribe(
        [clip],
        model,
        language="en",
        chunk_seconds=300,
        state_dir=folder / "state",
        settings=Settings(beam_size=beam),
    )
    if not result.ok:
        raise SystemExit(result.error)
    text = project.document(result.document).text
    return {
        "audio_minutes": round(total / 60, 1),
        "chunks_of_5_min": int(np.ceil(total / 300)),
        "wer": round(corpus_wer([(" ".join(s for _v, s in lines), text)]), 3),
        "real_time_factor": round(result.real_time_factor or 0, 3),
        "wall_seconds": round(time.monotonic() - began, 1),
        "peak_rss_mib_whole_bench_process": round(peak_rss_mib()),
    }


DECODE = """
import sys
sys.path.insert(0, {src!r})
from caseframe.transcribe import audio
info = audio.probe({path!r})
seen = 0
for chunk in audio.chunks(info, chunk_seconds=300):
    seen += len(chunk.samples)
status = open("/proc/self/status").read()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
print(seen / audio.SAMPLE_RATE, int(peak) / 1024)
"""


def decode_90_minutes(folder: Path) -> dict:
    """Decode a 90-minute file in 5-minute chunks in a fresh process; its peak resident memory
    (VmHWM: getrusage's maxrss would carry over the parent's across fork and exec)."""
    path = folder / "ninety.flac"
    noise = ["-f", "lavfi", "-i", "anoisesrc=a=0.05:c=pink:r=16000:d=5400", "-ac", "1"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *noise, str(path)], check=True)
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", DECODE.format(src=str(REPO / "src"), path=str(path))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    whole_mib = 5400 * 16000 * 4 / 2**20
    return {
        "audio_minutes": round(float(out[0]) / 60, 1),
        "peak_rss_mib": round(float(out[1])),
        "whole_recording_as_float32_mib": round(whole_mib),
        "decode_seconds": round(time.monotonic() - began, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-path", type=Path, default=None)
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--long-minutes", type=float, default=6.0)
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "transcribe.json")
    args = parser.parse_args()
    missing = speech.have_tools()
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: {speech.SETUP_HINT}")
    model = args.model_path or speech.model_folder()
    report = {
        "model": str(model),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "settings": f"CPU int8, beam {args.beam_size}, VAD on, word timestamps on",
    }
    with tempfile.TemporaryDirectory(prefix="caseframe-bench-") as tmp:
        folder = Path(tmp)
        project = Project.init(folder / "proj")
        report["per_language"] = [
            run_language(project, model, folder, lang, args.sentences, args.beam_size)
            for lang in ("en", "sv")
        ]
        if args.long_minutes > 0:
            report["long_recording"] = run_long(
                project, model, folder, args.long_minutes, args.beam_size
            )
        report["decode_90_minutes"] = decode_90_minutes(folder)
        project.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
