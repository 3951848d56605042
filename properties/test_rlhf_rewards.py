"""The per-token RLHF reward builder on every mask layout (notes §PPO, RLHF part; claims RLHF-1, RLHF-2, STD-RLHF-1).

The laws of the ``token_rewards`` contract (``lineage.laws.rlhf``: the per-token form, the sum over a response, padding
ignored) run against lineage through ``test_laws.py``; their strategy draws right padding, left padding, gaps and
full rows. Here the per-token and padding laws run once more with a left-padded example pinned, and one law says
where the reference model enters: only through the KL term.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import example, given

from lineage.laws.cases.losses import TokenRewardCase, token_reward_cases
from lineage.laws.contracts import CONTRACTS
from lineage.laws.rlhf import padding_is_ignored, per_token_form
from lineage.laws.tolerance import scaled_tolerance
from lineage.rlhf import token_rewards

FLOAT_ARGUMENTS = ("scores", "logp", "ref_logp")
DTYPE_COMBINATIONS = list(itertools.product([np.float32, np.float64], repeat=len(FLOAT_ARGUMENTS)))

# A left-padded response next to a full-length one (left padding misaligned TRL's masks: PR #1718).
LEFT_PADDED = TokenRewardCase(
    scores=[1.0, -2.0],
    logp=[[0.0, -0.5, -1.2], [-0.3, -0.4, -0.6]],
    ref_logp=[[0.0, -0.7, -1.0], [-0.3, -0.9, -0.1]],
    mask=[[False, True, True], [True, True, True]],
    beta=0.1,
)


@pytest.mark.claim("RLHF-1", "STD-RLHF-1")
@given(case=token_reward_cases())
@example(case=LEFT_PADDED)
def test_per_token_form_and_padding_laws_hold_for_every_mask_layout(case):
    """RLHF-1, STD-RLHF-1 (notes §PPO, RLHF part): r_t = −β(log π − log π_ref) on every valid token, the score
    added on the last valid one, 0 on padding, and padded log-probabilities never matter — for left padding
    and gapped masks too (the contract laws ``per_token_form`` and ``padding_is_ignored``)."""
    per_token_form(token_rewards, case)
    padding_is_ignored(token_rewards, case)


@pytest.mark.claim("RLHF-2")
@given(case=token_reward_cases())
def test_a_reference_equal_to_the_policy_leaves_only_the_score(case):
    """RLHF-2 (notes §PPO, RLHF part): the reference model enters only through −β(log π − log π_ref), so with
    π_ref = π every token gets 0 and the last valid token exactly its score — whatever β and log π are."""
    inputs = case.inputs()
    got = token_rewards(inputs["scores"], inputs["logp"], inputs["logp"], inputs["mask"], beta=case.beta)
    expected = np.zeros_like(got)
    for row, flags in enumerate(case.mask):
        expected[row, max(t for t, valid in enumerate(flags) if valid)] = case.scores[row]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.claim("STD-RLHF-1")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_in_torch_out_with_the_same_rewards(dtype):
    """STD-RLHF-1: torch tensors in give a tensor of their dtype out, equal to the numpy result in that dtype."""
    case = CONTRACTS["token_rewards"].trivial
    arrays = case.inputs()
    tensors = {name: torch.tensor(a, dtype=torch.bool if a.dtype == bool else dtype) for name, a in arrays.items()}
    got = token_rewards(**tensors, beta=case.beta)
    numpy_dtype = np.float32 if dtype == torch.float32 else np.float64
    floats = {name: a if a.dtype == bool else a.astype(numpy_dtype) for name, a in arrays.items()}
    assert isinstance(got, torch.Tensor) and got.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), token_rewards(**floats, beta=case.beta))


def exact_token_rewards(inputs: dict[str, np.ndarray], beta: float) -> np.ndarray:
    """−β(log π − log π_ref) on valid tokens, 0 on padding, plus the score on each row's last valid token, in exact
    rational arithmetic on the given floats."""
    mask = inputs["mask"]
    rewards = np.full(mask.shape, Fraction(0), dtype=object)
    for row, column in zip(*np.nonzero(mask), strict=True):
        difference = Fraction(float(inputs["logp"][row, column])) - Fraction(float(inputs["ref_logp"][row, column]))
        rewards[row, column] = -Fraction(beta) * difference
    for row, flags in enumerate(mask):
        rewards[row, np.flatnonzero(flags)[-1]] += Fraction(float(inputs["scores"][row]))
    return rewards


@pytest.mark.claim("STD-RLHF-1", "RLHF-1")
@given(case=token_reward_cases())
@example(case=LEFT_PADDED)
def test_rewards_come_out_in_the_promotion_of_every_float_input(case):
    """STD-RLHF-1, RLHF-1 (notes §PPO, RLHF part), the array rule: for each of the 8 float32/float64 combinations of
    scores, log π and log π_ref, in numpy and in torch, the rewards have the promoted dtype (float64 as soon as one of
    the three is float64) and are the per-token form evaluated in it: within that dtype's rounding of the exact value,
    so a float64 input never passes through float32."""
    float64_inputs = case.inputs()
    largest = {name: float(np.abs(float64_inputs[name]).max()) for name in FLOAT_ARGUMENTS}
    magnitude = case.beta * (largest["logp"] + largest["ref_logp"]) + largest["scores"]
    for dtypes in DTYPE_COMBINATIONS:
        cast = {name: float64_inputs[name].astype(d) for name, d in zip(FLOAT_ARGUMENTS, dtypes, strict=True)}
        inputs = {**float64_inputs, **cast}
        promoted = np.result_type(*dtypes)
        expected = exact_token_rewards(inputs, case.beta).astype(np.float64)
        atol = scaled_tolerance(float(np.finfo(promoted).eps), magnitude, 2)
        for framework in ("numpy", "torch"):
            given_inputs = {n: torch.from_numpy(a) for n, a in inputs.items()} if framework == "torch" else inputs
            got = token_rewards(**given_inputs, beta=case.beta)
            got = got.numpy() if framework == "torch" else got
            what = f"{framework}, scores/logp/ref_logp in {[np.dtype(d).name for d in dtypes]}"
            assert got.dtype == promoted, f"{what}: rewards in {got.dtype}, expected {np.dtype(promoted).name}"
            error = np.abs(got.astype(np.float64) - expected)
            assert np.all(error <= atol), (
                f"{what}: largest error {error.max():.3g} against the exact rewards, allowed {atol:.3g}\n"
                f"got      {got!r}\nexpected {expected!r}"
            )
