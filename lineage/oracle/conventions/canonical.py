"""lineage's own convention (``lineage.returns.segment``): the contract's arguments and keyword parameters as is."""

from __future__ import annotations

from lineage.laws.contracts import CONTRACTS
from lineage.oracle.conventions.base import Convention, TargetCall


class Canonical(Convention):
    name = "canonical"
    summary = "lineage's segment contract: rewards, values, next_values, terminated, truncated; [T] or [T, B]"
    signatures = {name: contract.signature() for name, contract in CONTRACTS.items()}

    def calls(self, contract, arrays, params):
        positional = [(name, arrays[name]) for name in CONTRACTS[contract].arguments]
        return [TargetCall(positional, dict(params))]
