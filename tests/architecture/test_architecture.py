"""Architecture checks (issue 18): the import contracts in pyproject.toml and what import-linter cannot check.

* ``lint-imports`` keeps every contract on the real tree, and breaks (exit non-zero, naming the contract) when a
  numeric stage imports the workspace.
* No module uses a private name (``_x``) of ANOTHER module, by ``from m import _x`` or ``m._x``.
* Import cycles over all modules (grimp, strongly connected components; catches root <-> child cycles that
  ``acyclic_siblings`` cannot see).
* Modules longer than 600 lines.
* No module imports the root package ``embedscope`` (it re-exports the Scope and the widget, so importing it
  pulls in everything and closes cycles).

Each check has an allow-list of today's offenders. The lists must shrink, never grow: a new offender fails, and
so does an entry that no longer offends (remove it from the list when you fix it).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PKG = SRC / "embedscope"
MAX_LINES = 600

# ---------------------------------------------------------------------------------------------------------------
# Allow-lists (today's offenders; shrink only)
# ---------------------------------------------------------------------------------------------------------------

# "importer -> module._name": a private name of another module used by `from module import _name` or `module._name`.
PRIVATE_NAME_ALLOWED: set[str] = set()

# Import cycles (strongly connected components of the module graph, TYPE_CHECKING and function-level imports
# included), each as the set of its modules.
CYCLES_ALLOWED: list[frozenset[str]] = []

# Modules longer than MAX_LINES lines (path under src/embedscope).
# scope.py: the public Scope facade (lifecycle, spaces, info and ~55 one-line delegations to pipeline/ and ops/,
# each with the docstring the README's Python API points to); cutting it in two would bring the mixins back.
LONG_MODULES_ALLOWED: set[str] = {"scope.py"}


# ---------------------------------------------------------------------------------------------------------------
# import-linter
# ---------------------------------------------------------------------------------------------------------------


def _lint_imports(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        pytest.skip("lint-imports is not installed (pip install -e '.[dev]')")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(exe), "--no-cache", "--no-logo", str(cwd / "pyproject.toml")],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_import_contracts_hold() -> None:
    res = _lint_imports(ROOT, SRC)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(("module", "line", "shown"), [
    ("analyses/similarity.py", "import embedscope.workspace", "embedscope.analyses.similarity -> embedscope.workspace"),
    ("projection/pca.py", "from .. import workspace", "embedscope.projection.pca -> embedscope.workspace"),
])
def test_bad_import_breaks_the_contract(tmp_path: Path, module: str, line: str, shown: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(PKG, src / "embedscope",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "widget_static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(src / "embedscope" / module, "a") as fh:
        fh.write(f"\n{line}  # planted by tests/architecture/test_architecture.py\n")
    res = _lint_imports(tmp_path, src)
    assert res.returncode != 0, res.stdout
    assert "Numeric stages never import the store, the scope, the engines or a face BROKEN" in res.stdout
    assert shown in res.stdout


# ---------------------------------------------------------------------------------------------------------------
# Private names across modules
# ---------------------------------------------------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(importer: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_pkg else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_name_uses() -> set[str]:
    """Every ``importer -> module._name`` where ``importer`` uses a private name defined in another module."""
    modules = _modules()
    found: set[str] = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_pkg = path.name == "__init__.py"
        aliases: dict[str, str] = {}  # local name bound to one of our modules -> that module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(name, is_pkg, node)
                if target.split(".")[0] != "embedscope":
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:  # a submodule (private modules: the import-linter contract)
                        aliases[alias.asname or alias.name] = sub
                    elif _is_private(alias.name) and target != name:
                        found.add(f"{name} -> {target}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _is_private(node.attr)
                    and node.value.id in aliases and aliases[node.value.id] != name):
                found.add(f"{name} -> {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_private_names_across_modules() -> None:
    found = private_name_uses()
    new = sorted(found - PRIVATE_NAME_ALLOWED)
    gone = sorted(PRIVATE_NAME_ALLOWED - found)
    assert not new, f"private names used from another module (make them public instead): {new}"
    assert not gone, f"fixed, so remove from PRIVATE_NAME_ALLOWED: {gone}"


# ---------------------------------------------------------------------------------------------------------------
# Import cycles
# ---------------------------------------------------------------------------------------------------------------


def import_cycles() -> list[frozenset[str]]:
    """The strongly connected components (more than one module) of the package's import graph."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("embedscope", cache_dir=None)
    nodes = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    sccs: list[frozenset[str]] = []

    def visit(root: str) -> None:  # iterative Tarjan (the graph is deep enough for recursion limits to matter)
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        sccs.append(frozenset(comp))

    for m in nodes:
        if m not in index:
            visit(m)
    return sccs


def test_no_module_imports_the_root_package() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("embedscope", cache_dir=None)
    importers = sorted(graph.find_modules_that_directly_import("embedscope"))
    assert not importers, f"these modules import the root package (import the module that defines the name): {importers}"


def test_import_cycles() -> None:
    found = set(import_cycles())
    allowed = set(CYCLES_ALLOWED)
    new = [sorted(c) for c in found - allowed]
    gone = [sorted(c) for c in allowed - found]
    assert not new and not gone, (
        "the import cycles changed; a new or larger cycle must be broken, a smaller or fixed one replaces its "
        f"entry in CYCLES_ALLOWED.\nnow: {new}\nlisted: {gone}")


# ---------------------------------------------------------------------------------------------------------------
# Module size
# ---------------------------------------------------------------------------------------------------------------


def long_modules() -> dict[str, int]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        n = len(path.read_text().splitlines())
        if n > MAX_LINES:
            out[path.relative_to(PKG).as_posix()] = n
    return out


def test_module_size() -> None:
    found = long_modules()
    new = {k: v for k, v in found.items() if k not in LONG_MODULES_ALLOWED}
    gone = sorted(LONG_MODULES_ALLOWED - set(found))
    assert not new, f"modules over {MAX_LINES} lines (split them): {new}"
    assert not gone, f"now at most {MAX_LINES} lines, so remove from LONG_MODULES_ALLOWED: {gone}"
