"""Interview guide (protocol) writer: Markdown and .docx."""

from __future__ import annotations

import re

import docx
import pytest

from caseframe.errors import InvalidInput
from caseframe.frameworks import builtin_framework, load_framework_text
from caseframe.reports.protocol import OWN_WORDING_NOTE, protocol_markdown, write_protocol


def _headings(markdown: str, depth: int) -> list[str]:
    return re.findall(rf"^{'#' * depth} (.+)$", markdown, re.M)


def test_sis_markdown_guide():
    fw = builtin_framework("sis")
    md = protocol_markdown(fw)
    assert _headings(md, 1) == ["Interview guide: Sustainable Implementation Scale (SIS)"]
    assert "Markström U" in md and OWN_WORDING_NOTE in md
    assert "0 to 3 (0 absent; 1 partly present; 2 largely present; 3 fully present)" in md
    assert _headings(md, 2) == list(fw.levels)
    assert _headings(md, 3) == [f"{c.key} {c.name}" for c in fw.components]
    # every component's questions sit under its own heading, in order
    for c in fw.components:
        block = md.split(f"### {c.key} {c.name}\n", 1)[1].split("\n#", 1)[0]
        assert [line[2:] for line in block.splitlines() if line.startswith("- ")] == list(
            c.questions
        )
        definition = next(line for line in block.splitlines() if line.startswith("*Definition:*"))
        assert definition == f"*Definition:* {' '.join(c.definition.split())}"


def test_cfir_subconstructs_nest_and_psat_domains_are_not_repeated():
    cfir = protocol_markdown(builtin_framework("cfir2"))
    assert len(_headings(cfir, 3)) == 48 and len(_headings(cfir, 4)) == 19
    assert cfir.index("### OS-G External Pressure") < cfir.index("#### OS-G1 Societal Pressure")
    assert "The world around the inner setting" in cfir  # level description from the file
    psat = protocol_markdown(builtin_framework("psat"))
    assert len(_headings(psat, 2)) == 8 and _headings(psat, 3) == []
    assert psat.count("*Definition:*") == 8


def test_user_framework_without_scale_or_citation():
    fw = load_framework_text(
        "key: own\nname: Own\ncomponents:\n"
        "  - {id: A, name: Alpha, level: L, questions: ['Q1?']}\n",
        "own.yaml",
    )
    md = protocol_markdown(fw)
    assert "Source:" not in md and "Rating scale" not in md
    assert "## L\n\n### A Alpha\n\n- Q1?\n" in md


def test_write_markdown_to_file_and_folder(tmp_path):
    fw = builtin_framework("sis")
    written = write_protocol(fw, "md", tmp_path / "guide.md")
    assert written == tmp_path / "guide.md"
    assert written.read_text(encoding="utf-8") == protocol_markdown(fw)
    into_folder = write_protocol(fw, "MD", tmp_path)
    assert into_folder == tmp_path / "sis-interview-guide.md"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guide.md", "sis-interview-guide.md"]


def test_docx_guide_reads_back(tmp_path):
    fw = builtin_framework("sis")
    path = write_protocol(fw, "docx", tmp_path / "guide.docx")
    doc = docx.Document(str(path))
    by_style: dict[str, list[str]] = {}
    for para in doc.paragraphs:
        by_style.setdefault(para.style.name, []).append(para.text)
    assert by_style["Title"] == ["Interview guide: Sustainable Implementation Scale (SIS)"]
    assert by_style["Heading 1"] == list(fw.levels)
    assert by_style["Heading 2"] == [f"{c.key} {c.name}" for c in fw.components]
    assert by_style["List Bullet"] == [q for c in fw.components for q in c.questions]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert OWN_WORDING_NOTE in body and "Markström U" in body
    assert doc.core_properties.title == by_style["Title"][0]


def test_docx_cfir_levels(tmp_path):
    fw = builtin_framework("cfir2")
    doc = docx.Document(str(write_protocol(fw, "docx", tmp_path)))
    styles = [p.style.name for p in doc.paragraphs]
    assert styles.count("Heading 1") == 5
    assert styles.count("Heading 2") == 48 and styles.count("Heading 3") == 19


def test_bad_format_and_paths(tmp_path):
    fw = builtin_framework("psat")
    with pytest.raises(InvalidInput, match="unknown protocol format 'pdf'"):
        write_protocol(fw, "pdf", tmp_path / "x.pdf")
    with pytest.raises(InvalidInput) as err:
        write_protocol(fw, "md", tmp_path / "missing" / "guide.md")
    assert err.value.where == str(tmp_path / "missing")
    assert "output folder does not exist" in err.value.line()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput):
        write_protocol(fw, "docx", a_file / "guide.docx")  # a "folder" that is a file
    with pytest.raises(InvalidInput, match="ends in '.md' but the format is docx"):
        write_protocol(fw, "docx", tmp_path / "guide.md")
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]  # nothing half-written
