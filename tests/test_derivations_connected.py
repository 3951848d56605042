"""Every derivation evaluates lineage: a module of ``derivations/`` that imports nothing from lineage compares closed
forms with each other, so no bug of the implementations could ever fail it. The few modules of pure theory, with no
implementation in lineage that could run on symbols, are exempt, each for the reason given."""

from __future__ import annotations

import ast
import pathlib

import pytest

DERIVATIONS = pathlib.Path(__file__).resolve().parent.parent / "derivations"
SHARED = {"__init__.py", "residual.py"}  # the package marker and the closed forms, which must not call lineage
PURE_THEORY = {
    "test_performance_difference.py": (
        "the lemma holds for any MDP; lineage.tabular evaluates one by float linear solves, which cannot run on "
        "symbols (properties/test_tabular_performance_difference.py checks the lemma on them in floats)"
    ),
}


def derivation_modules() -> list[pathlib.Path]:
    return sorted(path for path in DERIVATIONS.rglob("*.py") if path.name not in SHARED)


def imports_lineage(source: str) -> bool:
    """Whether the module imports lineage or anything from it (``import lineage``, ``from lineage.x import y``)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] == "lineage" for name in names):
            return True
    return False


@pytest.mark.parametrize("path", derivation_modules(), ids=lambda path: path.name)
def test_every_derivation_module_evaluates_lineage(path: pathlib.Path):
    connected = imports_lineage(path.read_text(encoding="utf-8"))
    if path.name in PURE_THEORY:
        assert not connected, f"{path.name} imports lineage now: remove it from PURE_THEORY"
    else:
        assert connected, (
            f"{path.name} imports nothing from lineage: evaluate lineage's own functions on SymPy symbols (numpy "
            "object arrays, see derivations/residual.py) against the closed form, or add it to PURE_THEORY with why"
        )


def test_every_exemption_names_a_derivation_module_and_a_reason():
    assert set(PURE_THEORY) <= {path.name for path in derivation_modules()}
    assert all(reason.strip() for reason in PURE_THEORY.values())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import lineage", True),
        ("import lineage.ppo as ppo", True),
        ("from lineage import ppo", True),
        ("from lineage.returns import gae", True),
        ("from .residual import GAMMA\nimport sympy", False),
        ("import lineage_tools", False),
        ("def f():\n    from lineage import gae", True),
    ],
)
def test_the_import_check_reads_the_syntax_tree(source: str, expected: bool):
    assert imports_lineage(source) is expected
