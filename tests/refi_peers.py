"""Running peer QDA tools on our exports, for the interoperability tests and bench/refi_vs_qc.py.

qc (PyPI qualitative-coding 1.7.8) is driven through its own Python classes, the ones its
`qc init --import` and `qc export` commands call, each in a child process whose working folder is
the qc project (qc resolves its settings relative to it). Its command line is not used because
it imports spaCy at start-up for an unrelated command; its REFI reader also stops at a leftover
`breakpoint()`, switched off here with PYTHONBREAKPOINT=0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

QC_IMPORT = r"""
import json, sys
from pathlib import Path
import yaml
from qualitative_coding.corpus import QCCorpus
from qualitative_coding.refi_qda.reader import REFIQDAReader

REFIQDAReader(sys.argv[1]).unpack_project(Path.cwd())
corpus = QCCorpus(Path.cwd() / "settings.yaml")
with corpus.session():
    documents = {d.file_path: (corpus.corpus_dir / d.file_path).read_text(encoding="utf-8")
                 for d in corpus.get_documents()}
    # rows are (code, coder, line, document file path)
    coded = [[r[3], r[2], r[0], r[1]] for r in corpus.get_coded_lines()]
    coders = sorted(c.name for c in corpus.get_all_coders())
codebook, stack = [], [yaml.safe_load(Path(corpus.codebook_path).read_text()) or []]
while stack:
    node = stack.pop()
    items = node if isinstance(node, list) else [node]
    for item in items:
        if isinstance(item, dict):
            for name, children in item.items():
                codebook.append(name)
                stack.append(children or [])
        elif item is not None:
            codebook.append(item)
Path(sys.argv[2]).write_text(json.dumps(
    {"documents": documents, "coded": coded, "coders": coders, "codebook": codebook}))
"""


def qc_python() -> str:
    """The interpreter that has qc: $CASEFRAME_QC_PYTHON (CI installs qc in a venv of its own,
    because its pins would downgrade our dependencies), else this one."""
    return os.environ.get("CASEFRAME_QC_PYTHON") or sys.executable


def qc_available() -> bool:
    done = subprocess.run(
        [qc_python(), "-c", "import qualitative_coding"], capture_output=True, timeout=120
    )
    return done.returncode == 0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONBREAKPOINT": "0"}


def qc_import(qdpx: Path, folder: Path) -> dict:
    """What qc keeps of a .qdpx: documents (name -> text), coded lines [file, line, code,
    coder], coders and the codebook's code names, read back from the qc project it made."""
    folder.mkdir(parents=True)
    answer = folder.parent / f"{folder.name}.json"  # qc logs on stdout
    done = subprocess.run(
        [qc_python(), "-c", QC_IMPORT, str(qdpx.resolve()), str(answer.resolve())],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"qc import failed:\n{done.stderr[-3000:]}")
    return json.loads(answer.read_text(encoding="utf-8"))


QC_EXPORT = r"""
import sys
from qualitative_coding.refi_qda.writer import REFIQDAWriter

REFIQDAWriter("settings.yaml").write(sys.argv[1])
"""


def qc_export(folder: Path, out: Path) -> Path:
    """qc's own .qdpx export (what `qc export` runs) of the qc project in `folder`."""
    done = subprocess.run(
        [qc_python(), "-c", QC_EXPORT, str(out.resolve())],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"qc export failed:\n{done.stderr[-3000:]}")
    return out
