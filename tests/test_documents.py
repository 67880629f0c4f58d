"""Importing transcripts into the store: real PDPilot and AnnoMI data, duplicates, bad files."""

from __future__ import annotations

import csv
import zipfile

import pytest

from caseframe.errors import NotFound


def test_pdpilot_transcripts_import_with_turns(project, shared):
    files = sorted((shared / "data" / "pdpilot-interviews" / "text").glob("P[0-9].txt"))
    assert len(files) == 7
    results = project.import_documents(files)
    assert all(r.ok for r in results), [r.error for r in results]
    docs = project.documents_frame().set_index("name")
    assert len(docs) == 7
    for f in files:
        labels = sum(
            1
            for line in f.read_text().splitlines()
            if line.split(":")[0].split()[-1:] in (["Dan"], ["Participant"])
        )
        assert docs.loc[f.name, "turns"] >= 0.9 * labels
    doc = project.document("P1.txt")
    speakers = {t.speaker for t in doc.turns}
    assert speakers == {"Dan", "Participant"}
    # a MAXQDA coded segment lies inside one Participant turn
    at = doc.text.index("We typically use them to identify trends")
    turn = next(t for t in doc.turns if t.start <= at < t.end)
    assert turn.speaker == "Participant"
    units = project.meaning_units("P1.txt", "turn")
    assert len([u for u in units if u.speaker]) == len(doc.turns)  # + any preamble


def test_annomi_conversations_import_as_transcripts(project, shared, tmp_path):
    rows = list(csv.DictReader((shared / "data" / "annomi" / "AnnoMI-full.csv").open()))
    wanted = {"0", "1", "2"}
    by_conv: dict[str, list[dict]] = {}
    for r in rows:
        if r["transcript_id"] in wanted:
            by_conv.setdefault(r["transcript_id"], []).append(r)
    files = []
    for tid, conv in by_conv.items():
        first = conv[0]["annotator_id"]
        turns = sorted(
            (r for r in conv if r["annotator_id"] == first), key=lambda r: int(r["utterance_id"])
        )
        path = tmp_path / f"annomi-{tid}.txt"
        path.write_text(
            "\n".join(f"{r['interlocutor']}: {r['utterance_text']}" for r in turns), "utf-8"
        )
        files.append((path, turns))
    results = project.import_documents([f for f, _ in files])
    assert all(r.ok for r in results)
    for path, turns in files:
        doc = project.document(path.name)
        assert {t.speaker for t in doc.turns} == {"therapist", "client"}
        assert len(doc.turns) == len(turns)


def test_same_file_twice_is_detected_by_content(project, tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("I: Hello\nR: Hi there\n")
    b = tmp_path / "copy.txt"
    b.write_text("I: Hello\r\nR: Hi there\r\n")  # same text after normalisation
    first, second = project.import_documents([a, b])
    assert first.ok and not second.ok
    assert "same content as document 'a.txt'" in second.error
    assert len(project.documents_frame()) == 1


def test_a_bad_file_in_a_batch_spoils_nothing_else(project, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Interviewer: How did it start?\nR: With a grant.\n")
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"not a zip at all")
    results = project.import_documents([bad, good])
    assert [r.ok for r in results] == [False, True]
    assert "broken.docx" in results[0].error
    assert list(project.documents_frame()["name"]) == ["good.txt"]


def test_mapping_links_documents_to_cases(project, tmp_path):
    project.add_case("A5", kind="respondent")
    doc = tmp_path / "int-a5.txt"
    doc.write_text("I: Tell me.\nA5: It was natural to say yes.\n")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,case\nint-a5.txt,A5\n")
    (result,) = project.import_documents([doc], mapping=mapping)
    assert result.ok
    assert project.document("int-a5.txt").case_keys == ("A5",)


def test_unknown_case_fails_before_anything(project, tmp_path):
    doc = tmp_path / "x.txt"
    doc.write_text("I: a\nR: b\n")
    with pytest.raises(NotFound, match="unknown case 'Z9'"):
        project.import_documents([doc], case="Z9")
    assert project.documents_frame().empty


def test_units_by_paragraph_and_sentence_windows(project, tmp_path):
    doc = tmp_path / "d.txt"
    doc.write_text("First para one. Two. Three. Four.\n\nSecond para.\n")
    project.import_documents([doc], scheme="paragraph")
    assert len(project.meaning_units("d.txt", "paragraph")) == 2
    count = project.resegment("sentences", window=2)
    units = project.meaning_units("d.txt", "sentences")
    assert count == len(units) >= 2


def test_docx_import(project, tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Interviewer: Vad hände i Göteborg?")
    d.add_paragraph("Respondent: Vi fick pengar från Arvsfonden.")
    d.save(tmp_path / "int.docx")
    (r,) = project.import_documents([tmp_path / "int.docx"])
    assert r.ok and r.turns == 2
    assert "Göteborg" in project.document("int.docx").text
    assert zipfile.is_zipfile(tmp_path / "int.docx")
