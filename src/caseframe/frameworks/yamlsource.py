"""A framework file's YAML as plain data plus the line of every value, for error messages.

The YAML is composed into PyYAML's node tree rather than loaded straight into Python objects:
the node marks give each value's line, and scalars are kept as the text written, so an id such
as `NO` or `1.0` stays a string (YAML 1.1 would make them a boolean and a float). The schema
(`frameworks.schema`) turns text into numbers where a number is expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from caseframe.errors import InvalidInput

Path = tuple[str | int, ...]  # keys and list indices from the root, as pydantic reports them
_NULL = "tag:yaml.org,2002:null"


@dataclass
class Lines:
    """Line (1-based) of each value's key, or of each list item, by its path from the root."""

    source: str
    by_path: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """The line of `path`, else of the nearest enclosing value that has one."""
        path = tuple(path)
        while path and path not in self.by_path:
            path = path[:-1]
        return self.by_path.get(path, 1)

    def where(self, path: Path) -> str:
        return f"{self.source}:{self.line(path)}"


def compose(text: str, source: str) -> tuple[Any, Lines]:
    """(data, lines) of a YAML text; InvalidInput with file:line on a syntax error."""
    lines = Lines(source)
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{source}:{mark.line + 1}" if mark else source
            problem = exc.problem or exc.context or "invalid YAML"
            raise InvalidInput(f"YAML syntax error: {problem}", where=where) from exc
        except yaml.YAMLError as exc:
            raise InvalidInput(f"YAML error: {exc}", where=source) from exc
    finally:
        loader.dispose()
    if root is None:
        raise InvalidInput("the file is empty", where=f"{source}:1", hint="see docs/frameworks.md")
    return _plain(root, (), lines), lines


def _plain(node: Node, path: Path, lines: Lines) -> Any:
    """Nested dicts, lists, strings and None; records lines; refuses duplicate keys.

    Keys starting with "x-" are the writer's own notes and are left out.
    """
    lines.by_path.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        return None if node.tag == _NULL else node.value
    if isinstance(node, SequenceNode):
        return [_plain(item, (*path, i), lines) for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise InvalidInput(
                f"{describe(path)} has a key that is not plain text",
                where=f"{lines.source}:{key_node.start_mark.line + 1}",
            )
        key = key_node.value
        if key in out:
            raise InvalidInput(
                f"{describe(path)} has the key '{key}' twice",
                where=f"{lines.source}:{key_node.start_mark.line + 1}",
            )
        if key.startswith("x-"):
            continue
        lines.by_path[(*path, key)] = key_node.start_mark.line + 1
        out[key] = _plain(value_node, (*path, key), lines)
    return out


def describe(path: Path, data: Any = None) -> str:
    """A reader's name for the value at `path` ("the name of component O3", "scale max")."""
    if not path:
        return "the framework file"
    head, rest = path[0], path[1:]
    if head in ("components", "levels") and rest and isinstance(rest[0], int):
        item = _item_name(str(head), rest[0], data)
        if len(rest) == 1:
            return item
        field_name = rest[1]
        if len(rest) > 2:
            return f"an item of {field_name} of {item}"
        return f"the {field_name} of {item}"
    if head == "scale" and rest:
        return f"scale {rest[0]}" if len(rest) == 1 else f"scale {rest[0]} {rest[1]}"
    return " ".join(str(p) for p in path)


def _item_name(section: str, index: int, data: Any) -> str:
    """ "component O3" when its id is readable, else "component #4"."""
    noun = "component" if section == "components" else "level"
    try:
        item = data[section][index]
        label = item.get("id") if noun == "component" else item.get("name")
    except (AttributeError, IndexError, KeyError, TypeError):
        label = None
    if isinstance(label, str) and label.strip():
        return f"{noun} {label.strip()}"
    return f"{noun} #{index + 1}"
