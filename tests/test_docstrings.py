"""Every public function of the building blocks (``lineage.returns``, ``lineage.ppo``, ``lineage.rlhf``,
``lineage.pg``) documents itself where ``help()`` shows it: the formula, a paper (its year), the claim ids it
implements (all in the ledger), the section of the notes, and ``Args:`` / ``Returns:`` (``tests/test_architecture.py``
holds every file to citing nothing outside the repository)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

from lineage.claims import CLAIMS

PACKAGES = (
    "lineage.returns",
    "lineage.ppo",
    "lineage.rlhf",
    "lineage.optim",
    "lineage.actor_critic",
    "lineage.pg",
    "lineage.algorithms",
)
SECTIONS = {claim.section for claim in CLAIMS.values()}
CLAIM_ID = re.compile(r"\b(?:STD-)?(?:" + "|".join(sorted({i.split("-")[-2] for i in CLAIMS})) + r")-\d+\b")


def modules():
    for package in PACKAGES:
        root = importlib.import_module(package)
        yield root
        for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
            yield importlib.import_module(info.name)


def public_functions():
    for module in modules():
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == module.__name__:
                yield pytest.param(obj, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("function", list(public_functions()))
def test_function_docstring_has_formula_paper_claims_section_args_and_returns(function):
    doc = inspect.getdoc(function) or ""
    assert "=" in doc or "←" in doc, "no formula"
    assert re.search(r"\b(19|20)\d\d\b", doc), "no paper (year)"
    claims = CLAIM_ID.findall(doc)
    assert claims, "no claim id"
    assert not set(claims) - set(CLAIMS), f"claim ids not in the ledger: {sorted(set(claims) - set(CLAIMS))}"
    cited = re.findall(r"notes (§[A-Z]+)", doc)
    assert cited and set(cited) <= SECTIONS, f"notes sections {cited} not among {sorted(SECTIONS)}"
    if inspect.signature(function).parameters:
        assert "\nArgs:\n" in doc, "no Args: section"
    assert "\nReturns:\n" in doc, "no Returns: section"
