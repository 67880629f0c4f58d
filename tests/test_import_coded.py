"""`import-coded`: a coded-segment dataset (FORMATS.md) into a project."""

from __future__ import annotations

import pytest

from caseframe.errors import Conflict, InvalidInput
from caseframe.interop.coded_dataset import read_coded_dataset


def make_dataset(folder, codings="segment_id,coder,code\ns1,ann,Funding\ns2,bob,Funding\n"):
    folder.mkdir()
    (folder / "codebook.csv").write_text(
        "code,definition,examples,parent\nMoney,,,\n"
        "Funding,Money for the role,grant | budget,Money\n"
    )
    (folder / "segments.csv").write_text(
        "id,text,document,speaker,split\n"
        "s1,We got a grant.,R1,respondent,train\n"
        "s2,No budget after 2018.,R1,respondent,test\n"
        "s3,Supervision came from NSPH.,R2,respondent,\n"
    )
    (folder / "codings.csv").write_text(codings)
    return folder


def test_import_coded_dataset(project, tmp_path):
    summary = project.import_coded(make_dataset(tmp_path / "ds"))
    assert (summary.documents, summary.units, summary.codings) == (2, 3, 2)
    assert summary.coders == ["ann", "bob"]
    assert project.code("Funding").path == "Money/Funding"
    units = project.meaning_units("R1", "imported")
    assert [u.external_id for u in units] == ["s1", "s2"]
    assert [u.split for u in units] == ["train", "test"]
    doc = project.document("R1")
    assert doc.text[units[1].start : units[1].end] == "No budget after 2018."
    frame = project.codings_frame()
    assert set(frame["text"]) == {"We got a grant.", "No budget after 2018."}


def test_dataset_errors_name_file_and_line(project, tmp_path):
    folder = make_dataset(tmp_path / "bad", "segment_id,coder,code\ns1,ann,Funding\ns9,ann,Money\n")
    with pytest.raises(InvalidInput, match="unknown segment 's9'") as err:
        project.import_coded(folder)
    assert err.value.where.endswith("codings.csv:3")
    assert project.documents_frame().empty and project.codes() == []


def test_real_llmcode_data_reads_as_a_dataset(tmp_path, shared):
    """The LLMCode span annotations become a coded-segment dataset and import cleanly."""
    import csv
    import re

    src = shared / "data" / "llmcode-games-as-art" / "bopp_test_coded_texts.csv"
    rows = list(csv.DictReader(src.open(encoding="utf-8")))
    folder = tmp_path / "llmcode"
    folder.mkdir()
    codes: set[str] = set()
    segs, cods = [], []
    for i, row in enumerate(rows):
        for j, m in enumerate(re.finditer(r"\*\*(.+?)\*\*<sup>(.+?)</sup>", row["coded_text"])):
            sid = f"t{i}s{j}"
            segs.append((sid, m[1], f"text{i}"))
            for code in m[2].split(";"):
                codes.add(code.strip())
                cods.append((sid, "llmcode-authors", code.strip()))
    with (folder / "codebook.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code"])
        w.writerows([c] for c in sorted(codes))
    with (folder / "segments.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "document"])
        w.writerows(segs)
    with (folder / "codings.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["segment_id", "coder", "code"])
        w.writerows(cods)
    data = read_coded_dataset(folder)
    assert len(data.segments) == len(segs) > 300
    from caseframe.api import Project

    p = Project.init(tmp_path / "p")
    summary = p.import_coded(folder)
    assert summary.codings == len(set(cods))
    p.close()


def test_same_text_in_two_documents_and_slash_in_code_names(project, tmp_path):
    folder = tmp_path / "nhs-like"
    folder.mkdir()
    (folder / "codebook.csv").write_text("code\nTransport to/ from services\nPositive\n")
    (folder / "segments.csv").write_text(
        "id,text,document\nc1,Nothing.,R1\nc2,Nothing.,R2\nc3,The ambulance was late.,R3\n"
    )
    (folder / "codings.csv").write_text(
        "segment_id,coder,code\nc1,nhs,Positive\nc2,nhs,Positive\n"
        "c3,nhs,Transport to/ from services\n"
    )
    summary = project.import_coded(folder)
    assert summary.documents == 3 and summary.codings == 3
    assert project.code("Transport to/ from services").name == "Transport to/ from services"
    with pytest.raises(Conflict, match="already in the project"):
        project.import_coded(folder)
