"""The package's shape: library code never imports the test folders, no import cycles between modules or
packages, and every module that registers laws or bug-zoo entries is one its registry loads.

The import graph is read from the syntax tree of every module under ``lineage/`` (module names follow the
package layout, so ``from lineage.laws import exact`` is an edge to ``lineage.laws.exact``), not from a text grep.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import pathlib
import pkgutil
from collections import Counter, defaultdict

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


# --------------------------------------------------------------------------------------------------------------------
# Properties that can fail: each one calls the code under test, never compares a computation with a copy of itself,
# and takes its tolerances from its inputs and their dtype, never from the code under test. Read from the syntax
# tree of properties/ (and of the laws, for tolerances); a function reaches lineage directly or through functions
# and methods of its own module.
# --------------------------------------------------------------------------------------------------------------------

PROPERTIES = ROOT / "properties"
# lineage's side of the oracle: exact forms, case strategies, tolerances, the law engine, claims. A property that
# reaches only these checks nothing of lineage's implementation.
ORACLE_SIDE = (
    "lineage.laws.exact",
    "lineage.laws.cases",
    "lineage.laws.tolerance",
    "lineage.laws.law",
    "lineage.laws.profiles",
    "lineage.claims",
    "lineage.registry",
)
# What lineage ships for testing rather than as code under test: a tolerance may read anything from here.
TEST_MACHINERY = ("lineage.laws", "lineage.bugzoo", "lineage.oracle", "lineage.claims", "lineage.registry")
# Words of the names of arguments, variables and helpers that hold a tolerance or the scale it is taken from.
TOLERANCE_WORDS = {"tol", "atol", "rtol", "tolerance", "allowance", "allowed", "slack", "rounding", "scale"}


def says_tolerance(name: str) -> bool:
    """``value_atol``, ``DISTRIBUTION_ATOL``, ``reference_scale``, ``allowance``: not ``test_..._rescales_...``."""
    return not name.startswith("test") and bool(set(name.lower().split("_")) & TOLERANCE_WORDS)


# Properties of lineage's classes that a tolerance may read: a problem's size and precision, not a computed value.
READABLE_PROPERTIES = {
    "n_states": "TabularMDP's P.shape[0], a shape",
    "n_actions": "TabularMDP's P.shape[1], a shape",
    "dtype": "a precision; also numpy's own attribute",
}


def within(dotted: str, prefixes: tuple[str, ...]) -> bool:
    return any(dotted == prefix or dotted.startswith(prefix + ".") for prefix in prefixes)


def lineage_imports(tree: ast.Module) -> dict[str, str]:
    """Local name → the dotted lineage name it is bound to by an import (``from lineage.rlhf import whiten`` binds
    ``whiten`` to ``lineage.rlhf.whiten``)."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if within(alias.name, ("lineage",)):
                    local = alias.asname or alias.name.split(".")[0]
                    bound[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and within(node.module, ("lineage",)):
            bound.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    return bound


def resolve(node: ast.AST, bound: dict[str, str]) -> str | None:
    """The dotted lineage name of a name or attribute chain (``lineage.gae``, ``exact.td_errors``), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in bound:
        return ".".join([bound[node.id], *reversed(parts)])
    return None


def lineage_references(node: ast.AST, bound: dict[str, str]) -> set[str]:
    """Every lineage name read inside ``node``."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name | ast.Attribute) and isinstance(child.ctx, ast.Load):
            name = resolve(child, bound)
            if name:
                found.add(name)
    return found


def under_test(name: str) -> bool:
    return within(name, ("lineage",)) and not within(name, TEST_MACHINERY)


def module_definitions(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """The functions defined at the top of the module, the methods of its classes, and its top-level assignments
    (``BLOCKS = [block("gae", lineage.gae, ...)]``), by name."""
    found = defaultdict(list)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef):
                    found[member.name].append(member)
        elif isinstance(node, ast.FunctionDef):
            found[node.name].append(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id].append(node)
    return found


def names_read(node: ast.AST) -> set[str]:
    """The names and attribute names read inside ``node`` (``step.next_beta()`` reads ``step`` and ``next_beta``)."""
    return {
        child.id if isinstance(child, ast.Name) else child.attr
        for child in ast.walk(node)
        if isinstance(child, ast.Name | ast.Attribute) and isinstance(child.ctx, ast.Load)
    }


def reaches_lineage(tree: ast.Module) -> dict[str, bool]:
    """Definition name → whether it reads a lineage name outside the oracle side, itself or through a function,
    method or top-level assignment of its module (methods are matched by name: ``step.next_beta()`` reaches every
    ``next_beta`` of the module)."""
    bound, definitions = lineage_imports(tree), module_definitions(tree)
    reached = {
        name
        for name, nodes in definitions.items()
        if any(not within(ref, ORACLE_SIDE) for node in nodes for ref in lineage_references(node, bound))
    }
    uses = {
        name: set().union(*(names_read(node) for node in nodes)) & set(definitions)
        for name, nodes in definitions.items()
    }
    while more := {name for name in definitions if name not in reached and uses[name] & reached}:
        reached |= more
    return {name: name in reached for name in definitions}


def property_modules() -> list[pathlib.Path]:
    return sorted(PROPERTIES.glob("test_*.py"))


def parsed(path: pathlib.Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


# Tests of properties/ that rightly reach no lineage code, with the reason.
NEEDS_NO_LINEAGE_CALL = {
    "test_array_rule.py::test_numpy_callers_of_the_returns_never_import_torch": (
        "calls lineage in a fresh interpreter, from a program held in a string"
    ),
    "test_ppo_errata.py::test_printed_value_clip_is_a_constant": (
        "what numpy's clip makes of the printed bounds; lineage's clip meets the printed one in the search beside it"
    ),
}


def functions_without_lineage(tree: ast.Module) -> list[str]:
    """The test functions of a module that reach no lineage code outside the oracle side."""
    return [name for name, hit in reaches_lineage(tree).items() if name.startswith("test") and not hit]


def test_every_property_calls_lineage():
    """A test function of properties/ that reaches no lineage code outside the oracle side (exact forms, strategies,
    tolerances) compares the oracle with itself: no change to lineage can fail it."""
    offenders = [
        f"{path.name}::{name}"
        for path in property_modules()
        for name in functions_without_lineage(parsed(path))
        if f"{path.name}::{name}" not in NEEDS_NO_LINEAGE_CALL
    ]
    assert not offenders, "\n".join(offenders)


def called_name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def single_assignments(function: ast.FunctionDef) -> dict[str, ast.expr]:
    """The names the function binds exactly once, by ``name = expression``, with the expression."""
    stores = Counter(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return {
        node.targets[0].id: node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and stores[node.targets[0].id] == 1
    }


def compared_pairs(function: ast.FunctionDef) -> list[tuple[ast.expr, ast.expr]]:
    """The two sides of every ``assert a <op> b`` and every pair of positional arguments of an assertion helper
    (``assert_*``, ``expect_*``) in the function, each name bound once replaced by its expression and ``approx(x)``
    by ``x``."""
    assigned = single_assignments(function)

    def unwrap(node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Name) and node.id in assigned:
            node = assigned[node.id]
        if isinstance(node, ast.Call) and called_name(node) == "approx" and node.args:
            node = unwrap(node.args[0])
        return node

    pairs = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.comparators) == 1:
            pairs.append((node.test.left, node.test.comparators[0]))
        elif isinstance(node, ast.Call) and called_name(node).startswith(("assert", "expect")):
            pairs.extend(itertools.combinations(node.args, 2))
    return [(unwrap(a), unwrap(b)) for a, b in pairs]


def self_comparisons(tree: ast.Module) -> list[ast.Call]:
    """The calls an assertion of the module compares with the same call, same arguments."""
    return [
        a
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for a, b in compared_pairs(function)
        if isinstance(a, ast.Call) and ast.dump(a) == ast.dump(b)
    ]


def test_no_property_compares_a_call_with_itself():
    """An assertion whose two sides are the same call with the same arguments holds whatever the code computes."""
    offenders = [
        f"{path.name}:{call.lineno}: {ast.unparse(call)}"
        for path in property_modules()
        for call in self_comparisons(parsed(path))
    ]
    assert not offenders, "\n".join(offenders)


def lineage_properties() -> set[str]:
    """The names of the ``@property`` attributes of the classes of lineage's code under test."""
    return {
        node.name
        for name, path in library_modules().items()
        if under_test(name)
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.FunctionDef) and any(getattr(d, "id", None) == "property" for d in node.decorator_list)
    }


def tolerance_expressions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(what, expression) for every tolerance: an argument (by keyword, or by position to a function of the module)
    or assigned name that says tolerance (``atol=``, ``tol = ...``), and the body of a function that does
    (``def value_atol``, ``def allowance``; not its signature)."""
    found = []
    definitions = module_definitions(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(definitions.get(called_name(node), [])) == 1:
            (function,) = definitions[called_name(node)]
            if isinstance(function, ast.FunctionDef):
                parameters = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
                arguments = zip(parameters, node.args, strict=False)
                found.extend((f"{p}=", argument) for p, argument in arguments if says_tolerance(p))
        if isinstance(node, ast.FunctionDef) and says_tolerance(node.name):
            found.extend((f"def {node.name}", statement) for statement in node.body)
        elif isinstance(node, ast.keyword) and node.arg and says_tolerance(node.arg):
            found.append((f"{node.arg}=", node.value))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            found.extend((f"{name} =", node.value) for name in names if says_tolerance(name))
    return found


def tolerance_reads(tree: ast.Module, properties: set[str]) -> list[tuple[int, str, list[str]]]:
    """(line, what, reads) for every tolerance of the module that reads a name of lineage's code under test or one of
    the ``properties`` of its classes."""
    bound, found = lineage_imports(tree), []
    for what, expression in tolerance_expressions(tree):
        reads = {ref for ref in lineage_references(expression, bound) if under_test(ref)}
        reads |= {f".{n.attr}" for n in ast.walk(expression) if isinstance(n, ast.Attribute) and n.attr in properties}
        if reads:
            found.append((expression.lineno, what, sorted(reads)))
    return found


def tolerance_modules() -> list[pathlib.Path]:
    """Where tolerances are set: the properties and their helpers, and the laws."""
    return sorted(PROPERTIES.glob("*.py")) + sorted((PACKAGE / "laws").rglob("*.py"))


def test_no_tolerance_reads_the_code_under_test():
    """A tolerance comes from the inputs and their dtype: one that reads a constant, function or ``@property`` of
    lineage's code under test (``EPSILON`` of the module tested, ``mdp.reward_scale``) moves with the code, and a
    wrong answer can hide inside it."""
    properties = lineage_properties() - set(READABLE_PROPERTIES)
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {what} reads {reads}"
        for path in tolerance_modules()
        for line, what, reads in tolerance_reads(parsed(path), properties)
    ]
    assert not offenders, "\n".join(offenders)


# Each kind of self-confirming property, planted once: the checks above must find every one.
PLANTED = """
import numpy as np
from lineage.laws import exact
from lineage.rlhf import whiten
from lineage.rlhf.whiten import EPSILON


def printed(segment):
    return exact.gae(segment, 0.5, 1.0)


def test_oracle_against_oracle(segment):
    assert printed(segment) == exact.gae(segment, 0.5, 1.0)


def test_call_against_itself(x):
    got = whiten(x)
    np.testing.assert_allclose(got, whiten(x), atol=1e-12 * (1 + EPSILON))


def scaled_atol(mdp):
    return 1e-9 * mdp.reward_scale
"""


def test_the_property_checks_find_what_is_planted():
    tree = ast.parse(PLANTED)
    assert functions_without_lineage(tree) == ["test_oracle_against_oracle"]
    assert [ast.unparse(call) for call in self_comparisons(tree)] == ["whiten(x)"]
    assert sorted(tolerance_reads(tree, {"reward_scale"})) == [
        (18, "atol=", ["lineage.rlhf.whiten.EPSILON"]),
        (22, "def scaled_atol", [".reward_scale"]),
    ]
