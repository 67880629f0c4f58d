"""store/queries for cases, codes, memos and frameworks: deep trees without recursion, the
number of SQL statements independent of the number of rows, and the lookups' tree paths."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from caseframe.errors import Conflict
from caseframe.store.lookup import code_path, code_row
from caseframe.store.queries import cases as case_queries
from caseframe.store.queries import codes as code_queries
from caseframe.store.queries import frameworks as framework_queries
from caseframe.store.queries import memos as memo_queries


@contextmanager
def counting(project):
    """Count the SQL statements the project's engine runs inside the block."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(project.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(project.store.engine, "before_cursor_execute", count)


def chain(project, depth: int) -> list[int]:
    """A code tree that is one branch `depth` codes deep, inserted in one transaction."""
    ids: list[int] = []
    with project.store.transaction() as conn:
        parent = None
        for i in range(depth):
            parent = code_queries.insert(
                conn,
                name=f"c{i}",
                parent_id=parent,
                kind=None,
                origin="inductive",
                component_id=None,
            )
            ids.append(parent)
    return ids


def test_a_very_deep_code_tree_loads_without_recursion(project):
    ids = chain(project, 3000)
    codes = project.codes()
    assert [c.id for c in codes] == ids  # parents before children
    assert codes[-1].path.count("/") == 2999
    with project.store.read() as conn:
        assert code_path(conn, ids[-1]) == codes[-1].path
    assert project.descendant_code_ids("c0")[:3] == ids[:3]
    assert len(project.descendant_code_ids("c0")) == 3000
    with pytest.raises(Conflict, match="cycle"):
        project.move_code("c0", "c2999")


def test_reading_codes_takes_the_same_number_of_statements_for_10_or_400_codes(project, tmp_path):
    project.add_code("Theme", maps_to=["sis:O10"])
    for i in range(9):
        project.add_code(f"Code {i}", parent="Theme", framework_component=f"sis:O{i % 9 + 1}")
    with counting(project) as few:
        small = project.codes_frame()
    csv = tmp_path / "codes.csv"
    csv.write_text("code,parent,sis\n" + "".join(f"Code {i},Theme,O2;O3\n" for i in range(9, 400)))
    project.import_codes(csv)
    with counting(project) as many:
        large = project.codes_frame()
    assert len(small) == 10 and len(large) == 401
    assert len(many) == len(few) <= 6
    assert large.loc[0, "maps_to"] == "sis:O10" and large.loc[400, "maps_to"] == "sis:O2; sis:O3"
    assert large.loc[1, "component"] == "sis:O1" and large.loc[5, "path"] == "Theme/Code 4"


def test_reading_cases_takes_the_same_number_of_statements_for_any_number(project, tmp_path):
    rows = "".join(f"S{i},site,N,{i}\n" for i in range(700))
    (tmp_path / "c.csv").write_text("id,kind,parent,staff\nN,region,,\n" + rows)
    added = project.import_cases(tmp_path / "c.csv")  # more than MANY: read all, then filter
    assert len(added) == 701 and added[-1].attributes == {"staff": "699"}
    with counting(project) as statements:
        frame = project.cases_frame()
    assert len(statements) <= 4
    assert frame.set_index("key").loc["S699", "path"] == "N/S699"


def test_loading_some_codes_by_id_gives_their_full_paths(project):
    project.add_code("A")
    project.add_code("B", parent="A")
    c = project.add_code("C", parent="A/B", maps_to=["sis:O4", "sis:O2"])
    with project.store.read() as conn:
        (code,) = code_queries.load(conn, [c.id])
        assert code_queries.load(conn, []) == []
        assert code_queries.parent_links(conn)[c.id] == code_row(conn, "A/B").id
    assert code.path == "A/B/C" and code.mapped_components == ("sis:O2", "sis:O4")


def test_merge_drops_a_coding_the_target_already_has(project, tmp_path):
    (tmp_path / "d.txt").write_text("I: hi\nR: hello there\n")
    project.import_documents([tmp_path / "d.txt"])
    project.add_code("A")
    project.add_code("B")
    project.add_coding("d.txt", 0, 5, "A", "KG")
    project.add_coding("d.txt", 0, 5, "B", "KG")
    project.add_coding("d.txt", 6, 10, "A", "KG")
    project.add_coding("d.txt", 0, 5, "A", "EV")
    project.merge_codes("A", "B")
    frame = project.codings_frame()
    assert sorted(zip(frame["start"], frame["coder"], frame["code"], strict=True)) == [
        (0, "EV", "B"),
        (0, "KG", "B"),
        (6, "KG", "B"),
    ]


def test_case_memo_and_framework_queries(project):
    project.add_case("N", kind="region")
    project.add_case("S", kind="site", parent="N", attributes={"opened": "2016-03-01"})
    with project.store.transaction() as conn:
        assert case_queries.keys(conn) == ["N", "S"]
        assert case_queries.attribute_types(conn) == {"opened": "date"}
        (s,) = case_queries.load(conn, [case_queries.parent_links(conn).popitem()[0]])
        assert (s.key, s.parent_key, s.attributes) == ("S", "N", {"opened": "2016-03-01"})
        memo = memo_queries.insert(conn, "project", None, "First note", "kg")
        assert memo_queries.load(conn, "project", None, of_target=True) == [memo]
        assert [fw.key for fw in framework_queries.load_all(conn)] == framework_queries.keys(conn)
        assert framework_queries.load(conn, "SIS").key == "sis"
