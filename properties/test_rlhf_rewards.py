"""The per-token RLHF reward builder on every mask layout (notes §PPO, RLHF part; claims RLHF-1, RLHF-2, STD-RLHF-1).

The laws of the ``token_rewards`` contract (``lineage.laws.rlhf``: the per-token form, the sum over a response, padding
ignored) run against lineage through ``test_laws.py``; their strategy draws right padding, left padding, gaps and
full rows. Here the per-token and padding laws run once more with a left-padded example pinned, and one law says
where the reference model enters: only through the KL term.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given

from lineage.laws.cases.losses import TokenRewardCase, token_reward_cases
from lineage.laws.contracts import CONTRACTS
from lineage.laws.rlhf import padding_is_ignored, per_token_form
from lineage.rlhf import token_rewards

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
