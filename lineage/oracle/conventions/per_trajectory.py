"""A convention's calls, one per trajectory: for a target that only takes [T] arrays.

The preflight finds such a target (it returns on the trivial [T] input and fails on a [T, B] one) and runs its
laws through this wrapper: a [T, B] case becomes B calls, one column each, in the wrapped convention's layout
(as the rlax convention does for a library that vmaps over a batch), and the laws about batches are "not
applicable: the target takes one trajectory per call". Everything else (arguments, framework, the rendering of
a repro) is the wrapped convention's. Not a convention of its own: it is not in ``CONVENTIONS``.
"""

from __future__ import annotations

import dataclasses

from lineage.oracle.conventions.base import Convention, TargetCall, columns


class PerTrajectory(Convention):
    def __init__(self, inner: Convention) -> None:
        self.inner = inner
        self.name, self.summary = inner.name, f"{inner.summary}; one trajectory per call"
        self.capabilities = dataclasses.replace(inner.capabilities, batch_in_call=False)
        self.numerics, self.fixed_numerics = inner.numerics, inner.fixed_numerics
        self.signatures, self.imports = inner.signatures, inner.imports

    def calls(self, contract, arrays, params):
        out = []
        for place, column in columns(arrays):
            for call in self.inner.calls(contract, column, params):
                steps = call.place[0] if isinstance(call.place, tuple) else call.place
                steps = slice(None) if steps is Ellipsis else steps
                out.append(dataclasses.replace(call, place=(steps, *place[1:])))
        return out

    def prepare(self, call: TargetCall, numerics):
        return self.inner.prepare(call, numerics)

    def execute(self, function, args, kwargs):
        return self.inner.execute(function, args, kwargs)

    def render(self, label, call, numerics):
        return self.inner.render(label, call, numerics)
