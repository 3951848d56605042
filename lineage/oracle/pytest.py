"""The oracle inside pytest: one test item per law, selectable with ``-k``.

Two ways in:

* ``pytest --pyargs lineage.properties --target gae=mypkg.adv:compute_gae --convention cleanrl`` (what
  ``nox -s verify -- --target ...`` runs): the laws of every ``--target`` run instead of lineage's own
  suite, followed by a report per target;
* in a library's own test suite::

      from lineage.oracle.pytest import law_tests
      test_my_gae = law_tests("gae", my_gae, convention="cleanrl")

  collects ``test_my_gae[gae.lambda_zero_is_td_error]``, ... one item per law.

A failing law fails its item with the teaching report (no traceback from lineage's internals), a law
the convention cannot express is skipped as "not applicable", a float64 output that is only
float32-accurate is an expected failure marked "warning", and a broken target fails its preflight item.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import pytest
from hypothesis import settings as Settings

from lineage.oracle.preflight import Problem, preflight
from lineage.oracle.profiles import oracle_settings
from lineage.oracle.report import LawResult, Report
from lineage.oracle.runner import run_law
from lineage.oracle.targets import Target, TargetError, make_target, parse_target_option
from lineage.properties.contracts import CONTRACTS
from lineage.properties.law import Law, laws_for

_RESULT_KEY = "lineage_oracle_result"


def law_tests(
    contract: str,
    function,
    *,
    convention: str = "canonical",
    framework: str | None = None,
    dtype: str | None = None,
    profile: str = "oracle",
    expected_failures: dict[str, str] | None = None,
):
    """A pytest test function parametrized over the laws of ``contract``, run against ``function``."""
    target = make_target(contract, function, convention=convention, framework=framework, dtype=dtype)
    laws = laws_for(contract)

    @pytest.mark.parametrize("law", laws, ids=[law.id for law in laws])
    def test(law: Law) -> None:
        reason = (expected_failures or {}).get(law.name) or (expected_failures or {}).get(law.id)
        enforce(run_law(target, law, oracle_settings(profile), _preflight(target), expected_failure=reason))

    return test


def enforce(result: LawResult) -> None:
    """Turn a law's result into the pytest outcome of its item."""
    if result.status == "failed":
        pytest.fail(result.render(), pytrace=False)
    if result.status in ("not applicable", "skipped"):
        pytest.skip(result.reason)
    if result.status in ("warning", "expected failure"):
        pytest.xfail(result.reason)


_PREFLIGHT: dict[int, list[Problem]] = {}


def _preflight(target: Target) -> list[Problem]:
    """Preflight once per target and process."""
    key = id(target)
    if key not in _PREFLIGHT:
        _PREFLIGHT[key] = preflight(target)
    return _PREFLIGHT[key]


# ----------------------------------------------------------------------------------------------------
# --target mode (hooks re-exported by lineage's pytest plugin)
# ----------------------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lineage", "lineage oracle: run the laws against your implementation")
    group.addoption(
        "--target",
        action="append",
        default=[],
        metavar="CONTRACT=SPEC",
        help="contract=package.module:function to verify instead of lineage's own (repeatable)",
    )
    group.addoption("--convention", default="canonical", help="calling convention of the targets (see README)")
    group.addoption("--framework", default=None, choices=("numpy", "torch"), help="arrays handed to the targets")
    group.addoption("--dtype", default=None, choices=("float32", "float64"), help="dtype handed to the targets")
    group.addoption("--oracle-profile", default="oracle", help="Hypothesis profile for the targets' laws")


def configured_targets(config: pytest.Config) -> list[Target]:
    """The ``--target`` options as targets, or a usage error that names the problem."""
    cached = getattr(config, "_lineage_targets", None)
    if cached is not None:
        return cached
    targets = []
    for option in config.getoption("target", default=[]):
        try:
            contract, spec = parse_target_option(option)
            targets.append(
                make_target(
                    contract,
                    spec,
                    convention=config.getoption("convention"),
                    framework=config.getoption("framework"),
                    dtype=config.getoption("dtype"),
                )
            )
        except (TargetError, ValueError) as problem:
            raise pytest.UsageError(str(problem)) from None
    config._lineage_targets = targets
    return targets


def lineage_targets() -> list[Target]:
    """lineage's own implementations, one per contract (what the suite checks without --target)."""
    return [make_target(name, contract.implementation()) for name, contract in CONTRACTS.items()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the oracle's items: ``oracle_target`` (one preflight item per target) and ``law_target``
    (one item per law of each target's contract)."""
    targets = configured_targets(metafunc.config) or lineage_targets()
    own = not metafunc.config.getoption("target", default=[])
    if "oracle_target" in metafunc.fixturenames:
        metafunc.parametrize("oracle_target", targets, ids=[t.label for t in targets])
    if "law_target" in metafunc.fixturenames:
        params = [
            pytest.param(
                (target, law), id=law.id if own else f"{law.id}@{target.label}", marks=pytest.mark.claim(*law.claims)
            )
            for target in targets
            for law in laws_for(target.contract)
        ]
        metafunc.parametrize("law_target", params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --target, keep only the oracle's items: the rest of the suite checks lineage itself."""
    if not configured_targets(config):
        return
    keep = [i for i in items if {"oracle_target", "law_target"} & set(getattr(i, "fixturenames", ()))]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def run_item(target: Target, law: Law, settings: Settings, item_properties: list) -> None:
    """Run one law for a pytest item, record its result for the summary, and enforce the outcome."""
    result = run_law(target, law, settings, _preflight(target))
    item_properties.append((_RESULT_KEY, (target.label, target.contract, dataclasses.asdict(result))))
    enforce(result)


class OracleLedger:
    """Collects law results from the reports (xdist-safe) and prints a report per target."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[tuple[str, str], list[LawResult]] = defaultdict(list)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == _RESULT_KEY and report.when == "call":
                label, contract, fields = value
                fields["claims"] = tuple(fields["claims"])
                self.results[(label, contract)].append(LawResult(**fields))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        targets = {(t.label, t.contract): t for t in configured_targets(self.config)}
        if not targets:
            return
        terminalreporter.section("lineage oracle")
        for key, target in targets.items():
            numerics = f"{target.numerics.framework} {target.numerics.dtype}"
            report = Report(
                target.label, target.contract, target.convention.name, numerics, self.config.getoption("oracle_profile")
            )
            report.results = sorted(self.results[key], key=lambda r: r.law)
            report.seconds = sum(r.seconds for r in report.results)
            report.preflight = [f"{p.check}: {p.message}" for p in _preflight(target)]
            terminalreporter.write_line(report.render(compact=True))
