"""The layers of docs/design.md hold: config → models → services → views → entry points.

The imports of every module under idp/ (those inside functions too: an import moved into a
function to dodge a cycle is still an arrow back up) are read with `ast`, without importing
anything, and folded into a graph of units: a package directly under idp/ (`idp.oidc`) or a
top-level module (`idp.sessions`). A unit may import its own layer or the layers below; no two
units may import each other, directly or round a loop.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from idp import ROOT

# Lowest first. The root package `idp` (create_app) wires everything, like the CLI.
LAYERS: dict[str, set[str]] = {
    "foundations": {
        "idp.config",
        "idp.extensions",
        "idp.lone_statements",
        "idp.logs",
        "idp.messages",
        "idp.metrics",
        "idp.passwords",
        "idp.security_headers",
        "idp.timezone",
    },
    "models": {"idp.models"},
    "services": {
        "idp.accounts",
        "idp.audit",
        "idp.bootstrap",
        "idp.i18n",
        "idp.jobs",
        "idp.mail",
        "idp.mails",
        "idp.oidc",
        "idp.outbox",
        "idp.provisioning",
        "idp.retention",
        "idp.sessions",
    },
    "views": {
        "idp.console",
        "idp.errors",
        "idp.flows",
        "idp.operations",
        "idp.pages",
        "idp.portal",
        "idp.web_security",
    },
    "entry points": {"idp", "idp.cli"},
}
RANK = {unit: rank for rank, units in enumerate(LAYERS.values()) for unit in units}
# Same layer, yet apart: schools' provisioning and the OpenID provider (with its client registry).
APART = [("idp.provisioning", "idp.oidc"), ("idp.oidc", "idp.provisioning")]

Graph = dict[str, dict[str, list[str]]]  # unit -> imported unit -> "module imports target"


def modules(root: Path) -> dict[str, Path]:
    """Every module of the `idp` package under root, by dotted name (not the migrations)."""
    found = {}
    for path in sorted((root / "idp").rglob("*.py")):
        if "migrations" in path.relative_to(root / "idp").parts:
            continue
        found[".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")] = (
            path
        )
    return found


def unit(name: str) -> str:
    return ".".join(name.split(".")[:2])


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The idp modules a module imports, anywhere in it, relative imports resolved."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: len(name.split(".")) - node.level]
                if path.name == "__init__.py":
                    package = name.split(".")[: len(name.split(".")) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            for alias in node.names:  # `from idp import audit` imports the module idp.audit
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {target for target in targets if target == "idp" or target.startswith("idp.")}


def unit_graph(root: Path) -> Graph:
    known = modules(root)
    graph: Graph = defaultdict(lambda: defaultdict(list))
    for name, path in known.items():
        for target in imported(name, path, known):
            if unit(target) != unit(name):
                graph[unit(name)][unit(target)].append(f"{name} imports {target}")
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One loop of units, as a path that ends where it starts, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(graph.get(node, {})):
            if loop := visit(target, path + [node]):
                return loop
        done.add(node)
        return None

    for start in sorted(graph):
        if loop := visit(start, []):
            return loop
    return None


GRAPH = unit_graph(ROOT)


def test_every_package_and_top_level_module_has_a_layer():
    units = {unit(name) for name in modules(ROOT)}
    assert units - RANK.keys() == set(), "place them in LAYERS (tests/test_architecture.py)"


def test_nothing_imports_a_higher_layer():
    upward = [
        line
        for source, targets in GRAPH.items()
        for target, lines in targets.items()
        if RANK.get(target, 0) > RANK.get(source, 0)
        for line in lines
    ]
    assert upward == []


def test_models_import_only_the_foundations():
    assert set(GRAPH["idp.models"]) <= LAYERS["foundations"]


def test_provisioning_and_the_openid_provider_do_not_import_each_other():
    crossing = [line for source, target in APART for line in GRAPH[source].get(target, [])]
    assert crossing == []


def test_the_openid_provider_imports_no_flow_portal_or_command():
    assert set(GRAPH["idp.oidc"]) & {"idp.flows", "idp.portal", "idp.console", "idp.cli"} == set()


def test_no_import_cycle_between_packages():
    assert find_cycle(GRAPH) is None


def test_the_check_sees_relative_late_and_from_package_imports(tmp_path):
    """The walker itself: a loop made of the three kinds of import is found, and reported."""
    files = {
        "idp/__init__.py": "",
        "idp/a/__init__.py": "from .inner import thing\n",
        "idp/a/inner.py": "def f():\n    from idp import b\n",
        "idp/b.py": "from idp.c.deep import x\n",
        "idp/c/__init__.py": "",
        "idp/c/deep.py": "from ..a import inner\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = unit_graph(tmp_path)
    assert {source: set(targets) for source, targets in graph.items()} == {
        "idp.a": {"idp.b"},
        "idp.b": {"idp.c"},
        "idp.c": {"idp.a"},
    }
    assert find_cycle(graph) == ["idp.a", "idp.b", "idp.c", "idp.a"]
