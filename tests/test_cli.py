"""The CLI: commands work end to end; bad input gives one line, a non-zero exit, no traceback."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from caseframe.cli.main import run

CASEFRAME = [sys.executable, "-m", "caseframe"]


def cf(capsys, *args):
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def proj(tmp_path, capsys):
    code, _out, _err = cf(capsys, "init", tmp_path / "p")
    assert code == 0
    return tmp_path / "p"


def test_full_workflow_through_the_cli(proj, tmp_path, capsys, shared):
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "id,label,kind,parent,setting\nA,Region A,region,,\n"
        "A-S1,Service,site,A,municipal social psychiatry\nA5,Manager A5,respondent,A-S1,\n"
    )
    assert cf(capsys, "-p", proj, "cases", "import", cases)[0] == 0
    code, out, _ = cf(capsys, "-p", proj, "cases", "list", "--json")
    listed = json.loads(out)
    assert [c["key"] for c in listed] == ["A", "A-S1", "A5"]
    assert listed[2]["setting"] == "municipal social psychiatry"
    code, out, _ = cf(capsys, "-p", proj, "cases", "table", "--json")
    assert json.loads(out)["rows"][0]["respondents"] == 1

    p1 = shared / "data" / "pdpilot-interviews" / "text" / "P1.txt"
    assert cf(capsys, "-p", proj, "import", p1, "--case", "A5")[0] == 0
    code, out, _ = cf(capsys, "-p", proj, "documents", "list", "--json")
    doc = json.loads(out)[0]
    assert doc["cases"] == "A5" and doc["turns"] > 80

    assert (
        cf(
            capsys,
            "-p",
            proj,
            "codes",
            "add",
            "Purposes",
            "--kind",
            "category",
            "--maps-to",
            "sis:O4",
        )[0]
        == 0
    )
    text = (Path(proj) / "x").parent  # noqa: F841
    code, out, _ = cf(
        capsys,
        "-p",
        proj,
        "code",
        "P1.txt",
        "10",
        "40",
        "Purposes",
        "--coder",
        "KG",
        "--valence",
        "facilitator",
    )
    assert code == 0 and "Coding 1" in out
    code, out, _ = cf(capsys, "-p", proj, "codings", "list", "--json")
    assert json.loads(out)[0]["valence"] == "facilitator"
    code, out, _ = cf(capsys, "-p", proj, "framework", "show", "sis", "--json")
    sis = json.loads(out)
    assert len(sis["components"]) == 24
    assert {"id", "name", "level", "definition", "questions"} <= set(sis["components"][0])
    out_md = tmp_path / "guide.md"
    assert (
        cf(capsys, "-p", proj, "protocol", "--framework", "sis", "--format", "md", "--out", out_md)[
            0
        ]
        == 0
    )
    assert "Financial strategy" in out_md.read_text()


def _one_line_error(code, err):
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "content,name,needle",
    [
        (None, "missing.txt", "missing.txt"),
        (b"", "empty.txt", "empty"),
        (b"\x00\x01\x02\xff" * 100, "binary.txt", "binary"),
        (b"PK\x03\x04garbage", "corrupt.docx", "corrupt.docx"),
        (b"hello", "notes.xyz", ".xyz"),
    ],
)
def test_bad_files_one_line_each_and_nothing_stored(proj, tmp_path, capsys, content, name, needle):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = cf(capsys, "-p", proj, "import", path)
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle.lower() in errors[0].lower()
    assert "Traceback" not in err
    code, out, _ = cf(capsys, "-p", proj, "documents", "list", "--json")
    assert json.loads(out) == []


def test_pdf_without_text_layer(proj, tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.gca().axis("off")
    fig.savefig(tmp_path / "scan.pdf")
    plt.close(fig)
    code, _out, err = cf(capsys, "-p", proj, "import", tmp_path / "scan.pdf")
    assert code == 1 and "text layer" in err


@pytest.mark.parametrize(
    "args,needle",
    [
        (["code", "nodoc.txt", "0", "5", "X", "--coder", "KG"], "unknown document"),
        (["cases", "show", "Z9"], "unknown case 'Z9'"),
        (["cases", "add", "A"], None),
        (["codes", "move", "nocode", "--parent", "x"], "unknown code"),
        (["framework", "show", "nope"], "unknown framework"),
        (["cases", "table", "--by", "sector"], "unknown attribute"),
    ],
)
def test_user_errors_are_one_line(proj, capsys, args, needle):
    code, _out, err = cf(capsys, "-p", proj, *args)
    if needle is None:  # first add works, second is a duplicate
        assert code == 0
        code, _out, err = cf(capsys, "-p", proj, *args)
        needle = "already exists"
    _one_line_error(code, err)
    assert needle in err


def test_offsets_outside_the_document(proj, tmp_path, capsys):
    doc = tmp_path / "d.txt"
    doc.write_text("I: hi\nR: hello\n")
    cf(capsys, "-p", proj, "import", doc)
    cf(capsys, "-p", proj, "codes", "add", "C")
    for start, end in (("0", "999"), ("5", "5"), ("7", "3")):
        code, _out, err = cf(capsys, "-p", proj, "code", "d.txt", start, end, "C", "--coder", "K")
        _one_line_error(code, err)
        assert "do not fit document" in err


def test_duplicate_case_and_cycles_via_cli(proj, tmp_path, capsys):
    csv = tmp_path / "c.csv"
    csv.write_text("id,label,kind,parent\nA,A,region,\nA,A,region,\n")
    code, _o, err = cf(capsys, "-p", proj, "cases", "import", csv)
    _one_line_error(code, err)
    assert "duplicate case id" in err and "c.csv:3" in err
    cf(capsys, "-p", proj, "codes", "add", "Top")
    cf(capsys, "-p", proj, "codes", "add", "Child", "--parent", "Top")
    code, _o, err = cf(capsys, "-p", proj, "codes", "move", "Top", "--parent", "Child")
    _one_line_error(code, err)
    assert "cycle" in err


def test_not_a_project_and_newer_schema(tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    code, _o, err = cf(capsys, "-p", tmp_path / "plain", "cases", "list")
    _one_line_error(code, err)
    assert "not a caseframe project" in err
    cf(capsys, "init", tmp_path / "p")
    db = sqlite3.connect(tmp_path / "p" / "project.sqlite")
    db.execute("UPDATE alembic_version SET version_num='9999'")
    db.commit()
    db.close()
    code, _o, err = cf(capsys, "-p", tmp_path / "p", "cases", "list")
    _one_line_error(code, err)
    assert "newer version" in err


def test_the_installed_command_prints_no_traceback(tmp_path):
    result = subprocess.run(
        [*CASEFRAME, "-p", str(tmp_path), "documents", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error: ")
    assert "Traceback" not in result.stderr


def test_usage_errors_are_short_and_without_traceback(proj, capsys):
    for args in (["cases", "list", "--nope"], ["codes", "bogus"]):
        code, _out, err = cf(capsys, "-p", proj, *args)
        assert code == 2
        assert "Traceback" not in err and "Error:" in err


def test_show_case_without_documents_and_tree_shows_components(proj, capsys, tmp_path):
    cases = tmp_path / "c.csv"
    cases.write_text("id,kind,staff\nS1,site,12\nS2,site,\n")
    cf(capsys, "-p", proj, "cases", "import", cases)
    code, out, _ = cf(capsys, "-p", proj, "cases", "show", "S2", "--json")
    assert code == 0 and json.loads(out)["documents"] == []
    code, out, _ = cf(capsys, "-p", proj, "cases", "list", "--json")
    assert [c["staff"] for c in json.loads(out)] == [12, None]
    cf(capsys, "-p", proj, "codes", "add", "Financial strategy", "--framework-component", "sis:O10")
    code, out, _ = cf(capsys, "-p", proj, "codes", "tree")
    assert "[sis:O10]" in out
