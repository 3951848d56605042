"""Checks before any law: the target is callable with its contract's arguments, gives the right shape and
a floating dtype on a trivial input, is deterministic, leaves its inputs alone and finishes in time.
Each problem is one message; the laws are then reported "skipped: prerequisite failed"."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from lineage.arrays import to_numpy
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import LawViolation
from lineage.oracle.conventions.base import invoke
from lineage.oracle.targets import Target

TIME_LIMIT_SECONDS = 30.0


@dataclass(frozen=True)
class Problem:
    check: str
    message: str


def preflight(target: Target, time_limit: float = TIME_LIMIT_SECONDS) -> list[Problem]:
    """The list of problems found (empty: the laws may run)."""
    case = CONTRACTS[target.contract].trivial
    adapted = target.as_contract()
    first, problem = _timed_call(lambda: call(CONTRACTS[target.contract], adapted, case)[0], time_limit)
    if problem:
        signature = target.convention.signatures[target.contract]
        return [
            Problem(problem.check, f"{problem.message}\n    the {target.convention.name} convention calls {signature}")
        ]
    problems = []
    second, problem = _timed_call(lambda: call(CONTRACTS[target.contract], adapted, case)[0], time_limit)
    if problem is None and not np.array_equal(first, second):
        problems.append(Problem("deterministic", f"two calls on the same input disagree: {first} vs {second}"))
    problems += _mutation_problems(target, case)
    return problems


def _timed_call(thunk, time_limit: float):
    """(result, None) or (None, Problem): LawViolations become the "callable" problem, and a call that
    does not return within the limit the "time limit" problem."""
    box: dict = {}

    def run():
        try:
            box["result"] = thunk()
        except LawViolation as violation:
            box["problem"] = Problem("callable", f"on a trivial input: {violation}")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(time_limit)
    if worker.is_alive():
        return None, Problem("time limit", f"a trivial input did not return within {time_limit:g} s")
    return box.get("result"), box.get("problem")


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
