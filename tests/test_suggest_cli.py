"""`caseframe suggest ...` and `caseframe bench suggest` through the command line."""

from __future__ import annotations

import io
import json
import math

import pytest

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.interop.coded_dataset import read_coded_dataset
from caseframe.suggest.evaluate import bench_suggest
from test_suggest_project import CODES, write_nhs_subset

BENCH_KEYS = {
    "micro_f1",
    "macro_f1",
    "mean_kappa",
    "mean_ac1",
    "units_per_second",
    "fit_seconds",
    "per_code",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """150 NHS comments, coded-segment folder and a project made from it."""
    base = tmp_path_factory.mktemp("tiny")
    folder = write_nhs_subset(base / "dataset", n=150)
    project = Project.init(base / "project")
    project.import_coded(folder)
    project.close()
    return folder, base / "project"


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def _same(a, b) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return b is None
    return a == pytest.approx(b)


def test_bench_suggest_json_has_the_keys_and_the_library_figures(tiny, capsys):
    folder, _ = tiny
    assert run(["bench", "suggest", str(folder), "--json"]) == 0
    got = _json(capsys)
    assert BENCH_KEYS <= set(got)
    want = bench_suggest(folder, "supervised")
    for key in ("micro_f1", "macro_f1", "mean_kappa", "mean_ac1", "test_units"):
        assert _same(want[key], got[key]), key
    code = "Positive experience & gratitude"
    assert got["per_code"][code]["support"] == want["per_code"][code]["support"]

    assert run(["bench", "suggest", str(folder), "--method", "baseline"]) == 0
    out = capsys.readouterr().out
    assert "micro-F1" in out and "Positive experience" in out and "not shown" in out


def test_bench_suggest_rejects_a_bad_dataset(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "codebook.csv").write_text("code\nA\n", encoding="utf-8")
    assert run(["bench", "suggest", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "segments.csv" in err and "Traceback" not in err


def test_run_list_review_next_from_the_command_line(tiny, tmp_path, capsys, monkeypatch):
    import shutil

    folder, src = tiny
    shutil.copytree(src, tmp_path / "p")
    p = ["--project", str(tmp_path / "p")]
    docs = sorted({s.document for s in read_coded_dataset(folder).split("test")})
    codes = ",".join(CODES[:3])

    assert run([*p, "suggest", "run", "--codes", codes, "--documents", ",".join(docs)]) == 0
    out = capsys.readouterr().out
    assert "Method: supervised (every code has at least 3" in out
    assert "suggest:supervised" in out

    assert run([*p, "suggest", "list", "--json"]) == 0
    listed = _json(capsys)
    assert listed and {r["method"] for r in listed} == {"supervised"}
    assert {r["status"] for r in listed} == {"suggested"}

    # not a terminal: interactive review refuses with a clear message
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run([*p, "suggest", "review", "--coder", "Ann"]) == 1
    assert "needs a terminal" in capsys.readouterr().err

    # in a terminal: accept, reject, then stop; the two decisions are stored together
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Tty("a\nr\nq\n"))
    assert run([*p, "suggest", "review", "--coder", "Ann"]) == 0
    assert "1 accepted (1 new codings by Ann), 1 rejected" in capsys.readouterr().out
    first, second = listed[0]["id"], listed[1]["id"]
    assert run([*p, "suggest", "list", "--status", "all", "--json"]) == 0
    status = {r["id"]: r["status"] for r in _json(capsys)}
    assert (status[first], status[second]) == ("accepted", "rejected")

    assert run([*p, "suggest", "review", "--coder", "Ann", "--accept-all", "--json"]) == 0
    result = _json(capsys)
    assert result["accepted"] == len(listed) - 2
    assert run([*p, "codings", "list", "--coder", "Ann", "--json"]) == 0
    assert len(_json(capsys)) == len(listed) - 1

    assert run([*p, "suggest", "next", "--n", "5", "--codes", codes, "--documents", docs[0]]) == 0
    out = capsys.readouterr().out
    assert "Units to code next" in out and "uncertain" in out

    assert run([*p, "suggest", "review", "--coder", "Ann", "--accept-all", "--reject-all"]) == 1
    assert "not both" in capsys.readouterr().err


def test_errors_are_one_line(example_copy, capsys):
    p = ["--project", str(example_copy.root)]
    assert run([*p, "suggest", "run", "--framework", "sis"]) != 0
    err = capsys.readouterr().err
    assert "caseframe codes add-framework sis" in err and "Traceback" not in err
    assert run([*p, "suggest", "run", "--method", "magic"]) != 0
    assert "no suggestion method 'magic'" in capsys.readouterr().err

    assert run([*p, "codes", "add-framework", "sis"]) == 0
    capsys.readouterr()
    assert run([*p, "suggest", "run", "--framework", "sis", "--json"]) == 0
    got = _json(capsys)
    assert got["method"] == "definitions" and got["stored"] > 0
    assert got["coder"] == "suggest:definitions"


def test_run_says_what_was_skipped_and_list_json_gives_reasons(example_copy, capsys):
    p = ["--project", str(example_copy.root)]
    assert run([*p, "codes", "add-framework", "sis"]) == 0
    capsys.readouterr()
    assert run([*p, "suggest", "run", "--framework", "sis"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Skipped 18 headings" in out and "under 3 words" in out
    assert run([*p, "suggest", "list", "--json"]) == 0
    listed = _json(capsys)
    assert listed and {"phrases", "similar", "reliability", "model", "code_kappa"} <= set(listed[0])
    assert {r["start"] for r in listed}.isdisjoint({0})  # no heading suggested
    # the rules can be loosened: headings then count as units again
    assert run([*p, "suggest", "run", "--framework", "sis", "--keep-headings", "--json"]) == 0
    assert "heading" not in _json(capsys)["skipped"]


def test_bench_suggest_prints_how_honest_the_scores_are(tiny, capsys):
    folder, _ = tiny
    assert run(["bench", "suggest", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Brier" in out and "code present" in out and "Codes offered" in out
