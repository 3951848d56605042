"""lineage's own convention (``lineage.returns.segment``): the contract's arguments and keyword parameters as is.

The gradient laws of the torch losses (capability ``autograd``) call the adapted target with torch tensors that require
grad: with the torch framework they reach the target as they are (cast to the chosen dtype, which keeps the graph)
and its output comes back untouched, for the law to differentiate. With the numpy framework the target is a numpy
function, handed numpy arrays: ``passes_tensors`` is False and the gradient laws pass vacuously.
"""

from __future__ import annotations

from lineage.arrays import is_torch
from lineage.laws.contracts import CONTRACTS
from lineage.oracle.capabilities import Capabilities
from lineage.oracle.conventions.base import Convention, TargetCall, invoke


class Canonical(Convention):
    name = "canonical"
    summary = "lineage's segment contract: rewards, values, next_values, terminated, truncated; [T] or [T, B]"
    capabilities = Capabilities(autograd=True)
    signatures = {name: contract.signature() for name, contract in CONTRACTS.items()}

    def calls(self, contract, arrays, params):
        positional = [(name, arrays[name]) for name in CONTRACTS[contract].arguments]
        return [TargetCall(positional, dict(params))]

    def adapt(self, contract, function, numerics=None):
        numerics = numerics or self.numerics
        as_contract = super().adapt(contract, function, numerics)
        if numerics.framework != "torch":
            as_contract.passes_tensors = False
            return as_contract
        arguments = CONTRACTS[contract].arguments

        def with_tensors(*args, **params):
            if not any(is_torch(value) for value in args):
                return as_contract(*args, **params)
            import torch

            dtype = getattr(torch, numerics.dtype)
            converted = [value.to(dtype) if is_torch(value) and value.is_floating_point() else value for value in args]
            return invoke(self, function, list(zip(arguments, converted, strict=True)), dict(params))

        with_tensors.__name__ = as_contract.__name__
        return with_tensors
