"""Start-up: the CLI loads heavy libraries only when a command needs them, Store.open reads the
schema version without Alembic, optional methods load only when asked for and a missing extra
is one line. Each check runs in a fresh interpreter, since this test process has imported
everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caseframe.cli.app import COMMANDS

SRC = Path(__file__).resolve().parents[1] / "src"
# What `--help` and parsing a command must not load (docs/architecture.md, issue 12).
HEAVY = {
    "pandas",
    "numpy",
    "alembic",
    "xmlschema",
    "sklearn",
    "matplotlib",
    "openpyxl",
    "argon2",
    "jinja2",
}


def loaded_after(code: str, *argv: str) -> set[str]:
    """Top-level packages a fresh interpreter has loaded after running `code` with `argv`."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


RUN_CLI = (
    "from caseframe.cli.main import run\n"
    "import contextlib, io\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = run(sys.argv[1:])\n"
    "assert code == 0, code"
)


def test_importing_the_cli_and_its_help_load_no_heavy_library():
    assert loaded_after("import caseframe.cli.main") & HEAVY == set()
    assert loaded_after(RUN_CLI, "--help") & HEAVY == set()


def test_parsing_a_command_loads_no_heavy_library():
    assert loaded_after(RUN_CLI, "codes", "list", "--help") & HEAVY == set()
    assert loaded_after(RUN_CLI, "suggest", "run", "--help") & HEAVY == set()


# One interpreter imports the CLI, then forks a child per command; the child refuses any import
# of a heavy package (so a failure is quick and says which import chain reached it).
HELP_PROBE = r"""
import contextlib, io, json, os, sys, traceback
heavy, names = set(json.loads(sys.argv[1])), json.loads(sys.argv[2])
from caseframe.cli.main import run

with contextlib.redirect_stdout(io.StringIO()):
    run(["codes", "--help"])  # load what building any command needs (typer's pydantic) once
import caseframe.store.core, caseframe.model  # light (sqlalchemy), so loaded once, not per child

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in heavy:
            raise ImportError(name)

found = {}
for name in names:
    r, w = os.pipe()
    if os.fork() == 0:
        sys.meta_path.insert(0, Refuse())
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run([name, "--help"])
            loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
            result = ", ".join(loaded) or None
        except ImportError as exc:
            chain = [
                f"{f.filename.split('/caseframe/')[-1]}:{f.lineno}"
                for f in traceback.extract_tb(exc.__traceback__)
                if "/caseframe/" in f.filename
            ]
            result = f"{exc} via " + " -> ".join(chain)
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as pipe:
        found[name] = json.loads(pipe.read())
    os.wait()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def heavy_per_command() -> dict[str, str | None]:
    """For each top-level command: the heavy import `NAME --help` reaches, or None."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, json.dumps(sorted(HEAVY)), json.dumps(list(COMMANDS))],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_commands_help_loads_no_heavy_library(name, heavy_per_command):
    assert heavy_per_command[name] is None, heavy_per_command[name]


# The list commands print records; pandas and numpy would cost them more than everything else
# together, so loading either is a failure (the import chain is named).
LIST_PROBE = r"""
import contextlib, io, json, sys, traceback
heavy = set(json.loads(sys.argv[1]))

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in heavy:
            raise ImportError(name)

sys.meta_path.insert(0, Refuse())
from caseframe.cli.main import run
try:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = run(sys.argv[2:])
    result = {"code": code, "rows": len(json.loads(out.getvalue()))}
except ImportError as exc:
    chain = [
        f"{f.filename.split('/caseframe/')[-1]}:{f.lineno}"
        for f in traceback.extract_tb(exc.__traceback__)
        if "/caseframe/" in f.filename
    ]
    result = {"refused": str(exc), "chain": chain}
print(json.dumps(result))
"""


