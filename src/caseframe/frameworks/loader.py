"""Read framework data files (YAML) into caseframe.model.Framework.

The built-in frameworks (SIS, CFIR 2.0, PSAT) ship as YAML next to this module; users can write
their own in the same format (docs/frameworks.md). The YAML is composed into a node tree rather
than loaded straight into Python objects so that every problem can be reported with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from caseframe.errors import InvalidInput, NotFound
from caseframe.model import Component, Framework, Scale

# Display order of the built-in frameworks; each is `<key>.yaml` in this package.
BUILTIN_KEYS = ("sis", "cfir2", "psat")

COMPONENT_KINDS = ("component", "domain", "construct", "subconstruct")
# Ids end up in strings such as "sis:O10", so they must not hold ':' or spaces.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

_TOP_KEYS = {
    "format",
    "key",
    "name",
    "version",
    "description",
    "citation",
    "scale",
    "levels",
    "components",
    "total_max",
}
_SCALE_KEYS = {"min", "max", "anchors", "special"}
_LEVEL_KEYS = {"name", "id", "description", "max"}
_COMPONENT_KEYS = {
    "id",
    "name",
    "level",
    "kind",
    "parent",
    "definition",
    "questions",
    "keywords",
    "examples",
}


@dataclass(frozen=True)
class LevelInfo:
    """A level / domain as written in the file (Framework.levels keeps only the names)."""

    name: str
    id: str = ""
    description: str = ""
    maximum: int | None = None


@dataclass(frozen=True)
class FrameworkSpec:
    """Everything a framework file holds, including what caseframe.model.Framework has no field
    for: level descriptions and non-numeric rating codes (CFIR's X / missing)."""

    framework: Framework
    levels: tuple[LevelInfo, ...]
    special_ratings: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def level(self, name: str) -> LevelInfo | None:
        wanted = name.casefold()
        for info in self.levels:
            if wanted in (info.name.casefold(), info.id.casefold()):
                return info
        return None


# --------------------------------------------------------------------------- public API


def load_framework_file(path: str | Path) -> Framework:
    """Parse a user's framework YAML file; InvalidInput with "file:line" on any problem."""
    return read_framework_file(path).framework


def load_framework_text(text: str, source: str) -> Framework:
    """Parse framework YAML given as text; `source` names it in error messages."""
    return read_framework_text(text, source).framework


def read_framework_file(path: str | Path) -> FrameworkSpec:
    p = Path(path)
    if not p.exists():
        raise NotFound(
            "framework file not found", where=str(p), hint="check the path or the file name"
        )
    if not p.is_file():
        raise InvalidInput("not a file", where=str(p), hint="give the path of a .yaml file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the file ({exc.strerror})", where=str(p)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            "the file is not valid UTF-8", where=f"{p}:{line}", hint="save it as UTF-8"
        ) from exc
    return read_framework_text(text, str(p))


def read_framework_text(text: str, source: str) -> FrameworkSpec:
    return _Parser(text, source).parse()


def builtin_framework_keys() -> list[str]:
    return list(BUILTIN_KEYS)


def builtin_framework(key: str) -> Framework:
    """A built-in framework by key, case-insensitive ("SIS", "cfir2", ...)."""
    return builtin_framework_spec(key).framework


def builtin_framework_spec(key: str) -> FrameworkSpec:
    wanted = key.strip().casefold()
    if wanted not in BUILTIN_KEYS:
        raise NotFound(
            f"no built-in framework '{key}'",
            hint=f"choose one of: {', '.join(BUILTIN_KEYS)}, or load your own YAML file",
        )
    return _load_builtin(wanted)


def builtin_frameworks() -> list[Framework]:
    return [builtin_framework(k) for k in BUILTIN_KEYS]


def with_scale_anchors(fw: Framework, anchors: dict[int, str]) -> Framework:
    """The same framework with the scale anchors replaced (SIS anchors are not published, so a
    project may set its own). Every anchor must lie on the scale."""
    if fw.scale is None:
        raise InvalidInput(f"framework '{fw.key}' has no rating scale to put anchors on")
    cleaned: dict[int, str] = {}
    for value, label in anchors.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"scale anchor '{value}' is not a whole number")
        if not fw.scale.minimum <= value <= fw.scale.maximum:
            raise InvalidInput(
                f"scale anchor {value} is outside the scale",
                hint=f"use values from {fw.scale.minimum} to {fw.scale.maximum}",
            )
        if not str(label).strip():
            raise InvalidInput(f"scale anchor {value} has an empty label")
        cleaned[value] = str(label).strip()
    return replace(fw, scale=replace(fw.scale, anchors=dict(sorted(cleaned.items()))))


