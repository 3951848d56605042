"""The entropy bonus of a categorical policy and the sign convention of PPO's combined loss (PPO paper eq. 9; notes
§PPO; claim STD-PPO-4), on lineage's torch implementation in float64 with gradients by autograd.

Tolerances: H and its gradient are sums over K ≤ 4 actions of terms π·log π, π·H bounded by 1 + max|log π| (the
logits stay in [−4, 4]); ``scaled_tolerance`` allows 8·eps·(K + 1) times that.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import categorical_entropy, combined_loss, ppo_clip_loss, value_loss
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import EPS, categorical_batches, finite, gradient, tensor

# π = (0.9, 0.1): H = 0.325. SB3 before PR #130 added the entropy instead of subtracting it.
SKEWED = torch.tensor([[math.log(0.9), math.log(0.1)]], dtype=torch.float64)


@pytest.mark.claim("STD-PPO-4")
def test_combined_loss_subtracts_the_entropy_bonus():
    """STD-PPO-4 (notes §PPO): the minimised loss is −L^CLIP + c1·L^VF − c2·S. With π = (0.9, 0.1) (H = 0.325), no
    policy or value loss, c1 = 0.5, c2 = 0.01, it is −0.00325; the flipped sign (an entropy penalty) gives +0.00325.
    With losses 1.5 and 2 it is 1.5 + 0.5·2 − 0.01·H."""
    entropy = categorical_entropy(SKEWED)
    assert round(entropy.item(), 3) == 0.325
    bonus_only = combined_loss(0.0, 0.0, entropy, vf_coef=0.5, ent_coef=0.01)
    assert bonus_only.item() == pytest.approx(-0.01 * entropy.item(), abs=1e-17)
    full = combined_loss(torch.tensor(1.5), torch.tensor(2.0), entropy, vf_coef=0.5, ent_coef=0.01)
    assert full.item() == pytest.approx(1.5 + 0.5 * 2.0 - 0.01 * entropy.item(), abs=1e-15)


@pytest.mark.claim("STD-PPO-4")
@given(batch=categorical_batches(), ent_coef=finite(1e-3, 1.0), vf_coef=st.sampled_from([0.0, 0.5, 1.0]))
def test_entropy_gradient_and_the_descent_direction_of_the_combined_loss(batch, ent_coef, vf_coef):
    """STD-PPO-4 (notes §PPO): for softmax logits θ, lineage's H = −Σ π log π lies in [0, log K] and has
    ∂H/∂θ = −π ⊙ (log π + H) per state (autograd). With zero advantages (no policy signal) and a critic that does not
    share the policy's logits, the gradient of lineage's combined loss in the logits is −c2·∇(mean H): a descent step
    raises the entropy (⟨∇loss, ∇ mean H⟩ = −c2·|∇ mean H|² ≤ 0)."""
    states, actions = batch.every_action()
    logits = tensor(batch.logits_new, grad=True)
    log_pi = torch.log_softmax(logits, dim=-1)
    entropy = categorical_entropy(logits)
    pi_log_pi = log_pi.detach().exp() * log_pi.detach()
    expected_h = -pi_log_pi.sum(dim=-1)
    atol = scaled_tolerance(EPS, 1 + float(log_pi.detach().abs().max()), batch.shape[1])
    assert_identity(entropy.detach().numpy(), expected_h.numpy(), atol=atol, what="H")
    assert_at_least(math.log(batch.shape[1]), entropy.detach().numpy(), atol=atol, what="log K vs H")
    assert_at_least(entropy.detach().numpy(), 0.0, atol=atol, what="H vs 0")
    expected = -pi_log_pi - log_pi.detach().exp() * expected_h[:, None]
    assert_identity(gradient(entropy.sum(), logits).numpy(), expected.numpy(), atol=atol, what="∂H/∂θ")

    logp_old = torch.log_softmax(tensor(batch.logits_old), dim=-1)[states, actions]
    clip = ppo_clip_loss(log_pi[states, actions], logp_old, np.zeros(len(actions)), clip_eps=0.2)
    q = np.array(batch.q_values).reshape(-1)
    critic = value_loss(q, np.zeros_like(q), np.ones_like(q), clip_eps=0.2)
    loss = combined_loss(clip, critic, entropy, vf_coef=vf_coef, ent_coef=ent_coef)
    grad_h = gradient(entropy.mean(), logits)
    assert_identity(gradient(loss, logits).numpy(), (-ent_coef * grad_h).numpy(), atol=atol, what="∇θ loss")
