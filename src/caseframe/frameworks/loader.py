"""Read framework data files (YAML) into caseframe.model.Framework.

The built-in frameworks (SIS, CFIR 2.0, PSAT) ship as YAML next to this module; users can write
their own in the same format (docs/frameworks.md). Reading is three steps: the YAML becomes plain
data with the line of every value (`yamlsource`), pydantic models check it (`schema`, imported
only here, when a file is read), and the checked model becomes a `Framework`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.errors import InvalidInput, NotFound
from caseframe.model import Component, Framework, Scale

if TYPE_CHECKING:
    from caseframe.frameworks.schema import FrameworkFile

# Display order of the built-in frameworks; each is `<key>.yaml` in this package.
BUILTIN_KEYS = ("sis", "cfir2", "psat")


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
    from caseframe.frameworks.schema import validate
    from caseframe.frameworks.yamlsource import compose

    data, lines = compose(text, source)
    return _spec(validate(data, lines), source)


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


def _spec(model: FrameworkFile, source: str) -> FrameworkSpec:
    """The checked file as a Framework; without a levels section, the components' levels in
    order of first use."""
    components = tuple(
        Component(
            key=c.id,
            name=c.name,
            level=model.level_of(c),
            definition=c.definition,
            questions=tuple(c.questions),
            keywords=tuple(c.keywords),
            examples=tuple(c.examples),
            parent_key=c.parent,
            kind=c.kind,
            position=position,
        )
        for position, c in enumerate(model.components, start=1)
    )
    if model.levels:
        levels = tuple(
            LevelInfo(name=lv.name, id=lv.id, description=lv.description, maximum=lv.max)
            for lv in model.levels
        )
    else:
        levels = tuple(LevelInfo(name=n) for n in dict.fromkeys(c.level for c in components))
    scale = None
    if model.scale is not None:
        scale = Scale(model.scale.min, model.scale.max, model.scale.anchor_labels())
    fw = Framework(
        key=model.key,
        name=model.name,
        version=model.version,
        description=model.description,
        levels=tuple(info.name for info in levels),
        components=components,
        scale=scale,
        level_maxima={i.name: i.maximum for i in levels if i.maximum is not None},
        citation=model.citation,
    )
    special = {
        k.strip(): v for k, v in ((model.scale.special or {}) if model.scale else {}).items()
    }
    return FrameworkSpec(framework=fw, levels=levels, special_ratings=special, source=source)
