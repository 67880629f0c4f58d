"""The framework file format as pydantic models: every rule of docs/frameworks.md in one place.

Field types check each value (text, whole numbers, lists, known keys); the model validators check
what spans values (unique ids and levels, known levels and parents, no parent cycle, maxima that
add up). A rule that fails raises `PydanticCustomError` whose context may carry `path`, the
value it is about relative to the model, so `frameworks.validate` can name that value's line.
This module imports pydantic; it is imported only when a file is read.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from caseframe.errors import InvalidInput
from caseframe.frameworks.yamlsource import Lines, describe
from caseframe.util.tree import CycleError, ancestors

COMPONENT_KINDS = ("component", "domain", "construct", "subconstruct")
# Ids end up in strings such as "sis:O10", so they must not hold ':' or spaces.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_WHOLE = re.compile(r"^[-+]?\d+$")


def _fail(kind: str, message: str, path: tuple = (), hint: str | None = None):
    """An error about the value at `path` (relative to the model that raises it)."""
    return PydanticCustomError(kind, message, {"path": path, "hint": hint})


# -- value types ------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    """Text as written; a folded multi-line value becomes one line."""
    if isinstance(value, str):
        return " ".join(value.split()) if "\n" in value else value.strip()
    return value  # not text: the str type reports it


def _required_text(value: Any) -> Any:
    value = _clean(value)
    if value is None or value == "":
        raise _fail("empty", "{what} is empty")
    return value


def _optional_text(value: Any) -> Any:
    return "" if value is None else _clean(value)


def _whole_number(value: Any) -> Any:
    if isinstance(value, str) and _WHOLE.match(value.strip()):
        return int(value)
    raise _fail("whole_number", "{what} must be a whole number")


def _text_list(value: Any) -> Any:
    """None is no items; a single text is a one-item list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _keyword_list(value: Any) -> Any:
    """A list, or a mapping language -> list (en: [...], sv: [...]) merged in order."""
    if not isinstance(value, dict):
        return _text_list(value)
    merged: dict[str, None] = {}
    for words in value.values():
        for word in _text_list(words):
            merged.setdefault(_required_text(word) if isinstance(word, str) else word, None)
    return list(merged)