@pytest.mark.parametrize("command", ["codes", "codings", "documents"])
def test_list_commands_load_no_pandas_or_numpy(command, example):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    argv = ["-p", str(example.root), command, "list", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", LIST_PROBE, json.dumps(sorted(HEAVY)), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "refused" in result:
        pytest.fail(f"{result['refused']} via " + " -> ".join(result["chain"]))
    assert result["code"] == 0 and result["rows"] > 0


def test_the_command_table_matches_the_command_modules():
    """cli/app.py COMMANDS lists every top-level command with its modules and its help, so that
    `caseframe --help` can list them without importing the modules."""
    import typer.main

    from caseframe.cli.app import app, load_commands

    load_commands()
    group = typer.main.get_command(app)
    built = group.commands.built

    def modules_of(command) -> set[str]:
        if hasattr(command, "commands"):
            return set().union(*(modules_of(c) for c in command.commands.values()))
        return {command.callback.__module__.removeprefix("caseframe.cli.")}

    expected = {
        name: (tuple(sorted(modules_of(cmd))), " ".join(cmd.help.split("\n\n")[0].split()))
        for name, cmd in built.items()
    }
    listed = {
        name: (tuple(sorted(modules)), " ".join(text.split()))
        for name, (modules, text) in COMMANDS.items()
    }
    missing = {n: v for n, v in expected.items() if listed.get(n) != v}
    assert not missing, f"update COMMANDS in src/caseframe/cli/app.py with: {missing}"
    assert set(listed) == set(expected), (
        f"not registered by any module: {set(listed) - set(expected)}"
    )


def test_a_command_defined_across_modules_has_all_its_subcommands(tmp_path, capsys):
    """`export` is registered by three modules; after a command that loads only one of them,
    `export qdpx --help` still finds its subcommand (one process, as the tests run the CLI)."""
    from caseframe.cli.main import run

    assert run(["codings", "--help"]) == 0
    assert run(["export", "qdpx", "--help"]) == 0
    assert "qdpx" in capsys.readouterr().out


def test_help_lists_every_command_once():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", "from caseframe.cli.main import main; main()", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)


def test_store_open_reads_the_version_without_alembic(tmp_path):
    from caseframe.api import Project

    Project.init(tmp_path / "p").close()
    code = (
        "from caseframe.api import Project\n"
        f"p = Project.open({str(tmp_path / 'p')!r})\n"
        "assert p.frameworks()\n"
        "p.close()"
    )
    assert "alembic" not in loaded_after(code)


def test_known_and_head_revisions_agree_with_alembic():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from caseframe.store import migrate

    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert migrate.known_revisions() == {r.revision for r in script.walk_revisions()}
    assert migrate.head_revision() == script.get_current_head()


def test_an_older_store_is_upgraded_on_open(tmp_path):
    from alembic import command
    from alembic.config import Config

    from caseframe.store import migrate
    from caseframe.store.core import Store
    from caseframe.store.engine import make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    first = sorted(migrate.known_revisions())[0]
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, first)
    engine.dispose()
    assert migrate.current_revision(make_engine(url)) == first
    store = Store.open(url)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    store.close()


def test_suggest_package_loads_no_method_module():
    loaded = loaded_after("import caseframe.suggest\nimport caseframe.suggest.base")
    assert loaded & {"sklearn", "httpx", "numpy", "scipy"} == set()


def test_every_registered_method_resolves_to_its_class():
    from caseframe.suggest import base

    for name, (target, _extra) in base.METHODS.items():
        module_name, _, attr = target.partition(":")
        cls = base.method_class(name)
        assert cls is getattr(sys.modules[module_name], attr)
        assert cls().name == name


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, example_copy, capsys):
    """Without httpx (the llm extra) `suggest run --method llm` says what to install."""
    from caseframe.cli.main import run
    from caseframe.suggest import base

    monkeypatch.setitem(sys.modules, "httpx", None)  # `import httpx` now fails
    monkeypatch.delitem(sys.modules, "caseframe.suggest.llm", raising=False)
    monkeypatch.delitem(base._LOADED, "llm", raising=False)
    code = run(["-p", str(example_copy.root), "suggest", "run", "--method", "llm"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert "pip install 'caseframe[llm]'" in err and "httpx" in err
