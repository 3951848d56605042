"""The bug zoo: named, deliberately wrong implementations of lineage's contracts.

Each entry reproduces a real bug (SB3, CleanRL, TorchRL, Tianshou, TRL, Spinning Up; each entry cites its issue) or a
classic mistake, cites where it comes from, names the law that must reject it and carries the minimal input that shows
it (a case of that law, usually the one from the bug report). The zoo proves the laws have teeth (a test runs every
entry against its law), pins each minimal input as an explicit example of its law (so every target, not only the zoo,
meets the known bugs' inputs first), and lets the oracle name a likely cause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lineage.registry import Registry


@dataclass(frozen=True)
class Bug:
    name: str
    contract: str
    function: Callable
    caught_by: str  # id of the law that must reject it, e.g. "gae.lambda_zero_is_td_error"
    source: str
    description: str
    counterexample: object  # a case of that law on which the bug shows


def pinned_cases(law_id: str) -> tuple:
    """The minimal inputs of the known bugs a law is responsible for, to run before any random case."""
    return tuple(b.counterexample for b in BUGS.values() if b.caught_by == law_id)


BUGS: Registry[Bug] = Registry(
    "bug",
    modules=(
        "lineage.bugzoo.gae",
        "lineage.bugzoo.losses",
        "lineage.bugzoo.returns",
        "lineage.bugzoo.optim",
        "lineage.bugzoo.pg",
    ),
)


def bug(name: str, *, contract: str, caught_by: str, source: str, counterexample) -> Callable:
    """Register the decorated function as a bug-zoo entry; its docstring describes the mistake."""

    def register(function: Callable) -> Callable:
        description = (function.__doc__ or "").strip()
        entry = Bug(name, contract, function, caught_by, source, description, counterexample)
        BUGS.register(entry.name, entry, function.__module__)
        return function

    return register
