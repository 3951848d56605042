"""The verify job's per-claim verdicts: the pytest plugin's ledger and its summary."""

import pathlib
import re

import pytest

from lineage.claims import CLAIMS
from lineage.laws.law import LAWS
from properties.ledger import claim_status

ROOT = pathlib.Path(__file__).resolve().parent.parent

SAMPLE = """
import pytest

@pytest.mark.claim("GAE-10")
def test_confirms():
    pass

@pytest.mark.claim("GAE-3")
def test_breaks():
    assert 1 == 2, "law broken"

@pytest.mark.refutes("GAE-8")
def test_refutes_printed_form():
    pass

@pytest.mark.claim("GAE-8")
def test_corrected_form():
    pass
"""


def test_summary_has_one_verdict_per_claim_and_fails_the_run(pytester):
    pytester.makepyfile(test_sample=SAMPLE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "properties.ledger")
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret != 0
    result.stdout.re_match_lines(
        [
            r".*lineage: claims of the ledger.*",
            r"GAE-3\s+FAILED\s+1 checks\s+TRUE .*",
            r"GAE-8\s+refuted as expected\s+2 checks\s+FALSE .*",
            r"GAE-10\s+confirmed\s+1 checks\s+TRUE .*",
            r"3 claims: 1 confirmed, 1 refuted as expected, 1 FAILED; \d+ Hypothesis examples run",
        ]
    )


def test_examples_are_counted(pytester):
    pytester.makepyfile(
        test_counted="""
import pytest
from hypothesis import given, settings, strategies as st

@pytest.mark.claim("GAE-10")
@settings(max_examples=17, database=None)
@given(st.integers())
def test_runs(x):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "properties.ledger")
    result.stdout.re_match_lines([r"1 claims: 1 confirmed; 17 Hypothesis examples run"])


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ([("passed", False)], "confirmed"),
        ([("passed", False), ("passed", True)], "refuted as expected"),
        ([("passed", True), ("failed", False)], "FAILED"),
        ([("failed", True)], "FAILED"),
        ([("skipped", False)], "skipped"),
    ],
)
def test_claim_status(outcomes, status):
    assert claim_status(outcomes) == status


def test_every_claim_id_named_by_a_check_is_in_the_claims_table():
    named = {claim for law in LAWS.all().values() for claim in law.claims}
    for path in [*ROOT.glob("properties/*.py"), *ROOT.glob("derivations/*.py")]:
        for marker in re.finditer(r"mark\.(?:claim|refutes)\(([^)]*)\)", path.read_text(encoding="utf-8")):
            named.update(re.findall(r'"([A-Z]+(?:-[A-Z]+)*-\d+)"', marker.group(1)))
    assert named, "no claim markers found"
    assert named <= set(CLAIMS), sorted(named - set(CLAIMS))


def test_the_plugin_leaves_other_projects_hypothesis_settings_alone(pytester):
    """Installing lineage registers its profiles but loads none outside lineage's own folders."""
    pytester.makepyfile(
        test_foreign="""
from hypothesis import Phase, settings

def test_default_settings_untouched():
    assert Phase.explain in settings().phases
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
