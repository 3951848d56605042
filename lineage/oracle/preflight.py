"""Checks before any law: the target is callable with its contract's arguments, gives the right shape and
a floating dtype on a trivial input, is deterministic, leaves its inputs alone and returns within the time
limit (every call of a target has one: :mod:`lineage.oracle.calls`).

Each problem is one message; the laws are then not run (reported "skipped: prerequisite failed", and a failure
of the target by every entry point). Where the user is one option away, the message says which:

* the trivial call fails, and succeeds with the other framework's arrays: pass ``framework=`` (``--framework``);
  lineage reports the option rather than switching by itself, so that a report always describes the calls the
  user asked for;
* the trivial call fails because the arguments do not fit the target's signature, and the target's parameter
  names match another convention's signature for this contract (``Convention.signatures``): pass
  ``convention=`` (``--convention``);
* two calls disagree: the first differing index, both values in full precision, the largest difference.

**One trajectory per call.** The trivial input is one-dimensional ([T]). For the return and advantage
contracts, a convention that hands a [T, B] batch to the target in one call is probed with a [T, B] input as
well. A target that returns on [T] and fails on [T, B] is not failed for it: the preflight says so once (a note
of the report) and its laws run with one call per batch column (:class:`~lineage.oracle.conventions.
per_trajectory.PerTrajectory`), like the conventions of libraries that vmap over a batch (rlax), with the laws
about batches "not applicable: the target takes one trajectory per call".
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import re
from dataclasses import dataclass, field

import numpy as np

from lineage.laws.cases.segments import Segment, SegmentCase
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import LawViolation
from lineage.oracle import calls
from lineage.oracle.calls import DEFAULT_TIME_LIMIT
from lineage.oracle.conventions import CONVENTIONS, Convention
from lineage.oracle.conventions.base import InputWritten
from lineage.oracle.conventions.per_trajectory import PerTrajectory
from lineage.oracle.errors import oracle_error
from lineage.oracle.numerics import FRAMEWORKS, Numerics
from lineage.oracle.targets import Target


@dataclass(frozen=True)
class Problem:
    check: str
    message: str


@dataclass(frozen=True)
class Preflight:
    """What the preflight found: the problems (none: the laws may run), the target the laws run against (the
    one given, or it called once per trajectory) and notes for the report."""

    target: Target
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def preflight(target: Target, time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[Problem]:
    """The list of problems found (empty: the laws may run); :func:`run_preflight` has the rest."""
    return run_preflight(target, time_limit).problems


def run_preflight(target: Target, time_limit: float | None = DEFAULT_TIME_LIMIT) -> Preflight:
    """Check ``target`` before its laws. Every call of the target waits at most ``time_limit`` seconds (None: no
    limit); modules the convention imports are imported before the first call, so the limit does not count
    their import."""
    for module in _modules_to_import(target):
        with contextlib.suppress(ImportError):  # the call itself will say what is missing
            importlib.import_module(module)
    try:
        with calls.time_limit(time_limit):
            return _preflight(target)
    except Exception as error:  # lineage's own code raised: a problem to report, never a crash
        return Preflight(target, [Problem("oracle error", oracle_error("checking the target", error))])


def _preflight(target: Target) -> Preflight:
    case = CONTRACTS[target.contract].trivial
    adapted = target.as_contract()
    first, problem = _trivial_call(adapted, target.contract, case)
    if problem and problem.check == "inputs unchanged":
        return Preflight(target, [problem])
    if problem:
        return Preflight(target, [_explained(target, problem)])
    second, problem = _trivial_call(adapted, target.contract, case)
    if problem is not None and problem.check == "callable":
        message = problem.message.removeprefix("on a trivial input: ")
        text = f"the first call on a trivial input returned, the second failed: {message}"
        return Preflight(target, [Problem("deterministic", text)])
    if problem is not None:
        return Preflight(target, [problem])
    problems = [] if np.array_equal(first, second) else [Problem("deterministic", _disagreement(first, second))]
    if problems:
        return Preflight(target, problems)
    return _batch_probe(target, case)


def _trivial_call(adapted, contract: str, case):
    """(output, None) or (None, Problem): a LawViolation is the "callable" problem, and a call that does not
    return within the time limit (or a target still stuck in an earlier call) the "time limit" problem."""
    try:
        return call(CONTRACTS[contract], adapted, case)[0], None
    except (calls.CallTimedOut, calls.StillRunning) as timeout:
        return None, _time_limit_problem(timeout, "a trivial input")
    except InputWritten as violation:  # every call of the target is checked for it (Convention.adapt)
        return None, Problem("inputs unchanged", str(violation))
    except LawViolation as violation:
        return None, Problem("callable", f"on a trivial input: {violation}")


def _time_limit_problem(timeout: BaseException, what: str) -> Problem:
    if isinstance(timeout, calls.CallTimedOut):
        return Problem("time limit", f"{what} did not return within {timeout.seconds:g} s")
    return Problem("time limit", str(timeout))


def _modules_to_import(target: Target) -> tuple[str, ...]:
    framework = ("torch",) if target.numerics.framework == "torch" else ()
    return (*framework, *target.convention.imports)


# ----------------------------------------------------------------------------------------------------
# Guidance when the trivial call fails
# ----------------------------------------------------------------------------------------------------
def _explained(target: Target, problem: Problem) -> Problem:
    """The trivial call's problem with what the convention calls and, if found, the option that would fit."""
    if problem.check != "callable":
        return problem
    convention = target.convention
    signature = convention.signatures[target.contract]
    lines = [problem.message]
    if signature not in problem.message:
        lines.append(f"the {convention.name} convention calls {signature}")
    for hint in (_convention_hint, _framework_hint):
        try:
            lines.append(hint(target))
        except Exception:  # a hint lineage cannot work out is left out, never a reason to fail the check
            continue
    return Problem(problem.check, "\n    ".join(line for line in lines if line))


