"""Running the laws of a contract against one target and turning each outcome into a :class:`LawResult`."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from hypothesis import settings as Settings
from hypothesis.errors import HypothesisException
from hypothesis.reporting import with_reporter

from lineage.bugzoo import BUGS, pinned_cases
from lineage.laws.law import Law, LawViolation, counting_examples, laws_for
from lineage.laws.profiles import oracle_settings
from lineage.oracle.calls import DEFAULT_TIME_LIMIT, CallTimedOut, check_time_limit, stuck
from lineage.oracle.calls import time_limit as time_limit_of
from lineage.oracle.capabilities import restrict
from lineage.oracle.errors import oracle_error
from lineage.oracle.preflight import Problem, run_preflight
from lineage.oracle.report import LawResult, Report, Status, build_report
from lineage.oracle.repro import repro
from lineage.oracle.targets import Target, make_target

DEFAULT_SEED = 0  # the oracle is derandomized: the same seed gives the same verdicts, run after run


def check(
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
) -> Report:
    """Check ``function`` against every law of ``contract``, in its library's calling convention.

    A preflight first checks that the target can be called, returns the contract's shape on a trivial input, is
    deterministic, leaves its inputs alone and returns in time; then each law searches for a counterexample with
    Hypothesis (the bug zoo's minimal inputs first) and every failure is shrunk and explained.

    Args:
      contract: one of ``lineage.laws.CONTRACTS`` (``"gae"``, ``"ppo_clip_loss"``, ``"token_rewards"``, ...).
      function: the target, a callable or ``"package.module:attribute"``.
      convention: how the target takes its inputs (``lineage.oracle.CONVENTIONS``: ``"canonical"``, ``"cleanrl"``,
        ``"sb3"``, ``"torchrl"``, ``"tianshou"``, ``"rlax"``, ``"spinningup"``, ``"trl"``, ...).
      framework: ``"numpy"`` or ``"torch"`` arrays for the target (default: the convention's, or the contract's).
      dtype: ``"float32"`` or ``"float64"`` (default: the convention's); outputs are held to that dtype's tolerance.
      profile: ``"oracle-quick"`` (25 examples per law), ``"oracle"`` (50) or ``"oracle-thorough"`` (2000).
      expected_failures: law name or id → the reason it is expected to fail (reported, not failed).
      seed: fixes Hypothesis' random choices (default ``DEFAULT_SEED``, printed in the report): the same seed
        gives the same verdicts run after run; another seed explores other inputs.
      time_limit: seconds each call of the target may take (default ``DEFAULT_TIME_LIMIT``; None: no limit). A
        call that takes longer fails its law with the input it hung on (unshrunk), and the target is not called
        again while that call runs (a thread cannot be stopped: see :mod:`lineage.oracle.calls`), so its
        remaining laws are skipped.

    Returns:
      The :class:`~lineage.oracle.report.Report`: a result per law (passed, failed, warning, expected failure, not
      applicable, skipped), with the law, the minimal counterexample, expected vs got, the likely cause and a repro
      for each failure. ``report.render()`` prints it, ``report.to_json()`` serialises it, ``report.raise_if_failed()``
      raises :class:`~lineage.oracle.report.OracleFailure` if a law failed or the preflight did.

    Raises:
      TargetError: the target cannot be imported or the convention has no form of the contract.
    """
    target = make_target(contract, function, convention=convention, framework=framework, dtype=dtype)
    return check_target(target, profile=profile, expected_failures=expected_failures, seed=seed, time_limit=time_limit)


def check_target(
    target: Target,
    *,
    profile: str = "oracle",
    expected_failures: dict[str, str] | None = None,
    seed: int = DEFAULT_SEED,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    laws: list[str] | None = None,
) -> Report:
    """Preflight ``target``, then run the laws of its contract against it (only those named in ``laws``, by name
    or id, if given)."""
    check_seed(seed)
    check_time_limit(time_limit)
    chosen = selected_laws(target.contract, laws)
    started = time.perf_counter()
    checked = run_preflight(target, time_limit)
    settings = oracle_settings(profile)
    results = [
        run_law(
            checked.target,
            law,
            settings,
            checked.problems,
            expected_failure=declared_failure(expected_failures, law),
            seed=seed,
            time_limit=time_limit,
        )
        for law in chosen
    ]
    seconds = time.perf_counter() - started
    return build_report(
        target, profile, checked.problems, results, seconds, seed=seed, time_limit=time_limit, notes=checked.notes
    )


def check_seed(seed: int) -> int:
    """``seed`` if it is a valid seed (a non-negative integer), else ValueError."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    return seed


def law_seed(seed: int, law: Law) -> int:
    """The seed of one law's search: the run's seed mixed with the law's id, so that laws draw independently of
    each other and of their order (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256(f"{seed}:{law.id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def selected_laws(contract: str, names: list[str] | None) -> list[Law]:
    """The laws of ``contract``, or those named (by name or id); an unknown name is a ValueError naming the laws."""
    every = laws_for(contract)
    if not names:
        return every
    unknown = set(names) - {law.name for law in every} - {law.id for law in every}
    if unknown:
        raise ValueError(f"law: {contract} has no law {sorted(unknown)}; its laws are {[law.name for law in every]}")
    return [law for law in every if law.name in names or law.id in names]


def declared_failure(expected_failures: dict[str, str] | None, law: Law) -> str | None:
    """The reason a caller gave for expecting ``law`` to fail (by name or by id), if any."""
    return (expected_failures or {}).get(law.name) or (expected_failures or {}).get(law.id)


def run_law(
    target: Target,
    law: Law,
    settings: Settings,
    problems: list[Problem] = (),
    *,
    expected_failure: str | None = None,
    seed: int = DEFAULT_SEED,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> LawResult:
    """One law against one target: passed / failed / warning / expected failure / not applicable / skipped."""
    result = LawResult(law.id, law.claims, law.section, law.statement, Status.PASSED)
    missing = target.convention.capabilities.missing(law.requires)
    if problems:
        result.status, result.reason = Status.SKIPPED, f"skipped: prerequisite {problems[0].check!r} failed"
        return result
    if missing:
        result.status, result.reason = Status.NOT_APPLICABLE, f"not applicable: {'; '.join(missing)}"
        return result
    hung = stuck(target.function)
    if hung is not None:
        result.status, result.reason = Status.SKIPPED, f"skipped: {hung.message()}"
        return result
    started, examples = time.perf_counter(), [0]
    try:
        with time_limit_of(time_limit), counting_examples() as examples, with_reporter(lambda _: None):
            failure = _search(target, law, settings, seed)
            if failure is not None:
                _describe(result, target, law, failure, settings, seed)
    except Exception as error:  # lineage's own code raised: reported as an oracle error, never a crash
        result.status, result.reason = Status.ERROR, "oracle error: the law could not be run"
        result.message = oracle_error("running this law", error)
    finally:
        result.examples, result.seconds = examples[0], time.perf_counter() - started
    if result.status is Status.FAILED and expected_failure:
        result.status, result.reason = Status.EXPECTED_FAILURE, f"declared expected failure: {expected_failure}"
    return result


def _search(target: Target, law: Law, settings: Settings, seed: int) -> BaseException | None:
    """Hypothesis' search for a counterexample: None if the law held, else what ended the search."""
    try:
        with seed_only_draws():
            law.verify(
                target.as_contract(),
                settings=settings,
                restrict=lambda case: restrict(case, target.convention.capabilities),
                pinned=pinned_cases(law.id),
                seed=law_seed(seed, law),
            )
    except (LawViolation, CallTimedOut, HypothesisException) as failure:
        return failure
    except ExceptionGroup as group:  # several distinct failures: report the first
        violations = group.subgroup(LawViolation)
        if violations is None:
            raise
        return _first(violations)
    return None


def _describe(
    result: LawResult, target: Target, law: Law, failure: BaseException, settings: Settings, seed: int
) -> None:
    if isinstance(failure, CallTimedOut):
        _describe_timeout(result, target, law, failure)
    elif isinstance(failure, LawViolation):
        try:
            _describe_failure(result, target, law, failure, settings, seed)
        except (CallTimedOut, Exception) as problem:  # the failure stands; only its explanation is incomplete
            result.status, result.message, result.counterexample = Status.FAILED, str(failure), repr(failure.case)
            result.likely_cause = ""
            result.repro = (
                "(not written: calling the target again on this input did not return in time)"
                if isinstance(problem, CallTimedOut)
                else f"(not written: {oracle_error('writing it', problem)})"
            )
    else:  # e.g. Flaky: the target answered differently to the same input
        result.status, result.message = Status.FAILED, f"{type(failure).__name__}: {failure}"


def _describe_timeout(result: LawResult, target: Target, law: Law, timeout: CallTimedOut) -> None:
    """The law failed on the input the target hung on; the search stopped there, unshrunk."""
    result.status = Status.FAILED
    result.message = (
        f"{timeout} on this input (the search stopped at the first call that hung, without shrinking; the call is "
        "still running in a background daemon thread, and the target is not called again meanwhile)"
    )
    result.counterexample, result.shrunk = repr(timeout.case), False
    result.repro = repro(target, law, timeout.calls[-1:])  # the call that hung


@contextmanager
def seed_only_draws() -> Iterator[None]:
    """Make a law's draws depend on its seed alone.

    Besides its random choices, Hypothesis (recent versions; 6.170 here) now and then draws a constant found in
    the source of the *local* modules loaded at that moment (``sys.modules``, outside site-packages): what a
    search draws then depends on what the process happened to import before (other laws, the test modules of a
    pytest run, an editable install of lineage), so the same seed could give other verdicts under ``-k``, in
    ``law_tests`` or after another target. During the oracle's search that pool is empty; Hypothesis' own
    constants stay. This patches a private function of Hypothesis for the duration of the search (not thread-safe
    with another Hypothesis run in the same process) and does nothing if a Hypothesis version lacks it."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - another Hypothesis layout
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if original is None or cache is None:  # pragma: no cover
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def _describe_failure(
    result: LawResult, target: Target, law: Law, violation: LawViolation, settings: Settings, seed: int
) -> None:
    result.status = Status.FAILED
    if target.numerics.dtype == "float64" and _float32_explains(target, law, violation.case, settings, seed):
        result.status = Status.WARNING
        result.reason = (
            "warning: the float64 output is only float32-accurate: held to float32's tolerance the law holds on this "
            "input and on every input of a second search, held to float64's it does not"
        )
    result.message = str(violation)
    result.counterexample = repr(violation.case)
    result.likely_cause = likely_cause(law, violation)
    result.repro = repro(target, law, violation.calls)


def _float32_explains(target: Target, law: Law, case, settings: Settings, seed: int) -> bool:
    """Whether float32 rounding explains a float64 target's failure: with its output held to float32's tolerance,
    the law accepts the failing input and every input a second search draws. An error that does not shrink with
    float32's rounding (a normaliser adding ε = 1e-5 to the std, say) breaks the law at float32's tolerance too on
    some input, and stays a failure."""
    adapted = target.as_contract()

    def as_float32(*args, **params):
        return np.asarray(adapted(*args, **params), dtype=np.float32)

    try:
        law.check(as_float32, case)
        with with_reporter(lambda _: None), seed_only_draws():
            law.verify(
                as_float32,
                settings=settings,
                restrict=lambda drawn: restrict(drawn, target.convention.capabilities),
                pinned=pinned_cases(law.id),
                seed=law_seed(seed, law),
            )
    except (LawViolation, CallTimedOut, ExceptionGroup, HypothesisException):
        return False
    return True


def _first(group: BaseExceptionGroup) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


def likely_cause(law: Law, violation: LawViolation) -> str:
    """Bug-zoo entries that break this law on the same input with the same wrong output."""
    matches = []
    for bug in BUGS.values():
        if bug.contract != law.contract or violation.case is None or violation.got is None:
            continue
        try:
            law.check(bug.function, violation.case)
        except LawViolation as theirs:
            same_shape = theirs.got is not None and np.shape(theirs.got) == np.shape(violation.got)
            if same_shape and np.allclose(theirs.got, violation.got, rtol=1e-5, atol=1e-6, equal_nan=True):
                matches.append(f"{bug.name}: {bug.description}\n  (known bug; {bug.source})")
    return "\n".join(matches)
