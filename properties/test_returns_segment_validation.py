"""The rollout-segment contract's input checks (``lineage/returns/segment.py``; claims STD-TT-1, STD-TT-2; notes §PPO)
for every return and advantage function: a segment that breaks the contract in one argument raises ``ValueError``
whose message starts with that argument's name, in numpy and in torch; every segment the contract allows is accepted,
its boundaries included (T = 1 and T = 0, ``[T]`` and ``[T, B]``, no episode end, every step done, both flags set at
once — termination wins, it is not a conflict — and γ, λ at 0 and 1).

The invalid inputs are drawn, not listed: one argument of a valid segment is replaced by a mistake of its kind (a
non-finite entry anywhere, a wrong length, a wrong or missing axis, another batch width, strings, complex numbers or
bools for numbers, 0/1 numbers for flags, a discount just outside [0, 1], a horizon below 1 or not an integer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lineage

SEGMENT = ("rewards", "values", "next_values", "terminated", "truncated")
FLAGS = ("terminated", "truncated")
FUNCTIONS = {
    "td_errors": (lineage.td_errors, ("rewards", "values", "next_values", "terminated"), ("gamma",)),
    "discounted_returns": (lineage.discounted_returns, ("rewards", "next_values", *FLAGS), ("gamma",)),
    "n_step_advantages": (lineage.n_step_advantages, SEGMENT, ("gamma", "n")),
    "gae": (lineage.gae, SEGMENT, ("gamma", "lam")),
    "lambda_returns": (lineage.lambda_returns, SEGMENT, ("gamma", "lam")),
}
BAD_DISCOUNTS = [-5e-324, -0.5, float(np.nextafter(1.0, 2.0)), 2.0, math.nan, math.inf, -math.inf, True, "0.9", None]
BAD_HORIZONS = [0, -1, 1.5, 2.0, True, "2", None]


@dataclass(frozen=True)
class SegmentCall:
    """One call of a return/advantage function: its name, its segment arrays (numpy) and its keyword parameters."""

    function: str
    arrays: dict
    params: dict
    framework: str = "numpy"

    def run(self):
        function, _, _ = FUNCTIONS[self.function]
        as_input = _as_tensor if self.framework == "torch" else lambda a: a
        return function(**{k: as_input(a) for k, a in self.arrays.items()}, **self.params)


def _as_tensor(a):
    """A numpy array as a torch tensor; anything torch cannot hold (strings, ragged lists) is passed as it is."""
    return torch.from_numpy(a) if isinstance(a, np.ndarray) and a.dtype.kind in "biufc" else a


unit_interval = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))


@st.composite
def valid_calls(draw, *, min_length: int = 0, function: str | None = None) -> SegmentCall:
    """A function (drawn unless given) and a segment of T ∈ [min_length, 5] steps, ``[T]`` or ``[T, B]`` with
    B ∈ {1, 3}, rewards and values in [−10, 10]; flags all False, all True or mixed, each on its own (so both are
    set at once too); γ, λ ∈ [0, 1] with both ends drawn, n ∈ [1, T + 1]."""
    name = function or draw(st.sampled_from(sorted(FUNCTIONS)), label="function")
    _, arguments, parameters = FUNCTIONS[name]
    length = draw(st.integers(min_length, 5), label="T")
    shape = (length, *draw(st.sampled_from([(), (1,), (3,)]), label="batch"))
    numbers = arrays(np.float64, shape, elements=st.floats(-10.0, 10.0))
    flags = st.one_of(st.just(np.zeros(shape, bool)), st.just(np.ones(shape, bool)), arrays(bool, shape))
    segment = {name: draw(flags if name in FLAGS else numbers, label=name) for name in arguments}
    values = {"gamma": unit_interval, "lam": unit_interval, "n": st.integers(1, length + 1)}
    params = {p: draw(values[p], label=p) for p in parameters}
    return SegmentCall(name, segment, params, draw(st.sampled_from(["numpy", "torch"]), label="framework"))


@st.composite
def broken_arrays(draw, argument: str, valid: np.ndarray, framework: str) -> np.ndarray | list:
    """A mistake in one segment array: the wrong kind of entries, or (for every argument but rewards, whose shape
    the others must match) the wrong shape; rewards instead get a time axis the contract does not allow."""
    shape = valid.shape
    if argument == "rewards":
        wrong_shapes = [(), (*shape, 1) if len(shape) == 2 else (*shape, 1, 1)]
    else:
        wrong_shapes = [(shape[0] + 1, *shape[1:]), (*shape, 1), shape[1:] or (shape[0], 2)]
        if len(shape) == 2:
            wrong_shapes.append((shape[0], shape[1] + 1))
    kinds = ["shape"]
    if argument in FLAGS:
        kinds += ["0/1 floats", "0/1 integers"]
    else:
        kinds += ["non-finite", "bools", "complex"] + (["strings", "ragged"] if framework == "numpy" else [])
    kind = draw(st.sampled_from(kinds), label=f"broken {argument}")
    if kind == "shape":
        wrong = draw(st.sampled_from(wrong_shapes), label="shape")
        return np.zeros(wrong, dtype=valid.dtype)
    if kind == "non-finite":
        broken = valid.copy()
        broken[draw(st.sampled_from(list(np.ndindex(shape))), label="at")] = draw(
            st.sampled_from([math.nan, math.inf, -math.inf]), label="entry"
        )
        return broken
    return {
        "0/1 floats": lambda: valid.astype(np.float64),
        "0/1 integers": lambda: valid.astype(np.int64),
        "bools": lambda: valid != 0,
        "complex": lambda: valid.astype(np.complex128),
        "strings": lambda: valid.astype(str),
        "ragged": lambda: [[0.0], [0.0, 0.0]],
    }[kind]()


@st.composite
def invalid_calls(draw, function: str, argument: str) -> SegmentCall:
    """A valid call of ``function`` with T ≥ 1 steps and its ``argument`` broken."""
    call = draw(valid_calls(min_length=1, function=function))
    if argument in call.arrays:
        bad = draw(broken_arrays(argument, call.arrays[argument], call.framework))
        return replace(call, arrays={**call.arrays, argument: bad})
    bad = draw(st.sampled_from(BAD_HORIZONS if argument == "n" else BAD_DISCOUNTS), label=argument)
    return replace(call, params={**call.params, argument: bad})


# Every (function, argument) pair is a test of its own, so none is left to the luck of a draw; 25 examples each
# cover the at most 7 kinds of mistake of one argument.
ARGUMENTS = [(name, a) for name, (_, arrays_, params) in sorted(FUNCTIONS.items()) for a in (*arrays_, *params)]


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@pytest.mark.parametrize(("function", "argument"), ARGUMENTS)
@settings(max_examples=25)
@given(data=st.data())
def test_a_broken_argument_raises_value_error_naming_it(function, argument, data):
    """STD-TT-1, STD-TT-2 (notes §PPO): breaking any one argument of a valid segment call raises ValueError whose
    message starts with ``<argument>:`` — never another exception, another argument's name or a silent result; a
    shape mismatch also names rewards, the array whose shape the others must have."""
    call = data.draw(invalid_calls(function, argument), label="call")
    with pytest.raises(ValueError) as raised:
        call.run()
    message = str(raised.value)
    assert message.startswith(f"{argument}:"), f"broke {argument!r}, the message names another: {message}"
    if " like " in message:  # a shape that differs from the rewards' names the array it was compared with
        assert " like rewards," in message, f"broke {argument!r}'s shape, the message blames another: {message}"


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@given(call=valid_calls())
def test_every_segment_the_contract_allows_is_accepted(call):
    """STD-TT-1, STD-TT-2 (notes §PPO): T = 0 or 1, ``[T]`` or ``[T, B]``, no episode end, every step done, both
    flags set on a step, γ and λ at 0 or 1: no error, and one finite output per step in the rewards' shape."""
    out = call.run()
    out = out.numpy() if call.framework == "torch" else out
    shape = call.arrays["rewards"].shape
    assert out.shape == shape, f"{call.function}: output shape {out.shape} for rewards of shape {shape}"
    assert np.all(np.isfinite(out)), f"{call.function}: non-finite output {out!r}"
