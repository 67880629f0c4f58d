"""Converting command-line values without loading pydantic where the value is plainly valid.

Typer (0.29) converts every parameter value with a pydantic TypeAdapter: importing pydantic and
building adapters costs a quick command about a sixth of its time, even for `--project DIR`
or an unset `--help`. For the types our commands use (str, int, float, bool, Path and lists of
them) a plainly valid value is converted here as the adapter would convert it: a str as it is,
an int or a float from plain digits, a flag's bool as it is, a Path through Typer's own path
checks. Every other value (an invalid one included) goes to the converter Typer builds, so its
conversions and error messages stay. Typer before 0.29 has no such machinery: nothing changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - a Typer before 0.29
    RuntimeParam = None  # type: ignore[assignment,misc]

# What pydantic reads from a string the way int() and float() do.
INTEGER = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
LEAVES = (str, int, float, bool, Path)
_NO = object()


def _leaf(annotation: Any) -> Any:
    """The element type of list[X], else the annotation."""
    if get_origin(annotation) is list and len(get_args(annotation)) == 1:
        return get_args(annotation)[0]
    return annotation


def handles(descriptor: Any) -> bool:
    """Whether the plain converter may take this parameter (else Typer's own converter)."""
    info = descriptor.parameter_info
    return (
        _leaf(descriptor.annotation) in LEAVES
        and descriptor.file_annotation is None
        and info.parser is None
        and info.min is None
        and info.max is None
        and getattr(info, "path_type", None) in (None, Path)
    )


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        """Converts plainly valid values itself; the rest goes to Typer's converter (built on
        first need)."""

        descriptor: Any = None
        _typer: list = field(default_factory=list, compare=False, repr=False)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            leaf = _leaf(self.annotation)
            if leaf is not self.annotation:  # list[X]: Typer gives a tuple of values
                if isinstance(value, (list, tuple)):
                    done = [self._plain(leaf, item, param, ctx) for item in value]
                    if all(item is not _NO for item in done):
                        return done
            else:
                done = self._plain(leaf, value, param, ctx)
                if done is not _NO:
                    return done
            return self.typer_param()._coerce_value(value, param=param, ctx=ctx)

        def _plain(self, leaf: Any, value: Any, param: Any, ctx: Any) -> Any:
            if leaf is bool:
                return value if isinstance(value, bool) else _NO
            if not isinstance(value, str):
                return _NO
            if leaf is str:
                return value
            if leaf is int and INTEGER.fullmatch(value):
                return int(value)
            if leaf is float and DECIMAL.fullmatch(value):
                return float(value)
            if leaf is Path and value:
                return coerce_cli_path(
                    Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
            return _NO

        def typer_param(self) -> Any:
            """The converter Typer builds for this parameter."""
            if not self._typer:
                self._typer.append(build_runtime_param(self.descriptor))
            return self._typer[0]


def plain_runtime_param(descriptor: Any) -> Any:
    return PlainRuntimeParam(
        parameter_info=descriptor.parameter_info,
        annotation=descriptor.annotation,
        descriptor=descriptor,
    )


def install() -> None:
    """Let Typer's parameters convert plainly valid values here (once per process). Typer
    builds a parameter's converter on its first value, per parameter object (the help and
    completion options are made while parsing), so the hook sits where it builds one."""
    if RuntimeParam is None or getattr(_TyperParameter, "_caseframe_plain", False):
        return
    typer_builds = _TyperParameter.get_runtime_param

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None and handles(self.type_descriptor):
            self._runtime_param = plain_runtime_param(self.type_descriptor)
        return typer_builds(self)

    _TyperParameter.get_runtime_param = get_runtime_param
    _TyperParameter._caseframe_plain = True
