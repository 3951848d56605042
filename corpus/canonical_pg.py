"""REINFORCE gradient estimates written as outside code would write them (the canonical convention:
``target(scores [N, T, d], rewards [N, T], *, gamma) -> [d]``), two correct and three with a realistic mistake."""

from __future__ import annotations

import numpy as np


def reinforce_gradient_loop(scores, rewards, *, gamma):
    """Per episode: reward-to-go by a backward loop, then Σ_t γ^t G_t ∇log π; mean over episodes."""
    scores, rewards = np.asarray(scores), np.asarray(rewards)
    total = np.zeros(scores.shape[-1], dtype=scores.dtype)
    for episode_scores, episode_rewards in zip(scores, rewards, strict=True):
        running, returns = 0.0, []
        for reward in episode_rewards[::-1]:
            running = reward + gamma * running
            returns.append(running)
        returns = np.array(returns[::-1])
        discounts = gamma ** np.arange(len(returns))
        total = total + (discounts * returns) @ episode_scores
    return total / len(rewards)


def reinforce_gradient_torch(scores, rewards, *, gamma):
    """The surrogate loss way: −Σ_t γ^t G_t log π, differentiated; here the scores are given, so its gradient is
    the weighted sum of scores (torch, returns computed with a discount matrix)."""
    import torch

    horizon = rewards.shape[1]
    steps = torch.arange(horizon, dtype=rewards.dtype)
    offsets = steps[None, :] - steps[:, None]  # [t, t'] = t' − t
    discount_matrix = torch.where(offsets >= 0, gamma ** offsets.clamp(min=0), torch.zeros_like(offsets))
    returns = rewards @ discount_matrix.T  # G[n, t] = Σ_t' γ^(t'−t) r[n, t'] for t' ≥ t
    weights = gamma**steps * returns
    return torch.einsum("nt,ntk->k", weights, scores) / rewards.shape[0]


def reinforce_gradient_undiscounted_steps(scores, rewards, *, gamma):
    """Σ_t G_t ∇log π: the γ^t of step t is missing (the document's REINFORCE formula)."""
    scores, rewards = np.asarray(scores), np.asarray(rewards)
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    return np.einsum("nt,ntk->k", returns, scores) / rewards.shape[0]


def reinforce_gradient_forward_cumsum(scores, rewards, *, gamma):
    """Rewards accumulated forward in time, Σ_{t' ≤ t} γ^{t−t'} r_{t'}: the reward-to-go reversed."""
    scores, rewards = np.asarray(scores), np.asarray(rewards)
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[0])
    for t in range(rewards.shape[1]):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    weights = gamma ** np.arange(rewards.shape[1]) * returns
    return np.einsum("nt,ntk->k", weights, scores) / rewards.shape[0]


def reinforce_gradient_summed_over_episodes(scores, rewards, *, gamma):
    """Episodes summed instead of averaged: the gradient grows with the batch size."""
    scores, rewards = np.asarray(scores), np.asarray(rewards)
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        returns[:, t] = running
    weights = gamma ** np.arange(rewards.shape[1]) * returns
    return np.einsum("nt,ntk->k", weights, scores)
