"""Reading recordings with Debian's ffmpeg: probing, and decoding in bounded chunks.

A recording is decoded by one ffmpeg process into 16 kHz mono float samples (what Whisper
reads) and handed out in chunks of about `chunk_seconds`, so a 90-minute interview never sits
in memory whole. Each chunk ends at the quietest moment of its last few seconds, so a cut falls
between words rather than through one; decoding can start at any offset, which is how an
interrupted run resumes at the end of its last finished chunk.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from caseframe.errors import InvalidInput, NotFound

SAMPLE_RATE = 16_000
_READ_SECONDS = 1.0  # how much is read from ffmpeg at a time
_FRAME = 480  # 30 ms frames for the loudness used to place cuts and to find silence
SILENCE_DBFS = -50.0  # a recording whose loudest 30 ms stays below this holds no speech
EXTRA_MIME = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
}


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    duration: float  # seconds, as the container states (0.0 when it does not)
    codec: str
    container: str
    size: int

    @property
    def mime_type(self) -> str:
        suffix = self.path.suffix.lower()
        return EXTRA_MIME.get(suffix) or mimetypes.guess_type(self.path.name)[0] or "audio/mpeg"


@dataclass(frozen=True)
class Chunk:
    index: int
    start: float  # seconds from the start of the recording
    samples: np.ndarray  # float32, SAMPLE_RATE Hz, mono

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / SAMPLE_RATE


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(
            f"{name} is not installed; transcription decodes audio with it",
            hint="install it (Debian: apt-get install ffmpeg)",
        )
    return found


def probe(path: str | Path) -> AudioInfo:
    """What the recording is, or one clear line saying why it is not usable."""
    path = Path(path)
    if not path.is_file():
        raise NotFound("no such audio file", where=str(path), hint="check the path")
    cmd = [
        tool("ffprobe"),
        "-v",
        "error",
        "-show_entries",
        "format=duration,format_name:stream=codec_type,codec_name",
        "-of",
        "json",
        str(path),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        reason = _first_line(run.stderr).removeprefix(f"{path}: ")
        raise InvalidInput(
            f"not an audio file ffmpeg can read ({reason or 'unknown format'})",
            where=str(path),
            hint="give a wav, mp3, m4a, ogg or flac recording",
        )
    data = json.loads(run.stdout or "{}")
    streams = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise InvalidInput(
            "the file has no audio stream",
            where=str(path),
            hint="give a wav, mp3, m4a, ogg or flac recording",
        )
    fmt = data.get("format", {})
    try:
        duration = float(fmt.get("duration") or 0.0)
    except ValueError:
        duration = 0.0
    return AudioInfo(
        path=path,
        duration=duration,
        codec=streams[0].get("codec_name", "?"),
        container=fmt.get("format_name", "?"),
        size=path.stat().st_size,
    )


def chunks(
    info: AudioInfo,
    chunk_seconds: float = 300.0,
    start: float = 0.0,
    first_index: int = 0,
    search_seconds: float = 5.0,
) -> Iterator[Chunk]:
    """Decode from `start` (seconds) and yield chunks of about `chunk_seconds` each.

    Raises InvalidInput when ffmpeg reports damaged data or the decoded audio ends clearly
    before the length the file states (a cut-off download, a broken copy).
    """
    if chunk_seconds <= search_seconds:
        raise InvalidInput(f"chunks must be longer than {search_seconds:g} seconds")
    cmd = [
        tool("ffmpeg"),
        "-nostdin",
        "-v",
        "error",
        "-xerror",
        *(["-ss", f"{start:.3f}"] if start > 0 else []),
        "-i",
        str(info.path),
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "f32le",
        "-",
    ]
    target = int(chunk_seconds * SAMPLE_RATE)
    search = int(search_seconds * SAMPLE_RATE)
    block = int(_READ_SECONDS * SAMPLE_RATE) * 4
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    index, offset = first_index, start
    pending: list[np.ndarray] = []
    held = 0
    try:
        assert proc.stdout is not None
        while True:
            raw = proc.stdout.read(block)
            if raw:
                data = np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<f4")
                pending.append(data)
                held += len(data)
            if held >= target or (not raw and held):
                buffer = np.concatenate(pending) if len(pending) > 1 else pending[0]
                cut = len(buffer) if not raw else quiet_cut(buffer, target - search, target)
                yield Chunk(index, offset, np.ascontiguousarray(buffer[:cut], dtype=np.float32))
                index += 1
                offset += cut / SAMPLE_RATE
                rest = buffer[cut:]
                pending, held = ([rest], len(rest)) if len(rest) else ([], 0)
            if not raw:
                break
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    if code != 0:
        raise InvalidInput(
            f"the recording is damaged (ffmpeg: {_first_line(err) or f'exit {code}'})",
            where=str(info.path),
        )
    shortfall = info.duration - offset
    if info.duration and shortfall > max(1.0, 0.02 * info.duration):
        raise InvalidInput(
            f"the recording ends early: {offset:.1f} of {info.duration:.1f} seconds could be "
            "decoded",
            where=str(info.path),
            hint="the file is damaged or cut short; copy it again from the recorder",
        )


def quiet_cut(samples: np.ndarray, lo: int, hi: int) -> int:
    """The sample index in [lo, hi) at the start of the quietest 30 ms frame."""
    lo = max(0, lo)
    hi = min(len(samples), hi)
    frames = (hi - lo) // _FRAME
    if frames < 1:
        return hi
    window = samples[lo : lo + frames * _FRAME].reshape(frames, _FRAME)
    energy = np.einsum("ij,ij->i", window, window)
    return lo + int(np.argmin(energy)) * _FRAME


def loudest_dbfs(samples: np.ndarray) -> float:
    """The level of the loudest 30 ms frame, in dB relative to full scale."""
    frames = len(samples) // _FRAME
    if frames < 1:
        return -np.inf
    window = samples[: frames * _FRAME].reshape(frames, _FRAME)
    rms = float(np.sqrt(np.max(np.mean(window * window, axis=1))))
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def mute(info: AudioInfo, stretches_ms: list[tuple[int, int]], out: Path) -> None:
    """Write the recording to `out` (Ogg Opus) with the given stretches silenced.

    Used with --pseudonymise: the stretches are where replaced names were said, so the audio
    kept beside the transcript does not say them either.
    """
    expr = "+".join(f"between(t,{a / 1000:.3f},{b / 1000:.3f})" for a, b in stretches_ms)
    cmd = [tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(info.path), "-vn"]
    if expr:
        cmd += ["-af", f"volume=0:enable='{expr}'"]
    cmd += ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise InvalidInput(
            f"cannot write the muted recording (ffmpeg: {_first_line(run.stderr)})",
            where=str(info.path),
        )
