"""Writes to cases, codes, memos and frameworks are audited in the same transaction: after each
write its entry is there (who, what, before and after); a write that fails leaves neither the
change nor an entry. Runs on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import pytest

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound

TEXT = "I: What about money?\nR: There is no financial strategy after the project ends.\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    db = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    project = Project.init(tmp_path / "proj", db=db, actor="olga")
    yield project
    project.close()


def entries(project, entity_type=None):
    return project.audit_entries(entity_type=entity_type, limit=None)[::-1]  # oldest first


def last(project):
    return project.audit_entries(limit=1)[0]


def test_case_writes_are_audited(store, tmp_path):
    store.add_case("N", kind="region", actor="kim")
    e = last(store)
    assert (e.actor, e.action, e.entity_type, e.entity_id) == ("kim", "add", "case", "N")
    assert e.before is None and e.after["kind"] == "region"
    store.add_case("S", kind="site", attributes={"staff": "12"})
    assert last(store).actor == "olga"  # the project's actor when the call names nobody
    store.move_case("S", "N")
    e = last(store)
    assert e.action == "move" and e.before["parent_key"] is None and e.after["parent_key"] == "N"
    store.set_case_attributes("S", {"staff": "14"})
    e = last(store)
    assert e.action == "update" and (e.before["attributes"], e.after["attributes"]) == (
        {"staff": "12"},
        {"staff": "14"},
    )
    csv = tmp_path / "cases.csv"
    csv.write_text("id,kind,parent\nR1,respondent,S\nR2,respondent,S\n")
    store.import_cases(csv, actor="ann")
    added = [e for e in entries(store, "case") if e.actor == "ann"]
    assert [(e.action, e.entity_id) for e in added] == [("add", "R1"), ("add", "R2")]
    assert added[0].after["parent_key"] == "S"


def test_code_writes_are_audited(store, tmp_path):
    theme = store.add_code("Sustainability", kind="theme")
    assert (last(store).action, last(store).entity_id) == ("add", str(theme.id))
    funding = store.add_code("Funding", parent="Sustainability", kind="category")
    store.rename_code("Funding", "Finance")
    e = last(store)
    assert e.action == "rename" and (e.before["name"], e.after["name"]) == ("Funding", "Finance")
    assert e.after["version"] == e.before["version"] + 1
    store.move_code("Finance", None)
    e = last(store)
    assert e.action == "move" and e.after["path"] == "Finance"
    store.map_code("Finance", ["sis:O10"])
    e = last(store)
    assert e.action == "map" and e.after["mapped_components"] == ["sis:O10"]
    store.add_code("Money")
    store.merge_codes("Money", "Finance")
    e = last(store)
    assert e.action == "merge" and e.before["name"] == "Money"
    assert e.after["merged_into"]["id"] == funding.id
    csv = tmp_path / "codes.csv"
    csv.write_text("code,parent,sis\nStaff,Sustainability,O2\n")
    (code,) = store.import_codes(csv, actor="ann")
    e = last(store)
    assert (e.actor, e.entity_id, e.after["mapped_components"]) == ("ann", str(code.id), ["sis:O2"])
    psat = store.framework("psat")
    made = store.add_framework_codes("psat")
    added = [e.after["path"] for e in entries(store, "code")[-(len(made) + 1 + len(psat.levels)) :]]
    assert added[0] == psat.name  # the theme and its levels are audited too
    assert {c.path for c in made} <= set(added) and len(made) == len(psat.components)


MINE = """\
key: mine
name: My framework
levels:
  - {name: Team, id: T}
components:
  - {id: A, name: First, level: T}
  - {id: B, name: Second, level: T}
"""


def test_memo_and_framework_writes_are_audited(store, tmp_path):
    store.add_case("N")
    memo = store.add_memo("case", "N", "Two managers share one service.", author="kg")
    e = last(store)
    assert (e.action, e.entity_type, e.entity_id) == ("add", "memo", str(memo.id))
    assert e.after["text"] == "Two managers share one service." and e.after["author"] == "kg"
    path = tmp_path / "mine.yaml"
    path.write_text(MINE, encoding="utf-8")
    store.add_framework(path, actor="ann")
    e = last(store)
    assert (e.actor, e.action, e.entity_id) == ("ann", "add", "mine")
    assert [c["key"] for c in e.after["components"]] == ["A", "B"]
    path.write_text(MINE.replace("  - {id: B, name: Second, level: T}\n", ""), encoding="utf-8")
    store.add_framework(path, replace=True)
    e = last(store)
    assert e.action == "replace" and len(e.before["components"]) == 2
    assert len(e.after["components"]) == 1
    with pytest.raises(Conflict, match="already exists"):
        store.add_framework(path)
    assert last(store).id == e.id


@pytest.mark.parametrize(
    "write,error",
    [
        (lambda p: p.move_case("N", "S"), Conflict),  # cycle
        (lambda p: p.set_case_attributes("S", {"staff": "many"}), InvalidInput),  # typed integer
        (lambda p: p.add_case("X", parent="Nowhere"), NotFound),
        (lambda p: p.add_code("Bad", framework_component="sis:O99"), NotFound),
        (lambda p: p.add_code("Other", maps_to=["sis:O99"]), NotFound),  # after the insert
        (lambda p: p.move_code("Top", "Child"), Conflict),
        (lambda p: p.merge_codes("Top", "Child"), Conflict),
        (lambda p: p.rename_code("Child", "Child", expected_version=99), Conflict),
        (lambda p: p.map_code("Child", ["sis:O10", "sis:O99"]), NotFound),  # second ref bad
        (lambda p: p.add_memo("code", "Nope", "text"), NotFound),
    ],
)
def test_a_failed_write_leaves_neither_change_nor_entry(store, write, error):
    store.add_case("N")
    store.add_case("S", parent="N", attributes={"staff": "12"})
    store.add_code("Top")
    store.add_code("Child", parent="Top")
    before = (store.cases(), store.codes(), store.memos_frame().to_dict(), entries(store))
    with pytest.raises(error):
        write(store)
    assert (store.cases(), store.codes(), store.memos_frame().to_dict(), entries(store)) == before


def test_a_failed_import_rolls_back_every_row_and_entry(store, tmp_path):
    store.add_code("Top")
    before = entries(store)
    csv = tmp_path / "codes.csv"
    csv.write_text("code,parent,sis\nA,Top,O10\nB,A,O2\nC,A,O99\n")
    with pytest.raises(CaseframeError) as err:
        store.import_codes(csv)
    assert err.value.where == f"{csv}:4"
    assert [c.name for c in store.codes()] == ["Top"] and entries(store) == before
    cases = tmp_path / "cases.csv"
    cases.write_text("id,parent,staff\nN,,3\nS,N,4\nT,Nowhere,5\n")
    with pytest.raises(CaseframeError):
        store.import_cases(cases)
    assert store.cases() == [] and entries(store) == before


def test_cli_writes_are_audited_as_the_named_person(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CASEFRAME_ACTOR", "from-env")
    root = tmp_path / "p"
    assert run(["init", str(root)]) == 0
    assert run(["-p", str(root), "--as", "kristin", "cases", "add", "A5"]) == 0
    assert run(["-p", str(root), "codes", "add", "Funding"]) == 0
    capsys.readouterr()
    with Project.open(root) as project:
        log = entries(project)
    assert [(e.actor, e.entity_type) for e in log] == [("kristin", "case"), ("from-env", "code")]
