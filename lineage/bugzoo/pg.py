"""Wrong REINFORCE estimators, each one flaw away from lineage's own (:func:`lineage.pg.reinforce_gradient`)."""

from __future__ import annotations

import numpy as np

from lineage.bugzoo import bug
from lineage.laws.cases.pg import M1


def _reward_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    returns, running = np.zeros_like(rewards), np.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    return returns


@bug(
    "reinforce_without_discount_weights",
    contract="reinforce_gradient",
    caught_by="reinforce_gradient.expectation_is_the_policy_gradient",
    source="the notes' REINFORCE formula (PG-7; Nota & Thomas 2020, 'Is the Policy Gradient a Gradient?')",
    counterexample=M1,  # TC-1: ∂J/∂θ[s1, 0] = 0.125; without γ^t the estimate averages to 0.25
)
def reinforce_without_discount_weights(scores, rewards, *, gamma):
    """Σ_t G_t ∇log π(a_t|s_t) without the γ^t of step t: the GAE paper's direction g^γ, passed off as ∇J."""
    scores, rewards = np.asarray(scores, dtype=np.float64), np.asarray(rewards, dtype=np.float64)
    returns = _reward_to_go(rewards, gamma)
    return np.einsum("nt,ntk->k", returns, scores) / rewards.shape[0]
