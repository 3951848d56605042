"""GAE on RLHF rewards (claim STD-RLHF-5; notes §PPO): a response is an episode that terminates at its last
valid token, so with γ = λ = 1 lineage's GAE gives A_t = Σ_{t' ≥ t} r_{t'} − V_t on every response token,
whatever value the critic puts after the end or on the padding.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.losses import token_reward_cases
from lineage.laws.tolerance import scaled_tolerance
from lineage.returns import gae
from lineage.rlhf import token_rewards
from properties.assertions import assert_identity

EPS = np.finfo(np.float64).eps


@pytest.mark.claim("STD-RLHF-5")
@given(data=st.data(), case=token_reward_cases())
def test_gae_with_gamma_and_lambda_one_is_reward_to_go_minus_value(data, case):
    """STD-RLHF-5 (notes §PPO): with γ = λ = 1 and the episode terminated at each response's last valid token,
    A_t = Σ_{t' ≥ t} r_{t'} − V_t for every valid token, whatever the mask layout; the next-state value at the
    end (terminal, so 0) and the values on the padding never enter (with γ = λ = 1 they telescope away)."""
    inputs = case.inputs()
    rewards, mask = token_rewards(**inputs, beta=case.beta), inputs["mask"]
    values = data.draw(arrays(np.float64, rewards.shape, elements=st.floats(-10.0, 10.0)), label="V")
    next_values = np.roll(values, -1, axis=1)  # V_{t+1}; at a response's end it is junk the termination drops
    terminated = np.zeros_like(mask)
    terminated[np.arange(len(mask)), case.last_valid()] = True
    segment = (rewards.T, values.T, next_values.T, terminated.T, np.zeros_like(terminated.T))  # time first
    advantages = gae(*segment, gamma=1.0, lam=1.0).T
    reward_to_go = np.cumsum(rewards[:, ::-1], axis=1)[:, ::-1]  # padding rewards are 0
    magnitude = np.abs(rewards).max() + np.abs(values).max()
    atol = scaled_tolerance(EPS, magnitude, rewards.shape[1] + 1)
    assert_identity(advantages[mask], (reward_to_go - values)[mask], atol=atol, what="A_t vs Σ_{t'≥t} r_t' − V_t")