def framework_to_dict(fw: Framework, spec: FrameworkSpec | None = None) -> dict[str, Any]:
    """A JSON-ready view of a framework (for `framework show --json`)."""
    if spec is None and fw.builtin and fw.key in BUILTIN_KEYS:
        spec = _load_builtin(fw.key)
    infos = {i.name: i for i in spec.levels} if spec else {}
    levels = []
    for name in fw.levels:
        info = infos.get(name)
        levels.append(
            {
                "name": name,
                "id": info.id if info else "",
                "description": info.description if info else "",
                "max": fw.level_maxima.get(name),
                "components": sum(1 for c in fw.components if c.level == name),
            }
        )
    scale = None
    if fw.scale is not None:
        scale = {
            "min": fw.scale.minimum,
            "max": fw.scale.maximum,
            "anchors": {str(k): v for k, v in sorted(fw.scale.anchors.items())},
            "special": dict(spec.special_ratings) if spec else {},
        }
    total = sum(fw.level_maxima.values()) if fw.level_maxima else None
    return {
        "key": fw.key,
        "name": fw.name,
        "version": fw.version,
        "description": fw.description,
        "citation": fw.citation,
        "builtin": fw.builtin,
        "scale": scale,
        "levels": levels,
        "total_max": total,
        "components": [
            {
                "id": c.key,
                "name": c.name,
                "level": c.level,
                "kind": c.kind,
                "parent": c.parent_key,
                "definition": c.definition,
                "questions": list(c.questions),
                "keywords": list(c.keywords),
                "examples": list(c.examples),
            }
            for c in fw.components
        ],
    }


# --------------------------------------------------------------------------- internals


