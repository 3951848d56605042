"""Laws: claims of the notes stated about *a target function*, runnable against any implementation.

A :class:`Law` pairs a check ``check(target, case)`` with the Hypothesis strategy that draws its cases,
the claim ids it confirms, the section of the notes, and the law in words (the check's docstring).
``law.verify(target)`` searches for a counterexample and, on failure, raises the minimal
:class:`LawViolation` with expected vs got; the tests of this package bind every law to lineage's own
implementation, and the oracle binds the same laws to other people's code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import example, given
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as Settings
from hypothesis.statistics import collector
from hypothesis.strategies import SearchStrategy

from lineage.registry import Registry


class LawViolation(AssertionError):
    """A target broke a law; ``expected``/``got``/``index`` locate the first disagreement, ``allowed`` is the
    ``case`` (set by :meth:`Law.verify`) is the input that broke it."""

    def __init__(self, message: str, *, expected=None, got=None, index=None):
        super().__init__(message)
        self.expected, self.got, self.index = expected, got, index
        self.case = None
        self.calls: list = []  # every input the target was called with while the law failed


class LawAborted(BaseException):
    """Ends a law's search at once, without shrinking: Hypothesis treats only ``Exception`` (and ``SystemExit``,
    ``GeneratorExit``) as a failing example, so this ``BaseException`` propagates out of the search. The oracle
    raises it when a call of the target did not return in time; ``case`` and ``calls`` are set as for
    :class:`LawViolation`."""

    def __init__(self, message: str):
        super().__init__(message)
        self.case = None
        self.calls: list = []


_CALLS: ContextVar[list | None] = ContextVar("lineage_law_calls", default=None)


def record_call(case) -> None:
    """Note an input handed to the target (kept for the report of a failing law)."""
    calls = _CALLS.get()
    if calls is not None:
        calls.append(case)


@contextmanager
def counting_examples() -> Iterator[list[int]]:
    """Count the examples Hypothesis runs inside the block (``counter[0]``), passing its statistics on to
    any outer listener (pytest's --hypothesis-show-statistics, an enclosing counter)."""
    outer, counter = collector.value, [0]

    def note(stats: dict) -> None:
        counter[0] += sum(len(phase["test-cases"]) for phase in stats.values() if isinstance(phase, dict))
        if outer is not None:
            outer(stats)

    with collector.with_value(note):
        yield counter


@contextmanager
def recording_calls() -> Iterator[list]:
    token = _CALLS.set([])
    try:
        yield _CALLS.get()
    finally:
        _CALLS.reset(token)


@dataclass(frozen=True)
class Law:
    contract: str
    name: str
    claims: tuple[str, ...]
    section: str
    cases: SearchStrategy
    check: Callable[[Callable, Any], None]
    examples: tuple = ()
    requires: frozenset[str] = frozenset()  # capabilities a calling convention needs for the law to apply

    @property
    def id(self) -> str:
        return f"{self.contract}.{self.name}"

    @property
    def statement(self) -> str:
        """The law in words and formula: the check's docstring."""
        return inspect.cleandoc(self.check.__doc__ or "")

    def header(self) -> str:
        return f"law {self.id} ({', '.join(self.claims)}; notes {self.section}):\n{self.statement}"

    def verify(
        self,
        target: Callable,
        settings: Settings | None = None,
        restrict: Callable | None = None,
        pinned: tuple = (),
        seed: int | None = None,
    ) -> None:
        """Search for a case where ``target`` breaks the law; raise the minimal violation if found.
        The law's own examples and the ``pinned`` cases (the bug zoo's minimal inputs for this law) run first;
        ``restrict`` maps every case to one the target's calling convention can express; ``seed`` fixes
        Hypothesis' random choices (``hypothesis.seed``: the same seed draws the same cases)."""

        def run(case):
            with recording_calls() as calls:
                try:
                    self.check(target, case)
                except (LawViolation, LawAborted) as violation:
                    violation.case, violation.calls = case, list(calls)
                    raise

        run.__name__ = run.__qualname__ = self.name
        restrict = restrict or (lambda case: case)
        test = given(case=self.cases.map(restrict))(run)
        for case in reversed((*self.examples, *pinned)):
            test = example(case=restrict(case))(test)
        if settings is not None:
            test = settings(test)
        if seed is not None:
            test = hypothesis_seed(seed)(test)
        test.hypothesis.inner_test._hypothesis_internal_add_digest = self.id.encode()
        try:
            test()
        except LawViolation as violation:
            violation.add_note(self.header())
            raise


LAWS: Registry[Law] = Registry(
    "law",
    modules=(
        "lineage.laws.returns",
        "lineage.laws.gae_expectation",
        "lineage.laws.losses",
        "lineage.laws.kl",
        "lineage.laws.rlhf",
        "lineage.laws.normalization",
        "lineage.laws.pg",
        "lineage.laws.optim",
    ),
)


def law(
    contract: str,
    *,
    claims: tuple[str, ...],
    section: str,
    cases: SearchStrategy,
    examples: tuple = (),
    requires: frozenset[str] = frozenset(),
) -> Callable:
    """Register the decorated ``check(target, case)`` as a law of ``contract``; the law's name is the check's
    Python name, so a law's id is ``contract.check_name``."""

    def register(check: Callable) -> Callable:
        new = Law(contract, check.__name__, tuple(claims), section, cases, check, tuple(examples), frozenset(requires))
        LAWS.register(new.id, new, check.__module__)
        return check

    return register


def laws_for(contract: str) -> list[Law]:
    """The laws of one contract, in registration order."""
    return [law for law in LAWS.values() if law.contract == contract]


def expect_close(what: str, got: np.ndarray, expected: np.ndarray, atol: np.ndarray) -> None:
    """Raise :class:`LawViolation` at the first entry where |got − expected| > atol."""
    diff = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(expected, dtype=np.float64))
    bad = ~(diff <= atol)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = index if len(index) > 1 else index[0]
    allowed = np.broadcast_to(atol, diff.shape)[index]
    raise LawViolation(
        f"{what}: first difference at index {at}: expected {float(expected[index])!r}, "
        f"got {float(got[index])!r} (|diff| {diff[index]:.3g} > tolerance {allowed:.3g}); "
        f"{int(bad.sum())} of {bad.size} entries differ\n"
        f"  expected: {significant(expected)}\n  got:      {significant(got)}",
        expected=expected,
        got=got,
        index=at,
    )


def significant(values) -> str:
    """An array as a list with 12 significant digits (tiny numbers stay visible, float noise stays short; −0 is
    shown as 0)."""
    array = np.asarray(values, dtype=np.float64) + 0.0
    return np.array2string(array, separator=", ", formatter={"float_kind": lambda x: f"{x:.12g}"}, threshold=10**6)
