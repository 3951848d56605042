"""The oracle inside pytest: one test item per law, selectable with ``-k``.

Two ways in:

* ``pytest --lineage-target gae=mypkg.adv:compute_gae --lineage-convention cleanrl`` (what ``nox -s verify --
  --lineage-target ...`` runs): lineage's pytest plugin (``_lineage_pytestplugin``) hands the run to
  :class:`TargetRun`, which collects a preflight item per target and one item per law instead of the suite,
  and ends with a report per target;
* in a library's own test suite::

      from lineage.oracle.pytest import law_tests
      test_my_gae = law_tests("gae", my_gae, convention="cleanrl")

  collects ``test_my_gae[gae.lambda_zero_is_td_error]``, ... one item per law.

A failing law fails its item with the teaching report (no traceback from lineage's internals), a law
the convention cannot express is skipped as "not applicable", a float64 output that is only
float32-accurate is an expected failure marked "warning" (never a pass: the run's summary lists it under
"lineage: laws held only to float32 accuracy"). A target whose preflight fails (it raises, writes
into its inputs, hangs, returns the wrong shape) fails: in ``--lineage-target`` mode its preflight item fails
and its law items are skipped (they fail too when the preflight item was deselected, e.g. by ``-k``); with
``law_tests``, which has no preflight item, every law item fails with the preflight's message.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from lineage.laws.law import Law, laws_for
from lineage.laws.profiles import oracle_settings
from lineage.oracle.calls import DEFAULT_TIME_LIMIT, check_time_limit
from lineage.oracle.preflight import Preflight, Problem, run_preflight
from lineage.oracle.report import LawResult, Status, build_report
from lineage.oracle.runner import DEFAULT_SEED, check_seed, declared_failure, run_law
from lineage.oracle.targets import Target, TargetError, make_target, parse_target_option

_RESULT_KEY = "lineage_oracle_result"
# A law a float64 target holds only to float32's accuracy: the item is an expected failure (never a pass), and the
# plugin (_lineage_pytestplugin, which reads this key without importing lineage) lists it at the end of the run.
WARNING_KEY = "lineage_accuracy_warning"


def law_tests(
    contract: str,
    function,
    *,
    convention: str = "canonical",
    framework: str | None = None,
    dtype: str | None = None,
    profile: str = "oracle",
    expected_failures: dict[str, str] | None = None,
    seed: int = DEFAULT_SEED,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
):
    """A pytest test function parametrized over the laws of ``contract``, run against ``function`` (the options
    are :func:`lineage.oracle.check`'s)."""
    target = make_target(contract, function, convention=convention, framework=framework, dtype=dtype)
    check_seed(seed)
    check_time_limit(time_limit)
    laws = laws_for(contract)

    @pytest.mark.parametrize("law", laws, ids=[law.id for law in laws])
    def test(law: Law, record_property) -> None:
        reason = declared_failure(expected_failures, law)
        checked = _preflight(target, time_limit)
        settings, problems = oracle_settings(profile), checked.problems
        result = run_law(
            checked.target, law, settings, problems, expected_failure=reason, seed=seed, time_limit=time_limit
        )
        if result.status is Status.WARNING:
            record_property(WARNING_KEY, result.reason)
        enforce(result, target, problems)

    return test


def enforce(result: LawResult, target: Target | None = None, problems: list[Problem] = ()) -> None:
    """Turn a law's result into the pytest outcome of its item: a law not run because the preflight of
    ``target`` found ``problems`` fails, with the preflight's message (unless a preflight item of this run has
    already failed with it)."""
    if problems and result.status is Status.SKIPPED:
        if target in _PREFLIGHT_SHOWN:
            pytest.skip(f"{result.reason} (see the preflight item of {target.label})")
        pytest.fail(preflight_failure(target, problems, "so this law was not run"), pytrace=False)
    if result.status in (Status.FAILED, Status.ERROR):
        pytest.fail(result.render(), pytrace=False)
    if result.status in (Status.NOT_APPLICABLE, Status.SKIPPED):
        pytest.skip(result.reason)
    if result.status in (Status.WARNING, Status.EXPECTED_FAILURE):
        pytest.xfail(result.reason)


def preflight_failure(target: Target, problems: list[Problem], consequence: str) -> str:
    """The preflight's message, as a failing item shows it."""
    return "\n".join(
        [f"preflight of {target.label} failed, {consequence}:", *(f"  - {p.check}: {p.message}" for p in problems)]
    )


_PREFLIGHT: dict[tuple[Target, float | None], Preflight] = {}
_PREFLIGHT_SHOWN: set[Target] = set()  # targets whose preflight item failed in this process


def _preflight(target: Target, time_limit: float | None) -> Preflight:
    """Preflight once per target (and time limit) and process."""
    if (target, time_limit) not in _PREFLIGHT:
        _PREFLIGHT[target, time_limit] = run_preflight(target, time_limit)
    return _PREFLIGHT[target, time_limit]


# ----------------------------------------------------------------------------------------------------
# --lineage-target mode (started by _lineage_pytestplugin when the option is given)
# ----------------------------------------------------------------------------------------------------
class TargetRun:
    """The pytest session of ``--lineage-target``: nothing of the suite is collected; a preflight item per target
    and an item per law of its contract run instead, and the run ends with a report per target."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.profile = config.getoption("lineage_profile")
        self.seed = configured_seed(config)
        self.time_limit = configured_time_limit(config)
        self.targets = configured_targets(config)
        self.results: dict[tuple[str, str], list[LawResult]] = defaultdict(list)

    def pytest_ignore_collect(self, collection_path, config) -> bool:
        return True

    @pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list) -> None:
        items[:] = [
            item for target in self.targets for item in TargetItems.from_parent(session, target=target).collect()
        ]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == _RESULT_KEY and report.when == "call":
                label, contract, fields = value
                self.results[(label, contract)].append(LawResult.from_dict(fields))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("lineage oracle")
        for target in self.targets:
            results = sorted(self.results[(target.label, target.contract)], key=lambda r: r.law)
            checked = _preflight(target, self.time_limit)
            report = build_report(
                target,
                self.profile,
                checked.problems,
                results,
                seed=self.seed,
                time_limit=self.time_limit,
                notes=checked.notes,
            )
            terminalreporter.write_line(report.render(compact=True))


def configured_seed(config: pytest.Config) -> int:
    """``--lineage-seed``, or a usage error."""
    try:
        return check_seed(config.getoption("lineage_seed"))
    except ValueError as problem:
        raise pytest.UsageError(f"--lineage-seed: {problem}") from None


def configured_time_limit(config: pytest.Config) -> float | None:
    """``--lineage-time-limit`` (0: no limit), or a usage error."""
    try:
        return check_time_limit(config.getoption("lineage_time_limit") or None)
    except ValueError as problem:
        raise pytest.UsageError(f"--lineage-time-limit: {problem}") from None


def configured_targets(config: pytest.Config) -> list[Target]:
    """The ``--lineage-target`` options as targets, or one usage error that names the problem."""
    targets = []
    for option in config.getoption("lineage_target"):
        try:
            contract, spec = parse_target_option(option)
            targets.append(
                make_target(
                    contract,
                    spec,
                    convention=config.getoption("lineage_convention"),
                    framework=config.getoption("lineage_framework"),
                    dtype=config.getoption("lineage_dtype"),
                )
            )
        except (TargetError, ValueError) as problem:
            raise pytest.UsageError(str(problem)) from None
    return targets


class TargetItems(pytest.Collector):
    """The items of one target: its preflight, then one per law of its contract."""

    def __init__(self, *, target: Target, **kwargs) -> None:
        super().__init__(name=f"{target.contract}={target.label}", **kwargs)
        self.target = target

    def collect(self) -> list[pytest.Item]:
        laws = laws_for(self.target.contract)
        return [
            PreflightItem.from_parent(self, name="preflight", target=self.target),
            *(LawItem.from_parent(self, name=law.id, target=self.target, law=law) for law in laws),
        ]


class PreflightItem(pytest.Item):
    """The target can be called with its contract's arguments, is deterministic and leaves its inputs alone."""

    def __init__(self, *, target: Target, **kwargs) -> None:
        super().__init__(**kwargs)
        self.target = target

    def runtest(self) -> None:
        problems = _preflight(self.target, configured_time_limit(self.config)).problems
        if problems:
            _PREFLIGHT_SHOWN.add(self.target)
            pytest.fail(preflight_failure(self.target, problems, "so its laws are not run"), pytrace=False)

    def reportinfo(self):
        return self.path, None, f"preflight of {self.target.label}"


class LawItem(pytest.Item):
    """One law against one target, under the ``--lineage-profile`` settings."""

    def __init__(self, *, target: Target, law: Law, **kwargs) -> None:
        super().__init__(**kwargs)
        self.target, self.law = target, law
        self.add_marker(pytest.mark.claim(*law.claims))

    def runtest(self) -> None:
        settings = oracle_settings(self.config.getoption("lineage_profile"))
        seed, time_limit = configured_seed(self.config), configured_time_limit(self.config)
        checked = _preflight(self.target, time_limit)
        problems = checked.problems
        result = run_law(checked.target, self.law, settings, problems, seed=seed, time_limit=time_limit)
        self.user_properties.append((_RESULT_KEY, (self.target.label, self.target.contract, result.to_dict())))
        if result.status is Status.WARNING:
            self.user_properties.append((WARNING_KEY, result.reason))
        enforce(result, self.target, problems)

    def reportinfo(self):
        return self.path, None, f"{self.law.id} against {self.target.label}"
