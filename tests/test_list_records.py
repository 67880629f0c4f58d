"""List commands print records (no pandas); their output is what printing the DataFrames gave.

The `*_frame` methods are built from the `*_records` methods, and the commands used to print the
frames: here both paths run on one project with every kind of value a list holds (typed case
attributes with gaps and inheritance, deductive and mapped codes, human codings with and without
strength, machine suggestions with scores) and their JSON and tables are compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caseframe.cli.main import run
from caseframe.cli.output import print_frame, print_rows, to_jsonable

CASES_CSV = """id,label,kind,parent,staff,budget,rural,since,setting
R1,Region 1,region,,,2.5,yes,2019-04-01,
S1,Service 1,site,R1,12,,no,,municipal
S2,Service 2,site,R1,,1.25,,2020-01-15,regional psychiatry
P1,Respondent 1,respondent,S1,3,,,,
P2,Respondent 2,respondent,S2,,,yes,,
"""


@pytest.fixture
def study(project, shared, tmp_path):
    import pandas as pd

    cases = tmp_path / "cases.csv"
    cases.write_text(CASES_CSV, encoding="utf-8")
    project.import_cases(cases)
    texts = shared / "data" / "pdpilot-interviews" / "text"
    project.import_documents([texts / "P1.txt"], case="P1")
    project.import_documents([texts / "P2.txt"], case="P2")
    project.add_code("Sustainability", kind="theme", color="#336699")
    project.add_code("Funding", parent="Sustainability", kind="category", maps_to=["sis:O10"])
    project.add_code("Financial strategy", framework_component="sis:O10", description="plan")
    project.add_code("Staff turnover", parent="Funding")
    project.add_coding("P1.txt", 0, 120, "Funding", "KG", valence="barrier", strength=2)
    project.add_coding("P1.txt", 200, 260, "Staff turnover", "KG", memo="line\nbreak")
    project.add_coding("P2.txt", 10, 90, "Financial strategy", "AB", valence="facilitator")
    sample = pd.DataFrame(
        {
            "id": ["r1", "r2"],
            "text": ["We had no budget left.", "Turnover was high."],
            "codes": [["Funding"], ["Staff turnover", "Funding"]],
            "scores": [[0.91234], [0.5, 0.25]],
            "stratum": ["a", "b"],
        }
    )
    project.import_batch_sample(sample, "keyword", "v1")
    return project


def numbers_as_json(value):
    """A JSON value with JSON's one number type: 2 and 2.0 compare equal, True and 1 do not."""
    if isinstance(value, dict):
        return {k: numbers_as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_json(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    return ("number", float(value))


def cli_json(root: Path, capsys, *argv: str):
    capsys.readouterr()
    assert run(["-p", str(root), *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_records_give_the_frames_json(study):
    pairs = {
        "codes": (study.codes_records(), study.codes_frame()),
        "documents": (study.documents_records(), study.documents_frame()),
        "cases": (study.cases_records(), study.cases_frame()),
        "own attributes": (study.cases_records(False), study.cases_frame(False)),
        "coders": (study.coders_records(), study.coders_frame()),
    }
    for what, (records, frame) in pairs.items():
        assert json.dumps(to_jsonable(records)) == json.dumps(to_jsonable(frame)), what
        assert list(records[0]) == list(frame.columns), what
    codings = study.codings_records(include_machine=True)
    frame = study.codings_frame(include_machine=True)
    assert len(codings) == 6 and list(codings[0]) == list(frame.columns)
    # pandas turns an integer column with gaps into floats (strength 2 → 2.0); records keep the
    # stored integer, the same JSON number
    assert numbers_as_json(to_jsonable(codings)) == numbers_as_json(to_jsonable(frame))
    assert {c["strength"] for c in codings} == {2, None}
    assert {c["score"] for c in codings} == {None, 0.9123, 0.5, 0.25}


def test_list_commands_print_the_frames_json(study, capsys):
    root = study.root
    assert cli_json(root, capsys, "codes", "list") == to_jsonable(study.codes_frame())
    assert cli_json(root, capsys, "documents", "list") == to_jsonable(study.documents_frame())
    assert cli_json(root, capsys, "cases", "list") == to_jsonable(study.cases_frame())
    assert cli_json(root, capsys, "coders", "list") == to_jsonable(study.coders_frame())
    for argv, kwargs in [
        ((), {}),
        (("--include-machine",), {"include_machine": True}),
        (("--code", "Funding", "--coder", "KG"), {"codes": ["Funding"], "coders": ["KG"]}),
        (("--document", "P2.txt"), {"documents": ["P2.txt"]}),
    ]:
        shown = cli_json(root, capsys, "codings", "list", *argv)
        frame = study.codings_frame(exact=False, **kwargs).drop(columns=["document_id"])
        assert numbers_as_json(shown) == numbers_as_json(to_jsonable(frame)), argv
        assert shown and all(list(row) == list(frame.columns) for row in shown)


def test_list_tables_are_the_frames_tables(study, capsys):
    """The tables `print_rows` draws are the ones `print_frame` drew from the frames."""

    def table(argv: list[str]) -> str:
        capsys.readouterr()
        assert run(["-p", str(study.root), *argv]) == 0
        return capsys.readouterr().out

    def frame_table(frame, *args, **kwargs) -> str:
        capsys.readouterr()
        print_frame(frame, *args, **kwargs)
        return capsys.readouterr().out

    codes = frame_table(
        study.codes_frame(),
        "Codes",
        ["id", "path", "kind", "origin", "component", "maps_to", "codings"],
    )
    assert table(["codes", "list"]) == codes
    assert table(["documents", "list"]) == frame_table(
        study.documents_frame(),
        "Documents",
        ["name", "cases", "words", "turns", "units", "codings", "format"],
    )
    # a missing integer attribute (pandas' <NA>) is now an empty cell like any missing value
    cases = study.cases_frame().drop(columns=["depth"])
    assert cases["staff"].isna().any()
    cases = cases.astype(object).where(cases.notna(), None)
    assert table(["cases", "list"]) == frame_table(cases, "Cases")
    assert table(["coders", "list"]) == frame_table(study.coders_frame(), "Coders")
    codings = study.codings_frame()
    codings["text"] = codings["text"].str.replace("\n", " ").str.slice(0, 70)
    columns = ["id", "document", "start", "end", "code", "coder", "valence", "text"]
    assert table(["codings", "list"]) == frame_table(codings, "Codings", columns)


def test_empty_lists(project, capsys):
    assert run(["-p", str(project.root), "codings", "list"]) == 0
    assert "No codings." in capsys.readouterr().out
    assert run(["-p", str(project.root), "cases", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    print_rows([], "Nothing", empty="Empty here.")
    assert capsys.readouterr().out.strip() == "Empty here."


def test_case_show_lists_only_inherited_values(study, capsys):
    """An attribute neither the case nor its ancestors have is not 'inherited' (a DataFrame's
    NaN for a missing text or number used to show as `nan (inherited)`)."""
    shown = cli_json(study.root, capsys, "cases", "show", "P2")
    assert shown["attributes"] == {"rural": "yes"}  # own values as stored
    assert shown["inherited"] == {
        "budget": 1.25,
        "setting": "regional psychiatry",
        "since": "2020-01-15",
    }
    assert shown["documents"] == ["P2.txt"] and shown["path"] == "R1/S2/P2"
    region = cli_json(study.root, capsys, "cases", "show", "R1")
    assert region["inherited"] == {} and region["children"] == ["S1", "S2"]
    assert run(["-p", str(study.root), "cases", "show", "R1"]) == 0
    assert "nan" not in capsys.readouterr().out
