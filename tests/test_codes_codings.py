"""The code tree and codings: tree edits keep codings, offsets and quotes are checked."""

from __future__ import annotations

import pytest

from caseframe.errors import Conflict, InvalidInput, NotFound

TEXT = "I: What about money?\nR: There is no financial strategy after the project ends.\n"


@pytest.fixture
def coded(project, tmp_path):
    doc = tmp_path / "r1.txt"
    doc.write_text(TEXT)
    project.import_documents([doc])
    project.add_code("Sustainability", kind="theme")
    project.add_code("Funding", parent="Sustainability", kind="category", maps_to=["sis:O10"])
    project.add_code("Project end", parent="Funding", kind="code")
    return project


def test_coding_with_valence_and_memo(coded):
    start = TEXT.index("There is no financial")
    end = TEXT.index(" after")
    c = coded.add_coding("r1.txt", start, end, "Funding", "KG", "barrier", 2, "key risk")
    assert (c.valence, c.strength, c.memo) == ("barrier", 2, "key risk")
    frame = coded.codings_frame()
    assert frame.loc[0, "text"] == "There is no financial strategy"
    assert frame.loc[0, "code_path"] == "Sustainability/Funding"


@pytest.mark.parametrize("start,end", [(-1, 5), (10, 5), (5, 5), (0, len(TEXT) + 1)])
def test_offsets_outside_or_reversed_are_refused(coded, start, end):
    with pytest.raises(InvalidInput, match="do not fit document"):
        coded.add_coding("r1.txt", start, end, "Funding", "KG")
    assert coded.codings_frame().empty


def test_unknown_code_and_document(coded):
    with pytest.raises(NotFound, match="unknown code 'Nope'"):
        coded.add_coding("r1.txt", 0, 3, "Nope", "KG")
    with pytest.raises(NotFound, match="unknown document"):
        coded.add_coding("missing.txt", 0, 3, "Funding", "KG")


def test_strength_needs_valence(coded):
    with pytest.raises(InvalidInput, match="needs a valence"):
        coded.add_coding("r1.txt", 0, 3, "Funding", "KG", strength=1)


def test_framework_links_deductive_and_mapped(coded):
    deductive = coded.add_code("Financial strategy", framework_component="sis:O10")
    assert deductive.origin == "deductive" and deductive.framework_component == "sis:O10"
    assert coded.code("Funding").mapped_components == ("sis:O10",)
    with pytest.raises(NotFound, match="unknown component 'O99'"):
        coded.add_code("Bad", framework_component="sis:O99")


def test_rename_move_merge_keep_codings(coded):
    coded.add_coding("r1.txt", 0, 5, "Project end", "KG")
    coded.add_code("Money", kind="category")
    coded.add_coding("r1.txt", 0, 5, "Money", "KG")
    coded.add_coding("r1.txt", 6, 10, "Money", "KG")
    coded.rename_code("Project end", "End of project")
    coded.move_code("End of project", "Money")
    assert coded.code("End of project").path == "Money/End of project"
    merged = coded.merge_codes("Money", "Funding")
    frame = coded.codings_frame()
    assert set(frame["code"]) == {"Funding", "End of project"}
    assert len(frame) == 3  # the duplicate Money→Funding would-be coding kept once
    assert coded.code("End of project").path == "Sustainability/Funding/End of project"
    assert merged.name == "Funding"
    with pytest.raises(NotFound):
        coded.code("Money")


def test_cycle_in_code_tree_is_refused(coded):
    with pytest.raises(Conflict, match="cycle"):
        coded.move_code("Sustainability", "Project end")


def test_stale_edit_is_refused(coded):
    version = coded.code("Funding").version
    coded.rename_code("Funding", "Finance", expected_version=version)
    with pytest.raises(Conflict, match="changed by someone else"):
        coded.rename_code("Finance", "Money", expected_version=version)


def test_codes_csv_with_cycle(project, tmp_path):
    csv = tmp_path / "codes.csv"
    csv.write_text("code,parent\nA,B\nB,A\n")
    with pytest.raises(Conflict, match="cycle"):
        project.import_codes(csv)
    assert project.codes() == []


def test_codings_located_by_quote(coded, tmp_path):
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "document,code,coder,quote,valence\nr1.txt,Funding,KG,no financial strategy,barrier\n"
    )
    stored, problems = coded.import_codings(csv)
    assert (stored, problems) == (1, [])
    row = coded.codings_frame().iloc[0]
    assert TEXT[row["start"] : row["end"]] == "no financial strategy"


def test_missing_or_ambiguous_quotes_are_reported_not_guessed(coded, tmp_path):
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "document,code,coder,quote\n"
        "r1.txt,Funding,KG,no financial strategy\n"
        "r1.txt,Funding,KG,a budget line\n"
        "r1.txt,Funding,KG,at\n"
    )
    with pytest.raises(InvalidInput, match="quote not found") as err:
        coded.import_codings(csv)
    assert "nothing was stored" in str(err.value)
    assert coded.codings_frame().empty
    stored, problems = coded.import_codings(csv, skip_unplaced=True)
    assert stored == 1
    assert any("occurs 2 times" in p for p in problems)


def test_export_codings_csv_and_xlsx(coded, tmp_path):
    import openpyxl
    import pandas as pd

    coded.add_coding("r1.txt", 0, 5, "Funding", "KG", "barrier")
    out = coded.export_codings("csv", tmp_path / "c.csv")
    assert pd.read_csv(out).loc[0, "text"] == TEXT[:5]
    xlsx = coded.export_codings("xlsx", tmp_path / "c.xlsx")
    sheet = openpyxl.load_workbook(xlsx)["codings"]
    assert [c.value for c in sheet[1]][:3] == ["id", "document", "start"]
    with pytest.raises(InvalidInput, match="does not exist"):
        coded.export_codings("csv", tmp_path / "nowhere" / "c.csv")
