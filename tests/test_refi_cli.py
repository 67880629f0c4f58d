"""`caseframe export qdpx|qdc` and `caseframe import qdpx|qdc|codebook|codings`."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from caseframe.api import Project
from caseframe.cli.main import run

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "refi" / "samples"


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"REFI-QDA samples missing: expected them in {SAMPLES}")
    return SAMPLES


def test_export_import_export(example, tmp_path, capsys):
    root = str(example.root)
    assert run(["-p", root, "export", "qdpx", str(tmp_path / "a.qdpx")]) == 0
    out = capsys.readouterr().out
    assert "Wrote" in out and "Data-loss report: nothing lost." in out
    new = tmp_path / "copy"
    assert run(["import", "qdpx", str(tmp_path / "a.qdpx"), "--new", str(new)]) == 0
    out = capsys.readouterr().out
    assert "93 codings" in out and "18 documents" in out and "nothing lost" in out
    assert run(["-p", str(new), "export", "qdpx", str(tmp_path / "b.qdpx")]) == 0
    assert filecmp.cmp(tmp_path / "a.qdpx", tmp_path / "b.qdpx", shallow=False)
    assert run(["-p", root, "export", "qdc", str(tmp_path / "codes.qdc")]) == 0
    assert "lost: caseframe-only data of codes" in capsys.readouterr().out


def test_import_into_existing_refuses_duplicates(example, tmp_path, capsys):
    assert run(["-p", str(example.root), "export", "qdpx", str(tmp_path / "a.qdpx")]) == 0
    capsys.readouterr()
    copy = tmp_path / "copy"
    assert run(["import", "qdpx", str(tmp_path / "a.qdpx"), "--new", str(copy)]) == 0
    capsys.readouterr()
    code = run(["-p", str(copy), "import", "qdpx", str(tmp_path / "a.qdpx")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    assert run(["-p", str(copy), "import", "qdpx", str(tmp_path / "a.qdpx"), "--merge"]) == 0
    assert "Already in the project" in capsys.readouterr().out


def test_samples_and_hostile_file(project, tmp_path, samples, capsys):
    root = str(project.root)
    assert run(["-p", root, "import", "qdpx", str(samples / "qc-1.3.2_demo.qdpx")]) == 0
    out = capsys.readouterr().out
    assert "262 codes, 2 documents, 205 codings" in out
    assert "lost: names of selections (158)" in out
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert run(["-p", root, "import", "qdpx", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.qdpx" in err and err.count("\n") == 1
    assert not (tmp_path / "never").exists()
    assert run(["import", "qdpx", str(bad), "--new", str(tmp_path / "never")]) == 1
    assert not (tmp_path / "never").exists()


def test_qdc_dry_run_and_taguette(project, samples, capsys):
    root = str(project.root)
    qdc = str(samples / "generated" / "taguette-1.5.2_codebook.qdc")
    assert run(["-p", root, "import", "qdc", qdc, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "added      CFIR.Process.Champions" in out
    assert "Would change the code tree: 4 added" in out and "schema error" in out
    assert Project.open(project.root).codes() == []
    assert run(["-p", root, "import", "qdc", qdc]) == 0
    assert "Changed the code tree: 4 added" in capsys.readouterr().out
    assert run(["-p", root, "import", "qdc", qdc, "--strict"]) == 1
    assert "schema" in capsys.readouterr().err


def test_spreadsheet_commands(project, tmp_path, capsys):
    root = str(project.root)
    doc = tmp_path / "A5.txt"
    doc.write_text("A5: Det är svårt att få tid för handledning.\n", encoding="utf-8")
    assert run(["-p", root, "import", str(doc)]) == 0  # plain files still go to transcripts
    book = tmp_path / "codes.csv"
    book.write_text("Code,Memo\nHinder>Tid,brist på tid\n", encoding="utf-8")
    assert run(["-p", root, "import", "codebook", str(book), "--dry-run"]) == 0
    assert "added      Hinder/Tid" in capsys.readouterr().out
    assert run(["-p", root, "import", "codebook", str(book)]) == 0
    segments = tmp_path / "segments.csv"
    segments.write_text(
        "Document name;Code;Segment\nA5;Hinder>Tid;svårt att få tid\n", encoding="utf-8"
    )
    assert run(["-p", root, "import", "codings", str(segments)]) == 1
    assert "--coder" in capsys.readouterr().err
    assert run(["-p", root, "import", "codings", str(segments), "--coder", "Åsa"]) == 0
    assert "Imported 1 coders, 1 codings" in capsys.readouterr().out
    frame = Project.open(project.root).codings_frame()
    assert list(frame.text) == ["svårt att få tid"] and list(frame.code_path) == ["Hinder/Tid"]
