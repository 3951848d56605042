"""Checks before any law: the target is callable with its contract's arguments, gives the right shape and
a floating dtype on a trivial input, is deterministic, leaves its inputs alone and finishes in time.
Each problem is one message; the laws are then reported "skipped: prerequisite failed"."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import LawViolation
from lineage.oracle.conventions.base import InputWritten
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
    if problem and problem.check != "callable":
        return [problem]
    if problem:
        signature = target.convention.signatures[target.contract]
        return [
            Problem(problem.check, f"{problem.message}\n    the {target.convention.name} convention calls {signature}")
        ]
    problems = []
    second, problem = _timed_call(lambda: call(CONTRACTS[target.contract], adapted, case)[0], time_limit)
    if problem is None and not np.array_equal(first, second):
        problems.append(Problem("deterministic", f"two calls on the same input disagree: {first} vs {second}"))
    return problems


def _timed_call(thunk, time_limit: float):
    """(result, None) or (None, Problem): LawViolations become the "callable" problem, and a call that
    does not return within the limit the "time limit" problem."""
    box: dict = {}

    def run():
        try:
            box["result"] = thunk()
        except InputWritten as violation:
            box["problem"] = Problem("inputs unchanged", str(violation))
        except LawViolation as violation:
            box["problem"] = Problem("callable", f"on a trivial input: {violation}")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(time_limit)
    if worker.is_alive():
        return None, Problem("time limit", f"a trivial input did not return within {time_limit:g} s")
    return box.get("result"), box.get("problem")
