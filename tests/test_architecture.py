"""The package's shape: library code never imports the test folders, no import cycles between modules or
packages, and every module that registers laws or bug-zoo entries is one its registry loads.

The import graph is read from the syntax tree of every module under ``lineage/`` (module names follow the
package layout, so ``from lineage.laws import exact`` is an edge to ``lineage.laws.exact``), not from a text grep.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import pkgutil
from collections import defaultdict

import pytest

import lineage
from lineage.bugzoo import BUGS
from lineage.laws import LAWS
from lineage.registry import Registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lineage"
TEST_FOLDERS = ("properties", "derivations", "tests")


def library_modules() -> dict[str, pathlib.Path]:
    """Every module of the package by dotted name (a package by the name of its folder)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_names(name: str, path: pathlib.Path) -> set[str]:
    """The dotted names a module imports (``from a import b`` gives ``a.b``; relative imports resolved)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                module = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                module = node.module
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module → the library modules it imports (a name resolves to the longest module prefix)."""
    modules, edges = library_modules(), defaultdict(set)
    for name, path in modules.items():
        for imported in imported_names(name, path):
            while imported not in modules and "." in imported:
                imported = imported.rsplit(".", 1)[0]
            if imported in modules and imported != name:
                edges[name].add(imported)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted({*edges, *(n for targets in edges.values() for n in targets)}):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    """``lineage.laws.cases.segments`` → ``lineage.laws``; top-level modules stand for themselves."""
    return ".".join(module.split(".")[:2])


def test_library_never_imports_the_test_folders():
    offenders = {
        name: sorted(n for n in imported_names(name, path) if n.split(".")[0] in TEST_FOLDERS)
        for name, path in library_modules().items()
    }
    assert not {name: found for name, found in offenders.items() if found}


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_no_import_cycle_between_packages():
    packages = defaultdict(set)
    for module, targets in import_graph().items():
        packages[package_of(module)].update(package_of(t) for t in targets if package_of(t) != package_of(module))
    assert cycles(packages) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_bug_zoo_takes_case_types_from_the_laws_engine_not_from_law_modules():
    law_modules = set(LAWS.modules)
    for name, path in library_modules().items():
        if name.startswith("lineage.bugzoo"):
            assert not {n.rsplit(".", 1)[0] for n in imported_names(name, path)} & law_modules, name


@pytest.mark.parametrize(("registry", "package"), [(LAWS, "lineage.laws"), (BUGS, "lineage.bugzoo")])
def test_every_module_that_registers_is_listed(registry: Registry, package: str):
    """Importing every module of the package registers nothing the registry would not load itself: an entry from
    an unlisted module is refused with an error naming the module."""
    loaded = dict(registry.all())
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, prefix=f"{package}."):
        importlib.import_module(info.name)
    assert registry.all() == loaded


def test_an_unlisted_module_cannot_register():
    registry: Registry[int] = Registry("thing", modules=("listed",))
    registry.register("one", 1, "listed")
    with pytest.raises(ValueError, match=r"^module: unlisted registers the thing 'two' but is not listed"):
        registry.register("two", 2, "unlisted")
    with pytest.raises(ValueError, match=r"^key: thing 'one' is registered twice"):
        registry.register("one", 1, "listed")


def test_every_module_with_laws_is_a_law_module():
    """A module under lineage/laws that calls ``@law`` is in the registry's list (found from the source, so a new
    module is caught even if nothing imports it)."""
    registering = {
        name
        for name, path in library_modules().items()
        if name.startswith("lineage.laws.") and "@law(" in path.read_text(encoding="utf-8")
    }
    assert registering == set(LAWS.modules)


def test_law_python_name_is_its_id():
    for law_id, law in LAWS.items():
        assert law.check.__name__ == law.name and law_id == f"{law.contract}.{law.name}", law_id


def test_installed_package_is_the_library_only():
    """Only lineage/ ships; the test folders are not packages of the distribution."""
    assert pathlib.Path(lineage.__file__).parent == PACKAGE
    assert not any((PACKAGE / folder).exists() for folder in TEST_FOLDERS)


# Names of the team's reference files, which do not ship: docs cite the notes' sections and the papers instead.
OUTSIDE_REFERENCES = ("spec" + "/", "spec" + " §", "../" + "shared", "oracle" + "-ux", "library" + "-conventions")


def test_docs_cite_no_file_outside_the_repository():
    texts = [ROOT / "README.md", *PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.toml")]
    texts += [path for folder in TEST_FOLDERS for path in (ROOT / folder).rglob("*.py")]
    cited = {
        str(path.relative_to(ROOT)): [ref for ref in OUTSIDE_REFERENCES if ref in path.read_text(encoding="utf-8")]
        for path in texts
    }
    assert not {path: refs for path, refs in cited.items() if refs}
