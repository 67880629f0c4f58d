"""Writes to documents and codings are audited in their own transaction: one entry per change,
with who did it, and none when the write fails."""

from __future__ import annotations

import pytest

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound

TEXT = "I: What about money?\nR: There is no financial strategy after the project ends.\n"


@pytest.fixture
def study(tmp_path):
    project = Project.init(tmp_path / "proj", actor="olga")
    (tmp_path / "r1.txt").write_text(TEXT, encoding="utf-8")
    project.add_case("R1", "Respondent 1", kind="respondent")
    project.add_code("Funding")
    yield project
    project.close()


def entries(project: Project, entity_type: str | None = None):
    return list(reversed(project.audit_entries(entity_type=entity_type)))


def test_each_text_write_leaves_one_entry(study, tmp_path):
    [result] = study.import_documents([tmp_path / "r1.txt"], actor="ingrid")
    assert result.ok
    study.link_document("r1.txt", "R1")
    study.link_document("r1.txt", "R1")  # already linked: nothing changed, nothing recorded
    assert study.resegment("sentences", 2, ["r1.txt"], actor="sam") > 0
    coding = study.add_coding("r1.txt", 24, 60, "Funding", "carl", actor="carl")
    after = study.update_coding(coding.id, coder="carl", valence="barrier", actor="carl")
    study.delete_coding(coding.id, coder="carl", actor="carl")
    csv = tmp_path / "codings.csv"
    csv.write_text("document,code,coder,quote\nr1.txt,Funding,dora,no financial strategy\n")
    assert study.import_codings(csv) == (1, [])

    got = [(e.actor, e.action, e.entity_type, e.entity_id) for e in entries(study)]
    assert [g for g in got if g[2] in ("document", "coding")] == [
        ("ingrid", "import", "document", "r1.txt"),
        ("olga", "link", "document", "r1.txt"),
        ("sam", "segment", "document", None),
        ("carl", "add", "coding", str(coding.id)),
        ("carl", "update", "coding", str(coding.id)),
        ("carl", "delete", "coding", str(coding.id)),
        ("olga", "import", "coding", None),
    ]
    by_action = {(e.action, e.entity_type): e for e in entries(study)}
    imported = by_action["import", "document"].after
    assert (imported["document"], imported["path"], imported["error"]) == ("r1.txt", "r1.txt", None)
    assert imported["words"] == result.words and imported["turns"] == 2
    assert by_action["link", "document"].after == {"case": "R1"}
    assert by_action["segment", "document"].after["documents"] == ["r1.txt"]
    update = by_action["update", "coding"]
    assert update.before["valence"] is None and update.after["valence"] == "barrier"
    assert update.after == {**update.before, "valence": "barrier"}
    assert update.after["id"] == after.id == coding.id
    assert by_action["delete", "coding"].before["id"] == coding.id
    assert by_action["delete", "coding"].after is None
    assert by_action["import", "coding"].after == {"file": "codings.csv", "stored": 1, "skipped": 0}


def test_failed_writes_leave_no_entry(study, tmp_path):
    study.import_documents([tmp_path / "r1.txt"])
    coding = study.add_coding("r1.txt", 24, 60, "Funding", "carl")
    before = len(study.audit_entries())
    failing = [
        (InvalidInput, lambda: study.add_coding("r1.txt", 50, 10, "Funding", "carl")),
        (Conflict, lambda: study.add_coding("r1.txt", 24, 60, "Funding", "carl")),
        (NotFound, lambda: study.add_coding("r9.txt", 0, 4, "Funding", "carl")),
        (InvalidInput, lambda: study.update_coding(coding.id, strength=2)),  # needs a valence
        (Conflict, lambda: study.update_coding(coding.id, coder="dora", memo="mine now")),
        (Conflict, lambda: study.delete_coding(coding.id, coder="dora")),
        (NotFound, lambda: study.delete_coding(99999)),
        (NotFound, lambda: study.link_document("r1.txt", "R404")),
        (InvalidInput, lambda: study.resegment("words")),
    ]
    for error, call in failing:
        with pytest.raises(error):
            call()
    csv = tmp_path / "codings.csv"
    csv.write_text("document,code,coder,start,end\nr1.txt,Funding,kim,0,5\nr1.txt,Nope,kim,0,5\n")
    with pytest.raises(InvalidInput, match="nothing was stored"):
        study.import_codings(csv)
    # the same file twice is refused per file, and audited only when stored
    [again] = study.import_documents([tmp_path / "r1.txt"])
    assert "same content" in again.error
    assert len(study.audit_entries()) == before
    assert "dora" not in set(study.coders_frame()["name"])  # the refused edit made no coder


def test_import_coded_is_one_entry_or_none(study, tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "codebook.csv").write_text("code,definition,examples,parent\nMoney,,,\n")
    (folder / "segments.csv").write_text("id,text,document,speaker,split\ns1,A grant.,D1,,\n")
    (folder / "codings.csv").write_text("segment_id,coder,code\ns1,ann,Money\n")
    summary = study.import_coded(folder, actor="ann")
    [entry] = study.audit_entries(entity_type="dataset")
    assert (entry.actor, entry.action, entry.entity_id) == ("ann", "import", "ds")
    assert entry.after["codings"] == summary.codings == 1
    with pytest.raises(CaseframeError, match="already in the project"):
        study.import_coded(folder)
    assert len(study.audit_entries(entity_type="dataset")) == 1


def test_cli_records_who_with_as(study, tmp_path, capsys):
    study.import_documents([tmp_path / "r1.txt"])
    root = study.root
    study.close()
    command = ["-p", str(root), "--as", "kim", "code", "r1.txt", "24", "60", "Funding"]
    assert run([*command, "--coder", "kim"]) == 0
    assert run([*command, "--coder", "kim"]) == 1  # coded already: refused, not recorded
    capsys.readouterr()
    with Project.open(root) as reopened:
        [entry] = reopened.audit_entries(entity_type="coding")
    assert (entry.actor, entry.action, entry.after["start"]) == ("kim", "add", 24)
