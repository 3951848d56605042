"""The laws have teeth: the oracle rejects every bug-zoo entry (GAE, returns, λ-returns, TD errors, n-step) by
the law its metadata names, with a minimal counterexample, a likely cause and a repro, while lineage's own
implementations pass."""

import re

import numpy as np
import pytest
from hypothesis import settings

from lineage.arrays import to_numpy
from lineage.bugzoo import BUGS
from lineage.laws.contracts import CONTRACTS
from lineage.laws.law import LAWS, LawViolation
from lineage.laws.profiles import oracle_settings
from lineage.oracle.runner import run_law
from lineage.oracle.targets import make_target

LAWS = LAWS.all()


@pytest.mark.parametrize("entry", BUGS.values(), ids=lambda b: b.name)
def test_oracle_rejects_the_bug_by_its_named_law(entry):
    """The engine behind every entry point (here its per-law runner) fails the entry on its named law, with the
    entry among the likely causes and a repro that imports it."""
    target = make_target(entry.contract, entry.function)
    result = run_law(target, LAWS[entry.caught_by], oracle_settings("oracle-quick"))
    assert result.status == "failed", result.render()
    assert entry.name in result.likely_cause, result.render()
    assert result.counterexample and f"import {entry.function.__name__} as target" in result.repro, result.render()


@pytest.mark.parametrize("entry", BUGS.values(), ids=lambda b: b.name)
def test_the_bugs_minimal_input_shows_it_and_lineage_passes_it(entry):
    """The pinned minimal input of each entry is a case of its law on which the bug fails and lineage does not."""
    law = LAWS[entry.caught_by]
    with pytest.raises(LawViolation):
        law.check(entry.function, entry.counterexample)
    law.check(CONTRACTS[entry.contract].reference, entry.counterexample)


@pytest.mark.parametrize(
    ("law_id", "entry"),
    [
        ("gae.lambda_zero_is_td_error", "lambda_missing_from_recursion"),
        ("gae.lambda_one_is_monte_carlo", "gamma_missing_from_recursion"),
        ("gae.final_value_enters_with_its_weight", "truncation_as_termination"),
    ],
)
def test_limit_and_truncation_laws_fail_loudly_on_a_broken_gae(law_id, entry):
    """The λ = 0, λ = 1 and terminated-vs-truncated laws each reject a deliberately broken GAE by their own
    search (no pinned input), and the report carries the law, expected vs got and the first differing step."""
    with pytest.raises(LawViolation) as caught:
        LAWS[law_id].verify(BUGS[entry].function, settings=settings(derandomize=True, database=None))
    report = "\n".join([str(caught.value), *caught.value.__notes__])
    for fragment in ("first difference at index", "expected", "got", "SegmentCase(", law_id):
        assert fragment in report, f"{fragment!r} missing from the report:\n{report}"


def printed_got(repro: str) -> str:
    """The text under the last ``# the target gave:`` comment of a repro."""
    lines = repro.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "# the target gave:") + 1
    return " ".join(line.removeprefix("#").strip() for line in lines[start:] if line.startswith("#     "))


@pytest.mark.parametrize("entry", BUGS.values(), ids=lambda b: b.name)
def test_every_bug_zoo_repro_runs_as_printed_and_gives_the_printed_output(entry):
    """The repro of each entry's failure is Python that runs as printed, and its last call returns what the report
    says the target gave (12 significant digits are printed; nan and inf as names)."""
    target = make_target(entry.contract, entry.function)
    result = run_law(target, LAWS[entry.caught_by], oracle_settings("oracle-quick"))
    namespace: dict = {}
    got = printed_got(result.repro)
    if got.startswith("raised "):
        with pytest.raises(Exception, match=re.escape(got.removeprefix("raised ").split(":")[0])):
            exec(compile(result.repro, "<repro>", "exec"), namespace)
        return
    exec(compile(result.repro, "<repro>", "exec"), namespace)
    out = np.asarray(to_numpy(namespace["out"]), dtype=np.float64)
    printed = np.array(eval(got, {"nan": np.nan, "inf": np.inf}), dtype=np.float64)
    np.testing.assert_allclose(out, printed, rtol=1e-11, atol=0)
