"""The return/advantage functions beyond their argument checks (those are test_returns_segment_validation.py):
float32 stays float32, empty segments, inputs left alone, all-torch calls and tensors on another device."""

import numpy as np
import pytest
import torch

import lineage

T = 3
GOOD = {
    "rewards": np.zeros(T),
    "values": np.zeros(T),
    "next_values": np.zeros(T),
    "terminated": np.zeros(T, dtype=bool),
    "truncated": np.zeros(T, dtype=bool),
}
FUNCTIONS = {
    "td_errors": (lineage.td_errors, ("rewards", "values", "next_values", "terminated"), {"gamma": 0.9}),
    "discounted_returns": (
        lineage.discounted_returns,
        ("rewards", "next_values", "terminated", "truncated"),
        {"gamma": 0.9},
    ),
    "n_step_advantages": (lineage.n_step_advantages, tuple(GOOD), {"gamma": 0.9, "n": 2}),
    "gae": (lineage.gae, tuple(GOOD), {"gamma": 0.9, "lam": 0.95}),
    "lambda_returns": (lineage.lambda_returns, tuple(GOOD), {"gamma": 0.9, "lam": 0.95}),
}


def call(name, **changes):
    function, arguments, params = FUNCTIONS[name]
    inputs = {**GOOD, **params, **changes}
    return function(**{k: inputs[k] for k in (*arguments, *params)})


@pytest.mark.parametrize("name", FUNCTIONS)
def test_float32_in_float32_out_and_empty_segments(name):
    as32 = {k: v.astype(np.float32) for k, v in GOOD.items() if v.dtype != bool}
    assert call(name, **as32).dtype == np.float32
    empty = {k: v[:0] for k, v in GOOD.items()}
    assert call(name, **empty).shape == (0,)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_inputs_are_not_modified(name):
    inputs = {k: v.copy() + (0.5 if v.dtype != bool else False) for k, v in GOOD.items()}
    snapshot = {k: v.copy() for k, v in inputs.items()}
    call(name, **inputs)
    for key, array in inputs.items():
        np.testing.assert_array_equal(array, snapshot[key], err_msg=key)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_all_torch_segments_are_checked_like_numpy_ones(name):
    """All arguments tensors: a shape mismatch, a NaN and float flags are still named."""
    tensors = {k: torch.from_numpy(v.copy()) for k, v in GOOD.items()}
    _, arguments, _ = FUNCTIONS[name]
    for argument in arguments[1:]:
        bad = torch.zeros(T + 1, dtype=tensors[argument].dtype)
        with pytest.raises(ValueError, match=rf"^{argument}: expected shape"):
            call(name, **{**tensors, argument: bad})
    with pytest.raises(ValueError, match=r"^rewards: every entry must be finite"):
        call(name, **{**tensors, "rewards": torch.tensor([0.0, float("nan"), 0.0])})
    with pytest.raises(ValueError, match=r"^terminated: expected bool flags"):
        call(name, **{**tensors, "terminated": torch.zeros(T)})


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_tensor_on_another_device_is_named(name):
    """The device of a torch call is the first tensor's; a tensor elsewhere is refused, as torch refuses it."""
    _, arguments, _ = FUNCTIONS[name]
    last = arguments[-1]
    elsewhere = torch.zeros(
        T, dtype=torch.bool if last in ("terminated", "truncated") else torch.float64, device="meta"
    )
    with pytest.raises(ValueError, match=rf"^{last}: a tensor on meta"):
        call(name, rewards=torch.zeros(T, dtype=torch.float64), **{last: elsewhere})
