"""Our .qdpx exports read by peer tools we can run here: what each keeps (docs/refi.md's table).

qc (qualitative-coding 1.7.8) imports a .qdpx into a line-based project. Its reader places a
selection by its `line:N` name; without one it calls get_line_for_position, which returns line 0
for every position (qc's defect), so `export qdpx --line-names` names each selection after the
line it starts on. Taguette 1.5.2 is not run: its codebook import reads CSV only (no .qdc), and it
pins SQLAlchemy < 1.5, which cannot share an environment with caseframe.
"""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.interop.refi import read_qdpx
from caseframe.interop.refi.values import line_of, line_starts
from refi_peers import qc_available, qc_export, qc_import

QC_MISSING = "qc is not installed: scripts/test makes .venv-qc and sets CASEFRAME_QC_PYTHON"


@pytest.fixture(autouse=True, scope="module")
def _qc():
    if not qc_available():
        if os.environ.get("CI"):
            pytest.fail(QC_MISSING, pytrace=False)
        pytest.skip(QC_MISSING)


def qc_file(name: str) -> str:
    """The file name qc gives a source: the source's name with the text file's suffix."""
    return str(Path(name).with_suffix(".txt"))


def expected_lines(qdpx: Path) -> tuple[dict[str, str], set[tuple[str, int, str, str]], int]:
    """Texts, the (file, start line, code, coder) of every coding, and how many codings there are,
    read from the archive itself."""
    refi, _ = read_qdpx(qdpx)
    code_name = {c.guid: c.name for c in refi.walk_codes()}
    user_name = {u.guid: u.name for u in refi.users}
    texts, lines, total = {}, set(), 0
    for source in refi.sources:
        texts[qc_file(source.name)] = source.text
        starts = line_starts(source.text)
        for selection in source.selections:
            for coding in selection.codings:
                total += 1
                line = line_of(starts, selection.start)
                lines.add(
                    (
                        qc_file(source.name),
                        line,
                        code_name[coding.code_guid],
                        user_name[coding.creating_user],
                    )
                )
    return texts, lines, total


@pytest.fixture(scope="module")
def exports(example_build, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("peers")
    root = str(example_build.project.root)
    out = {"plain": folder / "plain.qdpx", "lines": folder / "lines.qdpx"}
    assert run(["-p", root, "export", "qdpx", str(out["plain"])]) == 0
    assert run(["-p", root, "export", "qdpx", "--line-names", str(out["lines"])]) == 0
    return out


@pytest.fixture(scope="module")
def qc_lines(exports, tmp_path_factory) -> tuple[Path, dict]:
    """The qc project made by qc's import of our --line-names export, and what it kept."""
    folder = tmp_path_factory.mktemp("qc") / "lines"
    return folder, qc_import(exports["lines"], folder)


def test_qc_keeps_documents_and_codes_but_puts_unnamed_selections_on_line_0(exports, tmp_path):
    texts, lines, total = expected_lines(exports["plain"])
    kept = qc_import(exports["plain"], tmp_path / "qc")
    assert kept["documents"] == texts  # all 18 documents, text unchanged
    codes = {name for _file, _line, name, _coder in lines}
    assert codes <= set(kept["codebook"]) and len(kept["codebook"]) == 13  # the whole tree
    assert kept["coders"] == ["Grim et al. (consensus)"]
    # qc's defect: every coding lands on line 0, and codings of one code in one document merge
    assert {line for _file, line, _code, _coder in kept["coded"]} == {0}
    collapsed = {(f, code, coder) for f, _line, code, coder in lines}
    assert len(kept["coded"]) == len(collapsed) == 45 and total == 93


def test_line_names_let_qc_keep_every_coding_at_its_line(exports, qc_lines):
    texts, lines, total = expected_lines(exports["lines"])
    kept = qc_lines[1]
    assert kept["documents"] == texts
    assert {tuple(row) for row in kept["coded"]} == lines
    assert len(kept["coded"]) == len(lines) == total == 93  # no two codings share a line here
    # qc's own line for each coding is the line its text starts on
    for file, line, _code, _coder in kept["coded"]:
        assert 0 <= line < len(texts[file].split("\n"))


def test_line_names_cost_caseframe_nothing(exports, tmp_path, capsys):
    copy = tmp_path / "copy"
    assert run(["import", "qdpx", str(exports["lines"]), "--new", str(copy)]) == 0
    assert "nothing lost" in capsys.readouterr().out
    again = tmp_path / "again.qdpx"
    assert run(["-p", str(copy), "export", "qdpx", "--line-names", str(again)]) == 0
    assert filecmp.cmp(exports["lines"], again, shallow=False)
    with Project.open(copy) as project:
        assert project.refi_project().counts()["codings"] == 93


def test_qc_export_of_our_data_comes_back_as_whole_lines(exports, qc_lines, tmp_path):
    texts, lines, _total = expected_lines(exports["lines"])
    archive = qc_export(qc_lines[0], tmp_path / "from-qc.qdpx")
    project, result = Project.from_qdpx(archive, tmp_path / "back")
    try:
        assert result.added["documents"] == 18 and result.added["codes"] == 13
        assert result.added["codings"] == len(lines) == 93
        frame = project.codings_frame()
        # every coding comes back as the whole line it started on, under the same code
        for row in frame.itertuples():
            text = texts[row.document]
            line = line_of(line_starts(text), row.start)
            assert row.text == text.splitlines(keepends=True)[line]
            assert (row.document, line, row.code.rsplit("/", 1)[-1], row.coder) in lines
    finally:
        project.close()
