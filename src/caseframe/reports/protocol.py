"""Interview guide (protocol) from a framework: levels in order, each component with a one-line
definition and its questions, as Markdown or Word (.docx)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from caseframe.errors import InvalidInput
from caseframe.frameworks.loader import BUILTIN_KEYS, FrameworkSpec, builtin_framework_spec
from caseframe.model import Component, Framework
from caseframe.util.atomic import atomic_write

FORMATS = {"md": (".md", ".markdown", ".txt"), "docx": (".docx",)}

OWN_WORDING_NOTE = (
    "The definitions and questions in this guide are caseframe's own wording, written to help "
    "plan and run interviews. They are not the published items of the framework; adapt them to "
    "your study and language."
)


@dataclass(frozen=True)
class _Item:
    depth: int  # 0 = directly under the level heading (no own heading), 1 = component, 2 = child
    component: Component


@dataclass(frozen=True)
class _Section:
    level: str
    description: str
    items: tuple[_Item, ...]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _scale_line(fw: Framework) -> str:
    if fw.scale is None:
        return ""
    anchors = "; ".join(f"{v} {label}" for v, label in sorted(fw.scale.anchors.items()))
    line = f"Rating scale after the interviews: {fw.scale.minimum} to {fw.scale.maximum}"
    return f"{line} ({anchors})." if anchors else f"{line}."


def _sections(fw: Framework, spec: FrameworkSpec | None) -> list[_Section]:
    if spec is None and fw.builtin and fw.key in BUILTIN_KEYS:
        spec = builtin_framework_spec(fw.key)
    keys = {c.key.casefold() for c in fw.components}
    sections = []
    for level in fw.levels:
        members = [c for c in fw.components if c.level == level]
        info = spec.level(level) if spec else None
        description = _one_line(info.description) if info else ""
        if len(members) == 1 and members[0].name.casefold() == level.casefold():
            # a level that is a single component (PSAT domains): no repeated heading
            items: tuple[_Item, ...] = (_Item(0, members[0]),)
        else:
            items = tuple(
                _Item(2 if (c.parent_key or "").casefold() in keys else 1, c) for c in members
            )
        sections.append(_Section(level, description, items))
    return sections


def _title(fw: Framework) -> str:
    return f"Interview guide: {fw.name}"


def _framework_line(fw: Framework) -> str:
    version = f", version {fw.version}" if fw.version else ""
    return f"Framework: {fw.name}; key `{fw.key}`{version}."


def protocol_markdown(fw: Framework, spec: FrameworkSpec | None = None) -> str:
    """The interview guide as Markdown. `spec` (optional) adds level descriptions; built-in
    frameworks find theirs without it."""
    lines = [f"# {_title(fw)}", "", _framework_line(fw)]
    if fw.citation:
        lines += ["", f"Source: {_one_line(fw.citation)}"]
    lines += ["", f"> {OWN_WORDING_NOTE}"]
    if scale := _scale_line(fw):
        lines += ["", scale]
    for section in _sections(fw, spec):
        lines += ["", f"## {section.level}"]
        if section.description:
            lines += ["", section.description]
        for item in section.items:
            c = item.component
            if item.depth:
                lines += ["", f"{'#' * (item.depth + 2)} {c.key} {c.name}"]
            if c.definition:
                lines += ["", f"*Definition:* {_one_line(c.definition)}"]
            if c.questions:
                lines.append("")
                lines += [f"- {_one_line(q)}" for q in c.questions]
    return "\n".join(lines) + "\n"


def _save_docx(fw: Framework, spec: FrameworkSpec | None, path: Path) -> None:
    from docx import Document  # imported here: only this format needs python-docx

    doc = Document()
    doc.core_properties.title = _title(fw)
    doc.core_properties.author = "caseframe"
    doc.add_heading(_title(fw), level=0)
    doc.add_paragraph(_framework_line(fw).replace("`", ""))
    if fw.citation:
        doc.add_paragraph(f"Source: {_one_line(fw.citation)}")
    note = doc.add_paragraph()
    note.add_run(OWN_WORDING_NOTE).italic = True
    if scale := _scale_line(fw):
        doc.add_paragraph(scale)
    for section in _sections(fw, spec):
        doc.add_heading(section.level, level=1)
        if section.description:
            doc.add_paragraph(section.description)
        for item in section.items:
            c = item.component
            if item.depth:
                doc.add_heading(f"{c.key} {c.name}", level=item.depth + 1)
            if c.definition:
                para = doc.add_paragraph()
                para.add_run("Definition: ").bold = True
                para.add_run(_one_line(c.definition)).italic = True
            for question in c.questions:
                doc.add_paragraph(_one_line(question), style="List Bullet")
    doc.save(str(path))


def _save_markdown(fw: Framework, spec: FrameworkSpec | None, path: Path) -> None:
    path.write_text(protocol_markdown(fw, spec), encoding="utf-8")


_WRITERS: dict[str, Callable[[Framework, FrameworkSpec | None, Path], None]] = {
    "md": _save_markdown,
    "docx": _save_docx,
}


def _target(fw: Framework, fmt: str, out: Path) -> Path:
    if out.is_dir():
        return out / f"{fw.key}-interview-guide{FORMATS[fmt][0]}"
    if out.suffix and out.suffix.lower() not in FORMATS[fmt]:
        raise InvalidInput(
            f"the output file ends in '{out.suffix}' but the format is {fmt}",
            where=str(out),
            hint=f"name the file *{FORMATS[fmt][0]} or choose the matching format",
        )
    parent = out.parent
    if not parent.is_dir():
        raise InvalidInput(
            "the output folder does not exist",
            where=str(parent),
            hint="create the folder first or choose another output path",
        )
    return out


def write_protocol(
    fw: Framework, fmt: str, out: str | Path, spec: FrameworkSpec | None = None
) -> Path:
    """Write the interview guide as `fmt` ("md" or "docx") to `out` (a file, or a folder that
    gets `<key>-interview-guide.<ext>`), atomically: a failure never leaves a half-written
    guide. Returns the path written."""
    fmt_key = fmt.strip().lower().lstrip(".")
    if fmt_key == "markdown":
        fmt_key = "md"
    if fmt_key not in _WRITERS:
        raise InvalidInput(
            f"unknown protocol format '{fmt}'", hint=f"use one of: {', '.join(_WRITERS)}"
        )
    target = _target(fw, fmt_key, Path(out))
    return atomic_write(target, lambda tmp: _WRITERS[fmt_key](fw, spec, tmp))