Text = Annotated[str, BeforeValidator(_required_text)]
OptionalText = Annotated[str, BeforeValidator(_optional_text)]
Whole = Annotated[int, BeforeValidator(_whole_number)]
Texts = Annotated[list[Text], BeforeValidator(_text_list)]
Keywords = Annotated[list[Text], BeforeValidator(_keyword_list)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


# -- sections ---------------------------------------------------------------------------------


class ScaleModel(_Section):
    min: Whole
    max: Whole
    anchors: dict[str, Text] | None = None
    special: dict[str, Text] | None = None

    @model_validator(mode="after")
    def _check(self) -> ScaleModel:
        if self.min >= self.max:
            raise _fail(
                "scale", f"scale min ({self.min}) must be below scale max ({self.max})", ("max",)
            )
        seen: set[int] = set()
        for raw in self.anchors or {}:
            where = ("anchors", raw)
            if not _WHOLE.match(raw.strip()):
                raise _fail("scale", "a scale anchor must be a whole number", where)
            value = int(raw)
            if not self.min <= value <= self.max:
                raise _fail(
                    "scale", f"scale anchor {value} lies outside {self.min}..{self.max}", where
                )
            if value in seen:
                raise _fail("scale", f"scale anchor {value} is given twice", where)
            seen.add(value)
        for code in self.special or {}:
            if not code.strip():
                raise _fail("empty", "a special rating code is empty", ("special",))
        return self

    def anchor_labels(self) -> dict[int, str]:
        return dict(sorted((int(k), v) for k, v in (self.anchors or {}).items()))


class LevelModel(_Section):
    name: Text
    id: OptionalText = ""
    description: OptionalText = ""
    max: Whole | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class ComponentModel(_Section):
    id: Text
    name: Text
    level: Text
    kind: Text = "component"
    parent: OptionalText | None = None
    definition: OptionalText = ""
    questions: Texts = []
    keywords: Keywords = []
    examples: Texts = []

    @model_validator(mode="after")
    def _check(self) -> ComponentModel:
        if not ID_PATTERN.match(self.id):
            raise _fail(
                "id",
                f"component id '{self.id}' may hold only letters, digits, '.', '_' and '-'",
                ("id",),
            )
        if self.kind not in COMPONENT_KINDS:
            raise _fail(
                "kind",
                f"component {self.id} has unknown kind '{self.kind}'",
                ("kind",),
                f"use one of: {', '.join(COMPONENT_KINDS)}",
            )
        if not self.parent:
            self.parent = None
        return self


class FrameworkFile(_Section):
    format: Whole | None = None
    key: Text
    name: Text
    version: OptionalText = ""
    description: OptionalText = ""
    citation: OptionalText = ""
    scale: ScaleModel | None = None
    levels: Annotated[list[LevelModel], Field(min_length=1)] | None = None
    components: Annotated[list[ComponentModel], Field(min_length=1)]
    total_max: Whole | None = None

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> FrameworkFile:
        line_of = (info.context or {}).get("line_of", lambda path: 0)
        if self.format is not None and self.format != 1:
            raise _fail("format", f"unsupported format version {self.format}", ("format",))
        if not ID_PATTERN.match(self.key):
            raise _fail(
                "id",
                f"framework key '{self.key}' may hold only letters, digits, '.', '_' and '-'",
                ("key",),
            )
        self._check_levels()
        self._check_components(line_of)
        self._check_parents()
        self._check_maxima()
        return self

    def level_names(self) -> dict[str, str]:
        """Level name or id (case-folded) -> level name."""
        names: dict[str, str] = {}
        for level in self.levels or ():
            names[level.name.casefold()] = level.name
            if level.id:
                names[level.id.casefold()] = level.name
        return names

    def level_of(self, component: ComponentModel) -> str:
        return self.level_names().get(component.level.casefold(), component.level)

    def _check_levels(self) -> None:
        seen: set[str] = set()
        for i, level in enumerate(self.levels or ()):
            for label in {level.name.casefold(), level.id.casefold()} - {""}:
                if label in seen:
                    raise _fail("level", f"level '{label}' is given twice", ("levels", i))
                seen.add(label)

    def _check_components(self, line_of) -> None:
        first: dict[str, int] = {}
        names = self.level_names()
        for i, comp in enumerate(self.components):
            if comp.id.casefold() in first:
                line = line_of(("components", first[comp.id.casefold()], "id"))
                raise _fail(
                    "duplicate",
                    f"duplicate component id '{comp.id}' (first on line {line})",
                    ("components", i, "id"),
                )
            first[comp.id.casefold()] = i
            if self.levels and comp.level.casefold() not in names:
                raise _fail(
                    "level",
                    f"component {comp.id} has unknown level '{comp.level}'",
                    ("components", i, "level"),
                    f"use one of: {', '.join(level.name for level in self.levels)}",
                )

    def _check_parents(self) -> None:
        index = {c.id.casefold(): i for i, c in enumerate(self.components)}
        parent_of: dict[str, str | None] = {}
        for i, comp in enumerate(self.components):
            if comp.parent is None:
                continue
            where = ("components", i, "parent")
            parent = self.components[index[p]] if (p := comp.parent.casefold()) in index else None
            if parent is None:
                raise _fail(
                    "parent",
                    f"component {comp.id} names parent '{comp.parent}', which does not exist",
                    where,
                )
            if self.level_of(parent) != self.level_of(comp):
                raise _fail(
                    "parent",
                    f"component {comp.id} is in level '{self.level_of(comp)}' but its parent "
                    f"{parent.id} is in '{self.level_of(parent)}'",
                    where,
                )
            parent_of[comp.id.casefold()] = parent.id.casefold()
        for cid in parent_of:
            try:
                ancestors(cid, parent_of)
            except CycleError:
                comp = self.components[index[cid]]
                raise _fail(
                    "parent",
                    f"component {comp.id} is its own ancestor (a parent cycle)",
                    ("components", index[cid], "parent"),
                ) from None

    def _check_maxima(self) -> None:
        levels = self.levels or []
        counted = 0
        for i, level in enumerate(levels):
            if level.max is None:
                continue
            if self.scale is None:
                raise _fail(
                    "max",
                    f"level '{level.name}' has a max but the file has no scale",
                    ("levels", i),
                )
            count = sum(1 for c in self.components if self.level_of(c) == level.name)
            expected = count * self.scale.max
            if level.max != expected:
                raise _fail(
                    "max",
                    f"level '{level.name}' has max {level.max}, but {count} component(s) "
                    f"× scale max {self.scale.max} = {expected}",
                    ("levels", i),
                    "fix the max or the components",
                )
            counted += 1
        if self.total_max is not None:
            if not levels or counted != len(levels):
                raise _fail("max", "total_max needs a max on every level", ("total_max",))
            total = sum(level.max or 0 for level in levels)
            if self.total_max != total:
                raise _fail(
                    "max",
                    f"total_max is {self.total_max}, but the level maxima add up to {total}",
                    ("total_max",),
                )


# How messages name the section a key belongs to (by the first part of its path).
_SECTIONS: dict[str, tuple[str, type[BaseModel]]] = {
    "": ("the framework file", FrameworkFile),
    "components": ("a component", ComponentModel),
    "levels": ("a level", LevelModel),
    "scale": ("scale", ScaleModel),
}
_LISTS = {"components": "components", "levels": "levels"}


def validate(data: Any, lines: Lines) -> FrameworkFile:
    """The file's model; InvalidInput naming the line of the first problem."""
    try:
        return FrameworkFile.model_validate(data, context={"line_of": lines.line})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        ctx = error.get("ctx") or {}
        path = loc + tuple(ctx.get("path") or ())
        message, hint = _message(error, loc, data)
        raise InvalidInput(message, where=lines.where(path), hint=hint) from None


def _message(error: dict, loc: tuple, data: Any) -> tuple[str, str | None]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    what = describe(loc, data)
    parent = loc[:-1]
    section = str(parent[0]) if parent else ""
    if kind == "missing":
        key = loc[-1]
        if not parent:
            return f"missing top-level key '{key}'", "see docs/frameworks.md"
        if section == "components" and len(parent) == 2:
            return f"component #{int(parent[1]) + 1} has no '{key}'", None
        if section == "levels":
            return f"a level has no '{key}'", None
        return f"{section} needs '{key}'", None
    if kind == "extra_forbidden":
        name, model = _SECTIONS.get(section if parent else "", _SECTIONS[""])
        allowed = ", ".join(sorted(model.model_fields))
        return (
            f"unknown key '{loc[-1]}' in {name}",
            f"allowed keys: {allowed} (or x-... for your own)",
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if loc[:2] == ("scale", "anchors"):
            return "scale anchors must map a value to a label", None
        if loc[:2] == ("scale", "special"):
            return "scale special must map a code to its meaning", None
        return f"{what} must be a mapping of 'key: value' lines", None
    if kind in ("list_type", "too_short") and len(loc) == 1 and loc[0] in _LISTS:
        return f"{_LISTS[loc[0]]} must be a non-empty list", None
    if kind == "list_type":
        return f"{what} must be a list of texts", None
    if kind == "string_type":
        return f"{what} must be text, not a list or mapping", None
    message = error["msg"]
    if "{what}" in message:
        message = message.replace("{what}", what)
    return message, ctx.get("hint")
