"""Checks before any law: the target is callable with its contract's arguments, gives the right shape and
a floating dtype on a trivial input, is deterministic, leaves its inputs alone and returns within the time
limit (every call of a target has one: :mod:`lineage.oracle.calls`).
Each problem is one message; the laws are then reported "skipped: prerequisite failed"."""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass

import numpy as np

from lineage.arrays import to_numpy
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import LawViolation
from lineage.oracle import calls
from lineage.oracle.calls import DEFAULT_TIME_LIMIT
from lineage.oracle.conventions.base import invoke
from lineage.oracle.report import oracle_error
from lineage.oracle.targets import Target


@dataclass(frozen=True)
class Problem:
    check: str
    message: str


def preflight(target: Target, time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[Problem]:
    """The list of problems found (empty: the laws may run). Every call of the target waits at most
    ``time_limit`` seconds (None: no limit); modules the convention imports are imported before the first call,
    so the limit does not count their import."""
    for module in _modules_to_import(target):
        with contextlib.suppress(ImportError):  # the call itself will say what is missing
            importlib.import_module(module)
    try:
        with calls.time_limit(time_limit):
            return _problems(target)
    except Exception as error:  # lineage's own code raised: a problem to report, never a crash
        return [Problem("oracle error", oracle_error("checking the target", error))]


def _problems(target: Target) -> list[Problem]:
    case = CONTRACTS[target.contract].trivial
    adapted = target.as_contract()
    first, problem = _trivial_call(adapted, target.contract, case)
    if problem:
        signature = target.convention.signatures[target.contract]
        return [
            Problem(problem.check, f"{problem.message}\n    the {target.convention.name} convention calls {signature}")
        ]
    problems = []
    second, problem = _trivial_call(adapted, target.contract, case)
    if problem is not None and problem.check == "callable":
        message = problem.message.removeprefix("on a trivial input: ")
        return [Problem("deterministic", f"the first call on a trivial input returned, the second failed: {message}")]
    if problem is not None:
        return [problem]
    if not np.array_equal(first, second):
        problems.append(Problem("deterministic", f"two calls on the same input disagree: {first} vs {second}"))
    problems += _mutation_problems(target, case)
    return problems


def _trivial_call(adapted, contract: str, case):
    """(output, None) or (None, Problem): a LawViolation is the "callable" problem, and a call that does not
    return within the time limit (or a target still stuck in an earlier call) the "time limit" problem."""
    try:
        return call(CONTRACTS[contract], adapted, case)[0], None
    except (calls.CallTimedOut, calls.StillRunning) as timeout:
        return None, _time_limit_problem(timeout)
    except LawViolation as violation:
        return None, Problem("callable", f"on a trivial input: {violation}")


def _time_limit_problem(timeout: BaseException) -> Problem:
    if isinstance(timeout, calls.CallTimedOut):
        return Problem("time limit", f"a trivial input did not return within {timeout.seconds:g} s")
    return Problem("time limit", str(timeout))


def _modules_to_import(target: Target) -> tuple[str, ...]:
    framework = ("torch",) if target.numerics.framework == "torch" else ()
    return (*framework, *target.convention.imports)


def _mutation_problems(target: Target, case) -> list[Problem]:
    """Run the convention's calls with snapshots of the arguments and compare them afterwards."""
    arrays = case.inputs()
    params = {p: getattr(case, p) for p in CONTRACTS[target.contract].parameters}
    problems = []
    for target_call in target.convention.calls(target.contract, arrays, params):
        args, kwargs = target.convention.prepare(target_call, target.numerics)
        named = [*args, *kwargs.items()]
        before = {name: np.array(to_numpy(value)) for name, value in named if _is_array(value)}
        try:
            invoke(target.convention, target.function, args, kwargs)
        except (calls.CallTimedOut, calls.StillRunning) as timeout:
            return [*problems, _time_limit_problem(timeout)]
        except LawViolation:  # already reported by the "callable" check
            return problems
        problems += [
            Problem("inputs unchanged", f"the target wrote into its input {name!r}")
            for name, value in named
            if name in before and not np.array_equal(before[name], to_numpy(value))
        ]
    return problems


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or hasattr(value, "detach")
