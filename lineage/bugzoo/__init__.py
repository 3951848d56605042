"""The bug zoo: named, deliberately wrong implementations of lineage's contracts.

Each entry reproduces a real bug (``spec/library-conventions.md`` §4) or a classic mistake, cites
where it comes from, and names the law that must reject it. The zoo proves the laws have teeth (a
test runs every entry against its law) and, later, lets the oracle name a likely cause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bug:
    name: str
    contract: str
    function: Callable
    caught_by: str  # id of the law that must reject it, e.g. "gae.lambda_zero_is_td_error"
    source: str
    description: str


BUGS: dict[str, Bug] = {}


def bug(name: str, *, contract: str, caught_by: str, source: str) -> Callable:
    """Register the decorated function as a bug-zoo entry; its docstring describes the mistake."""

    def register(function: Callable) -> Callable:
        entry = Bug(name, contract, function, caught_by, source, (function.__doc__ or "").strip())
        if entry.name in BUGS:
            raise ValueError(f"name: bug {name!r} is registered twice")
        BUGS[entry.name] = entry
        return function

    return register


from lineage.bugzoo import gae as _gae  # noqa: E402,F401  (registers the GAE entries)
