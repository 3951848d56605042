"""A float64 implementation that is only float32-accurate: lineage's own code fails, an outside target is warned.

lineage's own implementations are bound to the laws directly (``properties/test_laws.py`` calls ``Law.verify``,
held to the tolerance of the dtype the implementation returns), so an error far below float32's precision is a
failure there. An outside float64 target whose failure float32 rounding explains gets the "warning" verdict: an
expected failure, never a pass, named in the report's verdict, in JSON and at the end of a pytest run.
"""

import ast
import inspect
import pathlib

import numpy as np
import pytest

import lineage
from lineage.laws import LawViolation, laws_for
from lineage.oracle import check

ROOT = pathlib.Path(__file__).resolve().parents[1]


def gae_with_gamma_lambda_off_by_1e9(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """GAE with γλ replaced by γλ(1 − 1e-9): wrong by far less than float32's precision."""
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam * (1 - 1e-9))


def gae_in_float32(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """The recursion run in float32, the result handed back as float64."""
    as32 = [np.asarray(a, dtype=np.float32) for a in (rewards, values, next_values)]
    advantages = lineage.gae(*as32, terminated, truncated, gamma=gamma, lam=lam)
    return advantages.astype(np.float64)


@pytest.mark.parametrize("planted", [gae_with_gamma_lambda_off_by_1e9, gae_in_float32])
def test_lineage_float64_is_held_to_float64(planted):
    """What ``properties/test_laws.py`` does with lineage's own GAE, done with a planted float32-sized error: some
    law of the contract fails (a LawViolation, not a skip or an expected failure)."""
    failed = []
    for law in laws_for("gae"):
        try:
            law.verify(planted)
        except LawViolation:
            failed.append(law.id)
    assert failed, f"no gae law caught {planted.__name__}"


def test_the_bound_laws_cannot_become_expected_failures():
    """properties/ and derivations/ neither route lineage's own code through the oracle (whose float32 verdict is a
    warning) nor mark anything as an expected failure or a skip at run time."""
    offenders = []
    for folder in ("properties", "derivations"):
        for path in sorted((ROOT / folder).glob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lineage.oracle"):
                    offenders.append(f"{path.name}: imports {node.module}")
                if isinstance(node, ast.Attribute) and node.attr in ("xfail", "skip", "importorskip"):
                    offenders.append(f"{path.name}:{node.lineno}: pytest.{node.attr}")
    assert offenders == [], offenders


def test_an_outside_float32_accurate_target_gets_the_warning_verdict():
    report = check("gae", gae_in_float32, profile="oracle-quick")
    warned = [r.law for r in report.results if r.status == "warning"]
    assert warned, report.render()
    assert report.verdict == "warning", report.render()
    assert report.summary().endswith("verdict: warning"), report.summary()
    assert '"verdict": "warning"' in report.to_json()


def test_pytest_names_the_float32_accurate_laws_at_the_end(pytester):
    pytester.makepyfile(
        mine="import numpy as np\nimport lineage\n\n" + inspect.getsource(gae_in_float32),
        test_mine="""
from lineage.oracle.pytest import law_tests
test_my_gae = law_tests("gae", "mine:gae_in_float32", profile="oracle-quick")
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("xfailed", 0) >= 1 and "failed" not in outcomes, outcomes
    result.stdout.fnmatch_lines(["*lineage: laws held only to float32 accuracy*", "WARNING *test_my_gae*float32*"])
