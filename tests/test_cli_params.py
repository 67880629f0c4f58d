"""cli/params.py converts plainly valid command-line values without pydantic, exactly as Typer's
own converter does, and hands everything else to Typer's converter (same values, same errors)."""

from __future__ import annotations

import os
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import pytest
import typer
import typer.main

from caseframe.cli import params

pytestmark = pytest.mark.skipif(params.RuntimeParam is None, reason="Typer before 0.29")

probe = typer.Typer()


class Scope(StrEnum):
    unit = "unit"
    overlap = "overlap"


@probe.command()
def every_kind(
    text: str = typer.Option(None),
    number: int = typer.Option(None),
    ratio: float = typer.Option(None),
    flag: bool = typer.Option(False),
    folder: Path = typer.Option(None),
    existing: Path = typer.Option(None, exists=True, dir_okay=False),
    names: list[str] = typer.Option(None),
    counts: list[int] = typer.Option(None),
    bounded: int = typer.Option(None, min=1, max=5),
    scope: Scope = typer.Option(None),
) -> None:
    """Never run: its parameters are what the tests convert values for."""


VALUES = {
    "text": ["plain", "", " spaced ", "ünïcode", "-1"],
    "number": ["12", "-3", "+4", "007", "0", "1_000", " 5", "1.5", "x", "", "99999999999999999999"],
    "ratio": ["1.5", "-2", "1e3", ".5", "5.", "+0.25E-2", "nan", "inf", "1_0.5", "x", "", "1e"],
    "flag": [True, False],
    "folder": ["some/dir", ".", "/tmp", "a b/c"],
    "names": [("a", "b"), ("one",)],
    "counts": [("1", "2"), ("3", "x")],
}


def convert(converter, param, ctx, value):
    try:
        result = converter.coerce(value, param=param, ctx=ctx)
        return ("value", repr(result))  # repr: nan equals nan, 2 differs from 2.0
    except typer.BadParameter as exc:
        return ("error", exc.format_message())


@pytest.fixture(scope="module")
def command():
    return typer.main.get_command(probe)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_plain_conversion_is_typers(command, name):
    from typer._click import Context
    from typer._coercion import build_runtime_param

    param = next(p for p in command.params if p.name == name)
    ctx = Context(command)
    plain = params.plain_runtime_param(param.type_descriptor)
    typers = build_runtime_param(param.type_descriptor)
    for value in [*VALUES[name], None]:
        assert convert(plain, param, ctx, value) == convert(typers, param, ctx, value), value


def test_existing_path_checks_are_typers(command, tmp_path):
    from typer._click import Context
    from typer._coercion import build_runtime_param

    (tmp_path / "a.txt").write_text("x")
    param = next(p for p in command.params if p.name == "existing")
    ctx = Context(command)
    plain = params.plain_runtime_param(param.type_descriptor)
    typers = build_runtime_param(param.type_descriptor)
    for value in (tmp_path / "a.txt", tmp_path, tmp_path / "missing"):
        ours, theirs = (convert(c, param, ctx, str(value)) for c in (plain, typers))
        assert ours == theirs
    assert convert(plain, param, ctx, str(tmp_path / "missing"))[0] == "error"


def test_only_simple_parameters_are_taken(command):
    """A bounded number, a choice (or a parser, a file) keeps Typer's converter."""
    taken = {p.name for p in command.params if params.handles(p.type_descriptor)}
    assert taken == {*VALUES, "existing", "install_completion", "show_completion"}
    bounded = next(p for p in command.params if p.name == "bounded")
    assert bounded.get_runtime_param().__class__.__name__ == "AdapterRuntimeParam"


def test_a_read_command_loads_no_pydantic(example_copy):
    """`codes list --json -p DIR` converts its values without importing pydantic."""
    src = Path(__file__).resolve().parents[1] / "src"
    code = (
        "import contextlib, io, sys\n"
        "from caseframe.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert run(['-p', {str(example_copy.root)!r}, 'codes', 'list', '--json']) == 0\n"
        "    assert run(['-p', '.', '--as', 'x', 'codings', 'list', '--code', 'x']) != 0\n"
        "print('pydantic' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr
