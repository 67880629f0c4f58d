"""The layer rules of docs/architecture.md, checked on the import graph of src/caseframe.

The graph comes from grimp (the library behind import-linter), which reads every import
statement, including those inside functions (they form a cycle just the same when they run);
imports under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "caseframe"

FEATURES = {
    "analysis",
    "suggest",
    "reports",
    "interop",
    "privacy",
    "ingest",
    "frameworks",
    "batch",
    "transcribe",
}
INTERFACES = {"cli", "web"}
# example_study builds a whole project through the API, so it sits beside api/.
API = {"api", "example_study"}
BOTTOM = {"model", "errors", "util"}

# Known cycles, each with the reason it is allowed (none now). The test fails when a cycle is not
# covered here, and when an entry is no longer a cycle.
KNOWN_VIOLATIONS: list[tuple[set[str], str]] = []


def _namespace_packages() -> list[str]:
    """Folders of modules without an __init__.py (caseframe.interop): grimp needs them named."""
    found = []
    for folder in sorted(p for p in PACKAGE.rglob("*") if p.is_dir()):
        has_modules = any(folder.glob("*.py"))
        if has_modules and not (folder / "__init__.py").exists() and folder.name != "versions":
            found.append(".".join(folder.relative_to(SRC).parts))
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        "caseframe",
        *_namespace_packages(),
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )


def _ours(graph: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in graph.modules if m == "caseframe" or m.startswith("caseframe."))


def _area(module: str) -> str:
    """caseframe.api.codes → api; caseframe.model → model; the package itself → caseframe."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    ours = set(_ours(graph))
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & ours) for m in ours}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(ours):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def _where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = ", ".join(str(d["line_number"]) for d in details)
    return f"{importer} → {imported} (line {lines})"


def test_the_graph_sees_every_module(graph):
    on_disk = {
        ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for p in PACKAGE.rglob("*.py")
        if "migrations" not in p.parts
    }
    assert on_disk - set(_ours(graph)) == set()


def test_no_import_cycles_beyond_the_known_ones(graph):
    problems = []
    cycles = _cycles(graph)
    for cycle in cycles:
        if not any(cycle <= known for known, _ in KNOWN_VIOLATIONS):
            inside = [
                _where(graph, a, b)
                for a in sorted(cycle)
                for b in sorted(graph.find_modules_directly_imported_by(a) & cycle)
            ]
            problems.append("cycle: " + "; ".join(inside))
    for known, why in KNOWN_VIOLATIONS:
        if not any(cycle & known for cycle in cycles):
            problems.append(f"no longer a cycle, remove it from KNOWN_VIOLATIONS: {why}")
    assert not problems, "\n".join(problems)


def _violations(graph: grimp.ImportGraph, importers: set[str], forbidden) -> list[str]:
    out = []
    for module in _ours(graph):
        if _area(module) not in importers:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if forbidden(imported):
                out.append(_where(graph, module, imported))
    return out


def _in(areas: set[str]):
    return lambda m: m.startswith("caseframe.") and _area(m) in areas


def test_store_imports_no_feature_api_or_interface(graph):
    assert _violations(graph, {"store"}, _in(FEATURES | API | INTERFACES)) == []


def test_features_import_no_api_or_interface(graph):
    assert _violations(graph, FEATURES, _in(API | INTERFACES)) == []


def test_api_imports_no_interface(graph):
    assert _violations(graph, {"api"}, _in(INTERFACES)) == []


def test_model_errors_and_util_import_nothing_above_them(graph):
    assert _violations(graph, BOTTOM, _in(FEATURES | API | INTERFACES | {"store"})) == []


def test_cli_and_web_hold_no_sql(graph):
    """SQL lives in store/: the interfaces import neither SQLAlchemy nor the schema, queries or
    lookups (store.core, for opening a store by URL, is allowed)."""

    def sql(module: str) -> bool:
        return module.split(".")[0] == "sqlalchemy" or module.startswith(
            ("caseframe.store.schema", "caseframe.store.queries", "caseframe.store.lookup")
        )

    assert _violations(graph, INTERFACES, sql) == []