@cache
def _load_builtin(key: str) -> FrameworkSpec:
    resource = resources.files("caseframe.frameworks").joinpath(f"{key}.yaml")
    spec = read_framework_text(resource.read_text(encoding="utf-8"), f"{key}.yaml")
    fw = spec.framework
    if fw.key != key:  # a packaging mistake, not a user error
        raise RuntimeError(f"built-in framework file {key}.yaml declares key '{fw.key}'")
    return replace(spec, framework=replace(fw, builtin=True))


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Parser:
    """Walks the composed YAML node tree, turning each problem into InvalidInput with its line."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        self._loader: yaml.SafeLoader | None = None

    # -- error helpers

    def _fail(self, node: Node | int | None, message: str, hint: str | None = None) -> InvalidInput:
        if isinstance(node, Node):
            where = f"{self.source}:{_line(node)}"
        elif isinstance(node, int):
            where = f"{self.source}:{node}"
        else:
            where = self.source
        return InvalidInput(message, where=where, hint=hint)

    # -- node readers

    def _value(self, node: Node) -> Any:
        assert self._loader is not None
        return self._loader.construct_object(node, deep=True)

    def _is_null(self, node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def _mapping(self, node: Node, what: str, allowed: set[str]) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self._fail(node, f"{what} must be a mapping of 'key: value' lines")
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self._fail(key_node, f"{what} has a key that is not plain text")
            key = key_node.value
            if key in out:
                raise self._fail(key_node, f"{what} has the key '{key}' twice")
            if key not in allowed and not key.startswith("x-"):
                raise self._fail(
                    key_node,
                    f"unknown key '{key}' in {what}",
                    hint=f"allowed keys: {', '.join(sorted(allowed))} (or x-... for your own)",
                )
            out[key] = (key_node, value_node)
        return out

    def _text(self, node: Node, what: str, *, required: bool = True) -> str:
        """Plain text taken verbatim, so that ids such as `NO` or `1.0` stay strings."""
        if self._is_null(node) or (isinstance(node, ScalarNode) and not node.value.strip()):
            if required:
                raise self._fail(node, f"{what} is empty")
            return ""
        if not isinstance(node, ScalarNode):
            raise self._fail(node, f"{what} must be text, not a list or mapping")
        return " ".join(node.value.split()) if "\n" in node.value else node.value.strip()

    def _int(self, node: Node, what: str) -> int:
        value = self._value(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(node, f"{what} must be a whole number")
        return value

    def _texts(self, node: Node, what: str) -> tuple[str, ...]:
        if self._is_null(node):
            return ()
        if isinstance(node, ScalarNode):  # a single string is taken as a one-item list
            return (self._text(node, what),)
        if not isinstance(node, SequenceNode):
            raise self._fail(node, f"{what} must be a list of texts")
        return tuple(self._text(item, f"an item of {what}") for item in node.value)

    def _optional_texts(
        self, fields: dict[str, tuple[Node, Node]], name: str, cid: str
    ) -> tuple[str, ...]:
        return self._texts(fields[name][1], f"{name} of {cid}") if name in fields else ()

    def _keywords(self, node: Node, what: str) -> tuple[str, ...]:
        """A list, or a mapping of language -> list (en: [...], sv: [...]) merged in order."""
        if not isinstance(node, MappingNode):
            return self._texts(node, what)
        merged: dict[str, None] = {}
        for lang_node, words_node in node.value:
            lang = self._text(lang_node, f"a language of {what}")
            for word in self._texts(words_node, f"{what} ({lang})"):
                merged.setdefault(word, None)
        return tuple(merged)

    # -- sections

    def parse(self) -> FrameworkSpec:
        try:
            self._loader = yaml.SafeLoader(self.text)
            try:
                root = self._loader.get_single_node()
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = mark.line + 1 if mark else None
                problem = exc.problem or exc.context or "invalid YAML"
                raise self._fail(line, f"YAML syntax error: {problem}") from exc
            except yaml.YAMLError as exc:
                raise self._fail(None, f"YAML error: {exc}") from exc
            if root is None:
                raise self._fail(1, "the file is empty", hint="see docs/frameworks.md")
            return self._framework(root)
        finally:
            if self._loader is not None:
                self._loader.dispose()

    def _framework(self, root: Node) -> FrameworkSpec:
        top = self._mapping(root, "the framework file", _TOP_KEYS)
        for required in ("key", "name", "components"):
            if required not in top:
                raise self._fail(
                    root, f"missing top-level key '{required}'", hint="see docs/frameworks.md"
                )
        if "format" in top:
            fmt = self._int(top["format"][1], "format")
            if fmt != 1:
                raise self._fail(top["format"][1], f"unsupported format version {fmt}")

        key_node = top["key"][1]
        key = self._text(key_node, "key")
        if not _ID_PATTERN.match(key):
            raise self._fail(
                key_node,
                f"framework key '{key}' may hold only letters, digits, '.', '_' and '-'",
            )

        def optional_text(name: str) -> str:
            return self._text(top[name][1], name, required=False) if name in top else ""

        scale, special = self._scale(top["scale"][1]) if "scale" in top else (None, {})
        levels = self._levels(top["levels"][1]) if "levels" in top else []
        components = self._components(top["components"][1], levels)

        if not levels:  # no levels section: take them from the components, in order of use
            seen: dict[str, LevelInfo] = {}
            for comp, _ in components:
                seen.setdefault(comp.level, LevelInfo(name=comp.level))
            levels = [(info, None) for info in seen.values()]

        maxima = self._check_maxima(levels, components, scale, top)
        fw = Framework(
            key=key,
            name=self._text(top["name"][1], "name"),
            version=optional_text("version"),
            description=optional_text("description"),
            levels=tuple(info.name for info, _ in levels),
            components=tuple(comp for comp, _ in components),
            scale=scale,
            level_maxima=maxima,
            citation=optional_text("citation"),
        )
        return FrameworkSpec(
            framework=fw,
            levels=tuple(info for info, _ in levels),
            special_ratings=special,
            source=self.source,
        )

    def _scale(self, node: Node) -> tuple[Scale, dict[str, str]]:
        fields = self._mapping(node, "scale", _SCALE_KEYS)
        for required in ("min", "max"):
            if required not in fields:
                raise self._fail(node, f"scale needs '{required}'")
        lo = self._int(fields["min"][1], "scale min")
        hi = self._int(fields["max"][1], "scale max")
        if lo >= hi:
            raise self._fail(fields["max"][1], f"scale min ({lo}) must be below scale max ({hi})")
        anchors: dict[int, str] = {}
        if "anchors" in fields:
            anchor_node = fields["anchors"][1]
            if not isinstance(anchor_node, MappingNode):
                raise self._fail(anchor_node, "scale anchors must map a value to a label")
            for value_node, label_node in anchor_node.value:
                try:
                    value = int(str(self._value(value_node)))
                except ValueError:
                    raise self._fail(value_node, "a scale anchor must be a whole number") from None
                if not lo <= value <= hi:
                    raise self._fail(value_node, f"scale anchor {value} lies outside {lo}..{hi}")
                if value in anchors:
                    raise self._fail(value_node, f"scale anchor {value} is given twice")
                anchors[value] = self._text(label_node, f"the label of anchor {value}")
        special: dict[str, str] = {}
        if "special" in fields:
            special_node = fields["special"][1]
            if not isinstance(special_node, MappingNode):
                raise self._fail(special_node, "scale special must map a code to its meaning")
            for code_node, meaning_node in special_node.value:
                code = self._text(code_node, "a special rating code")
                special[code] = self._text(meaning_node, f"the meaning of '{code}'")
        return Scale(minimum=lo, maximum=hi, anchors=dict(sorted(anchors.items()))), special

    def _levels(self, node: Node) -> list[tuple[LevelInfo, Node]]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self._fail(node, "levels must be a non-empty list")
        out: list[tuple[LevelInfo, Node]] = []
        names: set[str] = set()
        for item in node.value:
            if isinstance(item, ScalarNode):
                info = LevelInfo(name=self._text(item, "a level name"))
            else:
                fields = self._mapping(item, "a level", _LEVEL_KEYS)
                if "name" not in fields:
                    raise self._fail(item, "a level has no 'name'")
                maximum = None
                if "max" in fields and not self._is_null(fields["max"][1]):
                    maximum = self._int(fields["max"][1], "level max")
                info = LevelInfo(
                    name=self._text(fields["name"][1], "level name"),
                    id=self._text(fields["id"][1], "level id") if "id" in fields else "",
                    description=(
                        self._text(fields["description"][1], "level description", required=False)
                        if "description" in fields
                        else ""
                    ),
                    maximum=maximum,
                )
            for label in {info.name.casefold(), info.id.casefold()} - {""}:
                if label in names:
                    raise self._fail(item, f"level '{label}' is given twice")
                names.add(label)
            out.append((info, item))
        return out

    def _components(
        self, node: Node, levels: list[tuple[LevelInfo, Node]]
    ) -> list[tuple[Component, Node]]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self._fail(node, "components must be a non-empty list")
        level_names: dict[str, str] = {}
        for info, _ in levels:
            level_names[info.name.casefold()] = info.name
            if info.id:
                level_names[info.id.casefold()] = info.name

        out: list[tuple[Component, Node]] = []
        ids: dict[str, Node] = {}
        parents: list[tuple[str, Node]] = []
        for position, item in enumerate(node.value, start=1):
            fields = self._mapping(item, "a component", _COMPONENT_KEYS)
            for required in ("id", "name", "level"):
                if required not in fields:
                    raise self._fail(item, f"component #{position} has no '{required}'")
            id_node = fields["id"][1]
            cid = self._text(id_node, "component id")
            if not _ID_PATTERN.match(cid):
                raise self._fail(
                    id_node,
                    f"component id '{cid}' may hold only letters, digits, '.', '_' and '-'",
                )
            if cid.casefold() in ids:
                first = _line(ids[cid.casefold()])
                raise self._fail(id_node, f"duplicate component id '{cid}' (first on line {first})")
            ids[cid.casefold()] = id_node

            level_node = fields["level"][1]
            level_text = self._text(level_node, f"the level of {cid}")
            if levels:
                level = level_names.get(level_text.casefold())
                if level is None:
                    raise self._fail(
                        level_node,
                        f"component {cid} has unknown level '{level_text}'",
                        hint=f"use one of: {', '.join(i.name for i, _ in levels)}",
                    )
            else:
                level = level_text

            kind = "component"
            if "kind" in fields:
                kind = self._text(fields["kind"][1], f"the kind of {cid}")
                if kind not in COMPONENT_KINDS:
                    raise self._fail(
                        fields["kind"][1],
                        f"component {cid} has unknown kind '{kind}'",
                        hint=f"use one of: {', '.join(COMPONENT_KINDS)}",
                    )
            parent = None
            if "parent" in fields and not self._is_null(fields["parent"][1]):
                parent = self._text(fields["parent"][1], f"the parent of {cid}")
                parents.append((cid, fields["parent"][1]))

            component = Component(
                key=cid,
                name=self._text(fields["name"][1], f"the name of {cid}"),
                level=level,
                definition=(
                    self._text(fields["definition"][1], f"definition of {cid}", required=False)
                    if "definition" in fields
                    else ""
                ),
                questions=self._optional_texts(fields, "questions", cid),
                keywords=(
                    self._keywords(fields["keywords"][1], f"keywords of {cid}")
                    if "keywords" in fields
                    else ()
                ),
                examples=self._optional_texts(fields, "examples", cid),
                parent_key=parent,
                kind=kind,
                position=position,
            )
            out.append((component, item))
        self._check_parents(out, parents)
        return out

    def _check_parents(
        self, components: list[tuple[Component, Node]], parents: list[tuple[str, Node]]
    ) -> None:
        by_id = {c.key.casefold(): c for c, _ in components}
        nodes = dict(parents)
        for cid, node in parents:
            child = by_id[cid.casefold()]
            parent = by_id.get((child.parent_key or "").casefold())
            if parent is None:
                raise self._fail(
                    node, f"component {cid} names parent '{child.parent_key}', which does not exist"
                )
            if parent.level != child.level:
                raise self._fail(
                    node,
                    f"component {cid} is in level '{child.level}' but its parent {parent.key} "
                    f"is in '{parent.level}'",
                )
        for cid, node in nodes.items():
            for seen in _ancestors(cid, by_id):
                if seen.casefold() == cid.casefold():
                    raise self._fail(node, f"component {cid} is its own ancestor (a parent cycle)")

    def _check_maxima(
        self,
        levels: list[tuple[LevelInfo, Node | None]],
        components: list[tuple[Component, Node]],
        scale: Scale | None,
        top: dict[str, tuple[Node, Node]],
    ) -> dict[str, int]:
        maxima: dict[str, int] = {}
        for info, node in levels:
            if info.maximum is None:
                continue
            if scale is None:
                raise self._fail(node, f"level '{info.name}' has a max but the file has no scale")
            count = sum(1 for c, _ in components if c.level == info.name)
            expected = count * scale.maximum
            if info.maximum != expected:
                raise self._fail(
                    node,
                    f"level '{info.name}' has max {info.maximum}, but {count} component(s) "
                    f"× scale max {scale.maximum} = {expected}",
                    hint="fix the max or the components",
                )
            maxima[info.name] = info.maximum
        if "total_max" in top:
            total_node = top["total_max"][1]
            total = self._int(total_node, "total_max")
            if len(maxima) != len(levels):
                raise self._fail(total_node, "total_max needs a max on every level")
            if total != sum(maxima.values()):
                raise self._fail(
                    total_node,
                    f"total_max is {total}, but the level maxima add up to {sum(maxima.values())}",
                )
        return maxima


def _ancestors(cid: str, by_id: dict[str, Component]) -> Iterator[str]:
    """Walk up the parent chain; stops after len(by_id) steps so a cycle cannot loop forever."""
    current = by_id.get(cid.casefold())
    for _ in range(len(by_id)):
        if current is None or current.parent_key is None:
            return
        yield current.parent_key
        current = by_id.get(current.parent_key.casefold())