def _framework_hint(target: Target) -> str:
    """Retry the trivial call with the other framework's arrays; if that works, name the option."""
    if target.convention.fixed_numerics:
        return ""
    given = target.numerics.framework
    other = next(framework for framework in FRAMEWORKS if framework != given)
    retry = dataclasses.replace(target, numerics=Numerics(other, target.numerics.dtype))
    try:
        call(CONTRACTS[target.contract], retry.as_contract(), CONTRACTS[target.contract].trivial)
    except (LawViolation, calls.CallTimedOut, calls.StillRunning, ImportError):
        return ""
    kind = {"torch": "torch tensors", "numpy": "numpy arrays"}
    return (
        f"with {kind[other]} instead of {kind[given]} the call succeeds: pass framework={other!r} "
        f"(command line --framework {other}, pytest --lineage-framework {other})"
    )


def _convention_hint(target: Target) -> str:
    """When the convention's arguments do not fit the target's signature, the conventions whose signature for
    this contract has the target's parameter names."""
    names = _parameter_names(target.function)
    if not names or _arguments_fit(target):
        return ""
    scores = {}
    for convention in CONVENTIONS.values():
        signature = convention.signatures.get(target.contract)
        if signature is not None:
            theirs = set(signature_names(signature))
            scores[convention.name] = len(theirs & set(names)) / len(theirs | set(names))
    best = max(scores.values(), default=0.0)
    current = _inner(target.convention).name
    matches = [name for name, score in scores.items() if score == best and name != current]
    if best < 0.5 or not matches or scores.get(current, 0.0) >= best:
        return ""
    which = "; ".join(f"the {name} convention ({CONVENTIONS[name].signatures[target.contract]})" for name in matches)
    options, first = " or ".join(repr(name) for name in matches), matches[0]
    return (
        f"the target's parameters ({', '.join(names)}) match {which}: pass convention={options} (command line "
        f"--convention {first}, pytest --lineage-convention {first})"
    )


def _parameter_names(function) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return []
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in parameters if p.kind not in variadic and p.name != "self"]


def signature_names(signature: str) -> list[str]:
    """The parameter names in a convention's signature text: ``target(rewards, values, *, gamma) -> ...`` →
    ``["rewards", "values", "gamma"]`` (the first parenthesised list)."""
    found = re.search(r"\(([^()]*)\)", signature)
    if not found:
        return []
    names = (part.strip().split("=")[0].strip().lstrip("*") for part in found.group(1).split(","))
    return [name for name in names if name.isidentifier()]


def _arguments_fit(target: Target) -> bool:
    """Whether the convention's calls on the trivial input bind to the target's signature (True when that
    cannot be told: a convention that drives a class, a callable without a signature)."""
    convention = _inner(target.convention)
    if type(convention).execute is not Convention.execute:
        return True
    try:
        signature = inspect.signature(target.function)
    except (TypeError, ValueError):
        return True
    case = CONTRACTS[target.contract].trivial
    params = {p: getattr(case, p) for p in CONTRACTS[target.contract].parameters}
    try:
        for target_call in convention.calls(target.contract, case.inputs(), params):
            signature.bind(*(value for _, value in target_call.args), **target_call.kwargs)
    except TypeError:
        return False
    return True


def _inner(convention: Convention) -> Convention:
    return convention.inner if isinstance(convention, PerTrajectory) else convention


# ----------------------------------------------------------------------------------------------------
# Determinism, inputs, one trajectory per call
# ----------------------------------------------------------------------------------------------------
def _disagreement(first: np.ndarray, second: np.ndarray) -> str:
    """Where two outputs of the same input differ: first index, both values in full precision, max |diff|."""
    differ = first != second
    index = tuple(int(i) for i in np.argwhere(differ)[0])
    at = "" if not index else f" at index {index[0] if len(index) == 1 else index}"
    return (
        f"two calls on the same input disagree: first difference{at}: {float(first[index])!r} vs "
        f"{float(second[index])!r} (max |diff| {float(np.max(np.abs(first - second))):.3g}; "
        f"{int(differ.sum())} of {differ.size} entries differ)"
    )


def _batch_probe(target: Target, case) -> Preflight:
    """Call a return/advantage target that gets a [T, B] batch in one call with a [T, B] input too; a target
    that fails on it is called once per trajectory (see the module's docstring)."""
    if not isinstance(case, SegmentCase) or not target.convention.capabilities.batch_in_call:
        return Preflight(target)
    batched = case.on(Segment(*([[x, x] for x in rows] for rows in _fields(case.segment))))
    try:
        call(CONTRACTS[target.contract], target.as_contract(), batched)
    except (calls.CallTimedOut, calls.StillRunning) as timeout:
        return Preflight(target, [_time_limit_problem(timeout, "a [T, B] input")])
    except LawViolation as violation:
        note = (
            "the target takes one trajectory per call: it returns on a [T] input and fails on a [T, B] input "
            f"({str(violation).splitlines()[0]}); its laws call it once per batch column, and the laws about "
            "batches are not applicable"
        )
        per_trajectory = dataclasses.replace(target, convention=PerTrajectory(target.convention))
        return Preflight(per_trajectory, notes=[note])
    return Preflight(target)


def _fields(segment: Segment) -> list[list]:
    return [getattr(segment, f.name) for f in dataclasses.fields(segment)]
