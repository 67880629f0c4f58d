"""Names users type for cases, codes, frameworks, components, attributes, coders and documents:
an unknown one is one line naming the closest known ones and the command that lists them all."""

from __future__ import annotations

import pytest

from caseframe.cli.main import run


def cf(capsys, *args):
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def proj(tmp_path, capsys):
    root = tmp_path / "p"
    assert cf(capsys, "init", root)[0] == 0
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "id,label,kind,parent,setting\nNorth,North,region,,\n"
        "North-S1,Service,site,North,regional psychiatry\nA5,Manager,respondent,North-S1,\n"
    )
    doc = tmp_path / "interview-anna.txt"
    doc.write_text("I: How is the model going?\nR: We are still debugging the model.\n")
    for args in (
        ["cases", "import", cases],
        ["import", doc, "--case", "A5"],
        ["codes", "add", "Implementation", "--kind", "theme"],
        ["codes", "add", "Debugging the model", "--parent", "Implementation"],
        ["codes", "add", "Funding", "--parent", "Implementation"],
        ["code", "interview-anna.txt", "0", "10", "Funding", "--coder", "Kristin"],
    ):
        code, _out, err = cf(capsys, "-p", root, *args)
        assert code == 0, err
    return root


def unknown_line(code: int, err: str) -> str:
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: unknown ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "args,expected,listing",
    [
        (
            ["code", "interview-anna.txt", "0", "10", "Debuging the model", "--coder", "K"],
            "did you mean 'Debugging the model'",
            "caseframe codes list",
        ),
        (
            ["codes", "move", "Implementaton/Funding", "--parent", "Implementation"],
            "did you mean 'Implementation/Funding'",
            "caseframe codes list",
        ),
        (["cases", "show", "north-s2"], "did you mean 'North-S1'", "caseframe cases list"),
        (["cases", "move", "A5", "--parent", "Nort"], "'North'", "caseframe cases list"),
        (["framework", "show", "sls"], "did you mean 'sis'", "caseframe framework list"),
        (["protocol", "--framework", "cfir"], "did you mean 'cfir2'", "caseframe framework list"),
        (
            ["codes", "add", "Money", "--framework-component", "sis:O100"],
            "did you mean 'O10'",
            "caseframe framework show sis",
        ),
        (["cases", "table", "--by", "seting"], "did you mean 'setting'", "caseframe cases list"),
        (
            ["codings", "list", "--coder", "Kristine"],
            "did you mean 'Kristin'",
            "caseframe coders list",
        ),
        (
            ["code", "interview-ana.txt", "0", "10", "Funding", "--coder", "K"],
            "did you mean 'interview-anna.txt'",
            "caseframe documents list",
        ),
    ],
)
def test_unknown_name_names_the_closest_and_where_to_list(proj, capsys, args, expected, listing):
    line = unknown_line(*cf(capsys, "-p", proj, *args)[::2])
    assert expected in line
    assert f"'{listing}'" in line


def test_a_name_with_nothing_close_still_says_where_to_list(proj, capsys):
    line = unknown_line(*cf(capsys, "-p", proj, "cases", "show", "Zzyzx")[::2])
    assert "did you mean" not in line and "'caseframe cases list'" in line


def test_a_component_typed_by_its_name_is_told_its_id(proj, capsys):
    code, _out, err = cf(capsys, "-p", proj, "codes", "map", "Funding", "sis:Financial strategy")
    line = unknown_line(code, err)
    assert "'O10'" in line and "caseframe framework show sis" in line


def test_unknown_memo_target_kind(proj, capsys):
    code, _out, err = cf(capsys, "-p", proj, "memo", "add", "cod", "a note", "--on", "Funding")
    assert code != 0 and "did you mean 'code'" in err and "Traceback" not in err
    code, _out, err = cf(capsys, "-p", proj, "memo", "add", "coding", "a note", "--on", "x7")
    assert code != 0 and "unknown coding x7" in err and "Traceback" not in err


def test_case_insensitive_names_still_resolve(proj, capsys):
    assert cf(capsys, "-p", proj, "cases", "show", "a5")[0] == 0
    assert cf(capsys, "-p", proj, "framework", "show", "SIS", "--json")[0] == 0
    code, out, _ = cf(capsys, "-p", proj, "codes", "rename", "implementation/funding", "Money")
    assert code == 0 and "Implementation/Money" in out
