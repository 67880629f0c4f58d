"""Cases: the tree, typed attributes, CSV import and the study's Table 1."""

from __future__ import annotations

import pytest

from caseframe.errors import Conflict, InvalidInput, NotFound


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_case_tree_of_any_depth_with_inherited_typed_attributes(project, tmp_path):
    csv = write(
        tmp_path / "cases.csv",
        "id,label,kind,parent,setting,staff,opened\n"
        "R1,Respondent 1,respondent,S1,,,\n"  # child before its parent: order does not matter
        "N,North,region,,,,\n"
        "S1,Service 1,site,N,regional psychiatry,12,2016-03-01\n",
    )
    project.import_cases(csv)
    frame = project.cases_frame().set_index("key")
    assert frame.loc["R1", "path"] == "N/S1/R1"
    assert frame.loc["R1", "setting"] == "regional psychiatry"  # inherited from its service
    assert frame.loc["S1", "staff"] == 12  # typed: integer
    assert str(frame.loc["S1", "opened"]) == "2016-03-01"
    assert project.attribute_types()["opened"] == "date"


def test_duplicate_case_id_is_refused_and_nothing_stored(project, tmp_path):
    csv = write(tmp_path / "c.csv", "id,label,kind,parent\nA,A,region,\nA,Again,region,\n")
    with pytest.raises(Conflict, match="duplicate case id 'A'"):
        project.import_cases(csv)
    assert project.cases() == []


def test_cycle_in_case_csv_is_refused(project, tmp_path):
    csv = write(tmp_path / "c.csv", "id,label,kind,parent\nA,A,x,B\nB,B,x,A\n")
    with pytest.raises(Conflict, match="cycle"):
        project.import_cases(csv)
    assert project.cases() == []


def test_moving_a_case_under_its_descendant_is_refused(project):
    project.add_case("A", kind="region")
    project.add_case("S", kind="site", parent="A")
    with pytest.raises(Conflict, match="cycle"):
        project.move_case("A", "S")


def test_unknown_parent_names_the_line(project, tmp_path):
    csv = write(tmp_path / "c.csv", "id,label,kind,parent\nA,A,region,\nS,S,site,Nowhere\n")
    with pytest.raises(NotFound) as err:
        project.import_cases(csv)
    assert err.value.where.endswith("c.csv:3")
    assert project.cases() == []


def test_missing_id_column(project, tmp_path):
    csv = write(tmp_path / "c.csv", "label,kind\nA,region\n")
    with pytest.raises(InvalidInput, match="missing required column"):
        project.import_cases(csv)


def test_table_1_of_the_example_study(example):
    table = example.case_table(by="setting")
    rows = table.frame.set_index("group")
    # Table 1 of Grim et al.: A 7 managers/6 services (0 regional, 7 municipal),
    # B 5/4 (5, 0), C 6/6 (3, 3).
    assert rows.loc["A", "respondents"] == 7 and rows.loc["A", "services"] == 6
    assert rows.loc["B", "respondents"] == 5 and rows.loc["B", "services"] == 4
    assert rows.loc["C", "respondents"] == 6 and rows.loc["C", "services"] == 6
    assert rows.loc["A", "municipal social psychiatry"] == 7
    assert rows.loc["A", "regional psychiatry"] == 0
    assert rows.loc["B", "regional psychiatry"] == 5
    assert rows.loc["C", "regional psychiatry"] == 3
    assert rows.loc["C", "municipal social psychiatry"] == 3
    assert rows.loc["Total", "respondents"] == 18
    assert any("Two respondents belong to the same service" in n for n in table.notes["A"])
    assert any("not attached to a service" in n for n in table.notes["B"])


def test_table_by_unknown_attribute(example):
    with pytest.raises(NotFound, match="unknown attribute 'sector'"):
        example.case_table(by="sector")
