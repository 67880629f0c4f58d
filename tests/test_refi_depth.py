"""Nesting limits: a .qdc/.qdpx with thousands of nested codes is refused in one line, nothing is
stored, and code trees up to the limit go through every step (read, merge, store, export)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.errors import InvalidInput
from caseframe.interop.refi import read_qdc
from caseframe.interop.refi.safety import MAX_CODE_DEPTH
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now


def guid(n: int) -> str:
    return f"{n:08X}-0000-4000-8000-{n:012X}"


def nested_codes(levels: int) -> str:
    opening = "".join(
        f'<Code guid="{guid(i + 1)}" name="level {i + 1}" isCodable="true">' for i in range(levels)
    )
    return f"<Codes>{opening}{'</Code>' * levels}</Codes>"


def qdc(path: Path, levels: int) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="test">{nested_codes(levels)}'
        "</CodeBook>",
        encoding="utf-8",
    )
    return path


def qdpx(path: Path, levels: int) -> Path:
    document = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="deep" origin="test">'
        f"<CodeBook>{nested_codes(levels)}</CodeBook></Project>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", document)
    return path


def code_count(project: Project) -> int:
    with project.store.read() as conn:
        return conn.scalar(select(func.count()).select_from(t.codes))


def one_line_error(capsys, args: list[str]) -> str:
    assert run(args) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err + captured.out
    return captured.err


def test_five_thousand_nested_codes_are_refused_in_one_line(project, tmp_path, capsys):
    before = code_count(project)
    err = one_line_error(
        capsys, ["-p", str(project.root), "import", "qdc", str(qdc(tmp_path / "deep.qdc", 5000))]
    )
    assert "levels deep" in err and "deep.qdc" in err
    deep = qdpx(tmp_path / "deep.qdpx", 5000)
    err = one_line_error(capsys, ["-p", str(project.root), "import", "qdpx", str(deep)])
    assert "levels deep" in err
    assert code_count(project) == before  # nothing stored
    new = tmp_path / "new"
    one_line_error(capsys, ["import", "qdpx", str(deep), "--new", str(new)])
    assert not new.exists()  # refused before a project was created


@pytest.mark.parametrize("kind", ["qdc", "qdpx"])
def test_one_level_beyond_the_code_limit_is_refused(tmp_path, kind):
    # 101 levels of codes stay within the XML element limit: the code limit itself speaks
    make = qdc if kind == "qdc" else qdpx
    path = make(tmp_path / f"deep.{kind}", MAX_CODE_DEPTH + 1)
    with pytest.raises(InvalidInput, match=f"more than {MAX_CODE_DEPTH} levels deep"):
        if kind == "qdc":
            read_qdc(path)
        else:
            Project.from_qdpx(path, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_codes_at_the_limit_go_through_import_and_both_exports(project, tmp_path):
    result = project.import_qdc(qdc(tmp_path / "limit.qdc", MAX_CODE_DEPTH))
    assert result.plan.counts()["added"] == MAX_CODE_DEPTH
    assert code_count(project) == MAX_CODE_DEPTH
    out, _ = project.export_qdpx(tmp_path / "limit.qdpx")
    copy, imported = Project.from_qdpx(out, tmp_path / "copy")
    assert imported.added["codes"] == MAX_CODE_DEPTH
    copy.close()
    project.export_qdc(tmp_path / "again.qdc")
    book, _ = read_qdc(tmp_path / "again.qdc")
    assert sum(1 for _ in book.walk_codes()) == MAX_CODE_DEPTH


def test_export_refuses_a_stored_tree_deeper_than_the_limit(project, tmp_path):
    stamp = now()
    with project.store.transaction() as conn:
        parent = None
        for level in range(MAX_CODE_DEPTH + 1):
            parent = conn.execute(
                t.codes.insert().values(
                    name=f"level {level + 1}",
                    parent_id=parent,
                    origin="inductive",
                    description="",
                    position=1,
                    version=1,
                    meta={},
                    guid=new_guid(),
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]
    for out in (tmp_path / "deep.qdpx", tmp_path / "deep.qdc"):
        export = project.export_qdpx if out.suffix == ".qdpx" else project.export_qdc
        with pytest.raises(InvalidInput, match=f"more than {MAX_CODE_DEPTH} levels deep"):
            export(out)
        assert not out.exists()  # nothing half-written
