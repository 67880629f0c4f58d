"""A plain install of this working tree for the start-up benches: a virtual environment with
`pip install .` and no extras (what a new user gets), in bench/out/plain-venv.

The environment is made once (its dependencies come from the package index); caseframe itself is
reinstalled from the working tree whenever a file under src/ or pyproject.toml changed, so the
figures are always those of the code at hand. pip writes the .pyc files at install time, as for
any user; the commands then run with an environment that neither points PYTHONPATH at src/ nor
forbids bytecode caches (PYTHONDONTWRITEBYTECODE would make every run compile caseframe anew).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / "bench" / "out" / "plain-venv"
STAMP = VENV / "caseframe-source.sha256"


def child_env() -> dict[str, str]:
    """The environment for a timed command: no PYTHONPATH, bytecode caches allowed."""
    drop = {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONHOME", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _source_digest() -> str:
    digest = hashlib.sha256()
    files = [REPO / "pyproject.toml", *sorted((REPO / "src" / "caseframe").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def plain_python(quiet: bool = True) -> Path:
    """The plain install's interpreter, made or brought up to date first."""
    python = VENV / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", *(["-q"] if quiet else [])]
    env = child_env()
    if not python.exists():
        print(f"# making {VENV} (pip install . without extras)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, env=env)
        subprocess.run([*pip, str(REPO)], check=True, env=env)
        STAMP.write_text(_source_digest())
    digest = _source_digest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        print("# reinstalling caseframe from the working tree", file=sys.stderr)
        subprocess.run([*pip, "--no-deps", "--force-reinstall", str(REPO)], check=True, env=env)
        STAMP.write_text(digest)
    return python


def caseframe_command() -> list[str]:
    """The installed `caseframe` script of the plain install (what a user types)."""
    return [str(plain_python().parent / "caseframe")]


def describe() -> str:
    """One line naming the install: Python, and the versions of the libraries start-up hinges
    on."""
    code = (
        "import importlib.metadata as m, platform; print('Python', platform.python_version(), "
        "'; '.join(f'{p} {m.version(p)}' for p in "
        "('typer', 'rich', 'sqlalchemy', 'pydantic', 'pandas', 'numpy')))"
    )
    done = subprocess.run(
        [str(plain_python()), "-c", code], capture_output=True, text=True, env=child_env()
    )
    return done.stdout.strip()
