"""The analysis commands: quotes, matrix (+ summarise), cooccurrence, coverage, report, export."""

from __future__ import annotations

import json

import openpyxl

from caseframe.cli.main import run


def _run_json(capsys, *argv):
    capsys.readouterr()
    assert run(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_quotes_and_matrix(example_copy, capsys):
    p = ["--project", str(example_copy.root)]
    quotes = _run_json(capsys, *p, "quotes", "The working role of the PSW", "--json")
    link = [q for q in quotes if q["text"] == "serving as a link [to the users]"]
    assert link[0]["attribution"] == "(A2, B9, C15)"
    assert link[0]["items"][0][:4] == ["A2.txt", link[0]["items"][0][1], 66, 98]
    by_site = _run_json(
        capsys, *p, "quotes", "Continuous support", "--by", "site", "--valence", "barrier", "--json"
    )
    assert [q["attribution"] for q in by_site] == ["(A-S4)"]
    assert run([*p, "quotes", "Continuous support"]) == 0
    assert "(A5)" in capsys.readouterr().out
    rows = _run_json(capsys, *p, "matrix", "--rows", "region", "--cols", "sis", "--json")
    expected = example_copy.matrix("region", "sis")
    assert [r["O4"] for r in rows] == expected["O4"].tolist()
    assert [r["region"] for r in rows] == ["A", "B", "C"]


def test_summarise_and_list(example_copy, capsys):
    p = ["--project", str(example_copy.root)]
    assert (
        run(
            [
                *p,
                "matrix",
                "summarise",
                "A5",
                "Continuous support",
                "No supervision.",
                "--author",
                "KG",
            ]
        )
        == 0
    )
    listed = _run_json(capsys, *p, "matrix", "summaries", "--json")
    assert listed[0]["case"] == "A5" and listed[0]["stale"] is False
    grid = _run_json(capsys, *p, "matrix", "--cell", "summary", "--json")
    a5 = [r for r in grid if r["respondent"] == "A5"][0]
    assert a5["Continuous support"] == "No supervision."


def test_cooccurrence_coverage_report_export(example_copy, capsys, tmp_path):
    p = ["--project", str(example_copy.root)]
    assert _run_json(capsys, *p, "cooccurrence", "--scope", "overlap", "--json") == []
    cov = _run_json(capsys, *p, "coverage", "--json")
    assert cov["never_evidenced"] == example_copy.coverage().never_evidenced
    out = tmp_path / "r.md"
    assert run([*p, "report", "--format", "md", "--out", str(out)]) == 0
    assert "(A2, B9, C15)" in out.read_text(encoding="utf-8")
    xlsx = tmp_path / "m.xlsx"
    assert (
        run(
            [
                *p,
                "export",
                "matrix",
                "--format",
                "xlsx",
                "--out",
                str(xlsx),
                "--cols",
                "categories",
                "--cell",
                "count",
                "--cell",
                "valence",
            ]
        )
        == 0
    )
    assert openpyxl.load_workbook(xlsx).sheetnames == ["categories count", "categories valence"]


def test_errors_are_one_line(example_copy, capsys, tmp_path):
    p = ["--project", str(example_copy.root)]
    cases = [
        ["quotes", "No such code"],
        ["quotes", "Continuous support", "--by", "county"],
        ["matrix", "--rows", "county"],
        ["matrix", "--cell", "mean"],
        ["cooccurrence", "--scope", "page"],
        ["coverage", "--framework", "nosuch"],
        ["report", "--framework", "sls", "--out", str(tmp_path / "r.html")],
        ["report", "--by", "settnig", "--out", str(tmp_path / "r.html")],
        ["matrix", "--cols", "framework", "--framework", "sls"],
        ["report", "--out", str(tmp_path / "missing" / "r.html")],
        ["export", "matrix", "--out", str(tmp_path / "missing" / "m.xlsx")],
    ]
    for argv in cases:
        capsys.readouterr()
        assert run([*p, *argv]) != 0, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "Traceback" not in err, argv
    assert not (tmp_path / "missing").exists()
    assert not (tmp_path / "r.html").exists()  # a typo in --framework writes no report


def test_report_framework_typo_names_the_closest(example_copy, capsys, tmp_path):
    p = ["--project", str(example_copy.root)]
    capsys.readouterr()
    assert run([*p, "report", "--framework", "sls", "--out", str(tmp_path / "r.md")]) != 0
    err = capsys.readouterr().err
    assert "unknown framework 'sls'" in err and "did you mean 'sis'" in err
