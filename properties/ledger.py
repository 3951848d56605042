"""lineage's own test run (loaded by the checkout's ``conftest.py``; not part of the installed package).

* loads lineage's Hypothesis profile (:func:`lineage.laws.profiles.load_default_profile`);
* registers the markers every property and derivation carries:
  ``@pytest.mark.claim("GAE-10", ...)`` — the test confirms these claims of the ledger (``lineage/claims.toml``);
  ``@pytest.mark.refutes("GAE-8", ...)`` — the test shows the notes' printed form is wrong;
* counts the Hypothesis examples each test ran;
* ``@pytest.mark.thorough`` — an exhaustive search too slow for every run: collected only under the ``thorough``
  Hypothesis profile (``LINEAGE_PROFILE=thorough nox -s verify``), deselected otherwise (never skipped at run time);
* the ``result`` fixture: a test states what it established in words, with its numbers
  (``result("IS-1", "…")``); the run ends with those sentences, for the tests that passed;
* ends the run with one line per claim: confirmed / refuted as expected / FAILED / skipped.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import settings

from lineage.claims import CLAIMS
from lineage.laws.law import counting_examples
from lineage.laws.profiles import load_default_profile

_CLAIMS_KEY = "lineage_claims"
_REFUTES_KEY = "lineage_refutes"
_EXAMPLES_KEY = "lineage_examples"
_RESULTS_KEY = "lineage_results"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(*ids): the test confirms these claim ids of the ledger")
    config.addinivalue_line("markers", "refutes(*ids): the test shows the printed form of these claims is wrong")
    config.addinivalue_line("markers", "thorough: an exhaustive search, collected only under the thorough profile")
    config.pluginmanager.register(ClaimLedger(), "lineage-claim-ledger")
    load_default_profile(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the ``thorough`` searches unless the thorough Hypothesis profile is loaded."""
    if settings.get_current_profile_name() == "thorough":
        return
    slow = [item for item in items if item.get_closest_marker("thorough")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("thorough")]


@pytest.fixture
def result(request: pytest.FixtureRequest):
    """``result(claim_id, sentence)``: record what the test established, in words with its numbers; the run's
    summary lists the sentences of the tests that passed under "lineage: results"."""

    def record(claim_id: str, sentence: str) -> None:
        request.node.user_properties.append((_RESULTS_KEY, (claim_id, sentence)))

    return record


def pytest_itemcollected(item: pytest.Item) -> None:
    for key, marker in ((_CLAIMS_KEY, "claim"), (_REFUTES_KEY, "refutes")):
        ids = tuple(i for m in item.iter_markers(marker) for i in m.args)
        if ids:
            item.user_properties.append((key, ids))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item):
    """Count the examples Hypothesis runs inside this test, passing the statistics on unchanged."""
    with counting_examples() as examples:
        try:
            return (yield)
        finally:
            item.user_properties.append((_EXAMPLES_KEY, examples[0]))


class ClaimLedger:
    """Collects outcomes per claim id (from reports, so it also works under pytest-xdist)."""

    def __init__(self) -> None:
        self.outcomes: dict[str, list[tuple[str, bool]]] = defaultdict(list)  # id -> [(outcome, refutes)]
        self.examples = 0
        self.results: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if report.when == "call":
            self.examples += props.get(_EXAMPLES_KEY, 0)
            if report.passed:
                self.results += [value for key, value in report.user_properties if key == _RESULTS_KEY]
        elif not (report.when == "setup" and not report.passed):
            return
        for key, refutes in ((_CLAIMS_KEY, False), (_REFUTES_KEY, True)):
            for claim_id in props.get(key, ()):
                self.outcomes[claim_id].append((report.outcome, refutes))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.outcomes or terminalreporter.config.getoption("lineage_target"):
            return
        write = terminalreporter.write_line
        terminalreporter.section("lineage: claims of the ledger")
        tally: dict[str, int] = defaultdict(int)
        for claim_id in sorted(self.outcomes, key=_claim_sort_key):
            status = claim_status(self.outcomes[claim_id])
            tally[status] += 1
            claim = CLAIMS.get(claim_id)
            title = f"{claim.verdict:<6} {claim.title}" if claim else "?      (not in the claims ledger)"
            write(f"{claim_id:<12} {status:<20} {len(self.outcomes[claim_id]):>3} checks  {title}")
        order = ("confirmed", "refuted as expected", "FAILED", "skipped")
        counts = ", ".join(f"{tally[s]} {s}" for s in order if tally[s])
        write(f"{len(self.outcomes)} claims: {counts}; {self.examples} Hypothesis examples run")
        if self.results:
            terminalreporter.section("lineage: results")
            for claim_id, sentence in sorted(self.results, key=lambda r: _claim_sort_key(r[0])):
                write(f"{claim_id:<12} {sentence}")


def claim_status(outcomes: list[tuple[str, bool]]) -> str:
    """FAILED if any check failed; refuted as expected if a refutation passed; else confirmed."""
    if any(outcome == "failed" for outcome, _ in outcomes):
        return "FAILED"
    if all(outcome == "skipped" for outcome, _ in outcomes):
        return "skipped"
    if any(refutes and outcome == "passed" for outcome, refutes in outcomes):
        return "refuted as expected"
    return "confirmed"


def _claim_sort_key(claim_id: str) -> tuple[str, int]:
    prefix, _, number = claim_id.rpartition("-")
    return prefix, int(number)
