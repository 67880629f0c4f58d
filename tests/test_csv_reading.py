"""The one CSV reader: strict quoting with file:line, delimiters, encodings, our own exports."""

from __future__ import annotations

import pytest

from caseframe.cli.main import run
from caseframe.errors import InvalidInput
from caseframe.util.csvfile import read_csv_rows, sniff_delimiter

CASES = (
    "id,label,kind,parent\nN,North,region,\nS1,Service 1,site,N\nR1,Respondent 1,respondent,S1\n"
)


def cf(capsys, *args):
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_unclosed_quote_in_cases_import_is_one_error_with_file_and_line(tmp_path, capsys):
    cf(capsys, "init", tmp_path / "p")
    csv = tmp_path / "cases.csv"
    # the quote opened on line 3 is never closed: it used to swallow the rest of the file
    csv.write_text('id,label,kind\nN,North,region\nS1,"Service 1,site\nS2,Service 2,site\n')
    code, _out, err = cf(capsys, "-p", tmp_path / "p", "cases", "import", csv)
    line = one_line_error(code, err)
    assert f"{csv}:3" in line and "quote" in line
    code, out, _ = cf(capsys, "-p", tmp_path / "p", "cases", "list", "--json")
    assert code == 0 and out.strip() == "[]"  # nothing stored


def test_quote_closed_rows_later_is_refused_not_swallowed(project, tmp_path):
    csv = tmp_path / "cases.csv"
    csv.write_text('id,label,kind\nN,"North,region\nS1,Service 1,site\nS2,Service 2,site"\n')
    with pytest.raises(InvalidInput, match="look like rows") as err:
        project.import_cases(csv)
    assert err.value.where == f"{csv}:2"
    assert project.cases() == []


def test_quote_in_the_middle_of_a_value(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text('id,label\nA,"North" region\n')
    with pytest.raises(InvalidInput, match="quote ends in the middle") as err:
        read_csv_rows(csv)
    assert err.value.where == f"{csv}:2"


def test_line_breaks_inside_a_quoted_value_are_kept(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text('id,label,kind\nA,"North, the first\nregion, of three",region\nB,B,site\n')
    header, rows = read_csv_rows(csv)
    assert rows[0] == (
        2,
        {"id": "A", "label": "North, the first\nregion, of three", "kind": "region"},
    )
    assert rows[1][0] == 4  # the line where the row starts


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_files_import(project, tmp_path, delimiter):
    csv = tmp_path / "cases.csv"
    csv.write_text(CASES.replace(",", delimiter), encoding="utf-8")
    project.import_cases(csv)
    assert project.cases_frame().set_index("key").loc["R1", "path"] == "N/S1/R1"


def test_commas_inside_semicolon_values_do_not_confuse_the_delimiter(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("id;label\nA;North, Middle and South\nB;One, two\n")
    assert read_csv_rows(csv)[1][0][1]["label"] == "North, Middle and South"


def test_another_separator_is_refused_by_name(project, tmp_path):
    csv = tmp_path / "cases.csv"
    csv.write_text("id:label:kind\nN:North:region\nS:South:region\n")
    with pytest.raises(InvalidInput, match="separated by ':'") as err:
        project.import_cases(csv)
    assert err.value.where == f"{csv}:1"


def test_one_column_file_has_no_delimiter_to_find():
    assert sniff_delimiter("code\nDebugging the model\nTesting, in part\n") == ","


@pytest.mark.parametrize(
    "encoding,bom",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),
        ("utf-16-le", b""),
        ("cp1252", b""),
    ],
)
def test_encodings(project, tmp_path, encoding, bom):
    csv = tmp_path / "cases.csv"
    text = "id;label;kind\nG;Göteborg och Malmö;region\nK;Kiruna – norr;region\n"
    csv.write_bytes(bom + text.encode(encoding))
    project.import_cases(csv)
    labels = {c.key: c.label for c in project.cases()}
    assert labels == {"G": "Göteborg och Malmö", "K": "Kiruna – norr"}


def test_excel_style_utf16_tab_file_with_bom(project, tmp_path):
    # "Unicode text" from Excel: UTF-16 LE with a BOM, tab-separated
    csv = tmp_path / "cases.txt"
    csv.write_bytes("id\tlabel\nÅ1\tÅre\n".encode("utf-16"))
    project.import_cases(csv)
    assert project.case("Å1").label == "Åre"


def test_formula_guarded_cells_from_our_exports_read_back_unchanged(project, tmp_path):
    import pandas as pd

    from caseframe.interop.tables import write_csv

    frame = pd.DataFrame(
        {
            "id": ["A", "B", "C"],
            "label": ['=HYPERLINK("x")', "+46 70 123", "-5 is not a formula"],
            "note": ["@home", "plain", "'quoted already"],
        }
    )
    csv = write_csv(frame, tmp_path / "cases.csv")
    assert "'=HYPERLINK" in csv.read_text()  # guarded on disk
    project.import_cases(csv)
    got = {c.key: (c.label, c.attributes["note"]) for c in project.cases()}
    assert got == {
        "A": ('=HYPERLINK("x")', "@home"),
        "B": ("+46 70 123", "plain"),
        "C": ("-5 is not a formula", "'quoted already"),
    }


def test_duplicate_column_names_are_refused(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("id,label,label\nA,x,y\n")
    with pytest.raises(InvalidInput, match="column 'label' appears twice"):
        read_csv_rows(csv)


def test_extra_fields_are_refused_but_trailing_empty_ones_are_not(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("id,label\nA,x,\nB,y,z\n")
    with pytest.raises(InvalidInput, match="more fields than the header") as err:
        read_csv_rows(csv)
    assert err.value.where == f"{csv}:3"


def test_coded_dataset_reads_through_the_same_reader(tmp_path):
    from caseframe.interop.coded_dataset import read_coded_dataset

    (tmp_path / "codebook.csv").write_text("code;definition\nchange;Talk about change\n")
    (tmp_path / "segments.csv").write_bytes("id\ttext\ns1\tJag vill sluta röka.\n".encode("utf-16"))
    (tmp_path / "codings.csv").write_text('segment_id,coder,code\ns1,"ann,change\n')
    with pytest.raises(InvalidInput, match="never closed") as err:
        read_coded_dataset(tmp_path)
    assert err.value.where == f"{tmp_path / 'codings.csv'}:2"
    (tmp_path / "codings.csv").write_text("segment_id,coder,code\ns1,ann,change\n")
    data = read_coded_dataset(tmp_path)
    assert data.segments[0].text == "Jag vill sluta röka."
    assert data.labels("ann") == {"s1": {"change"}}
