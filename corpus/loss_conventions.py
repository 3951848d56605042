"""The clipped PPO surrogate written as an objective to maximise (``objective`` convention) or as a loss summed over
samples (``sum`` convention): ``f(logp_new, logp_old, advantages, clip_eps)``."""

from __future__ import annotations

import numpy as np
import torch


def clip_objective(logp_new, logp_old, advantages, clip_eps):
    """L^CLIP as in the paper, to maximise."""
    ratio = torch.exp(logp_new - logp_old)
    return torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages).mean()


def clip_objective_numpy(logp_new, logp_old, advantages, clip_eps):
    ratio = np.exp(logp_new - logp_old)
    return np.mean(np.minimum(ratio * advantages, np.clip(ratio, 1 - clip_eps, 1 + clip_eps) * advantages))


def clip_loss_summed(logp_new, logp_old, advantages, clip_eps):
    """Summed over the minibatch (the mean is taken by the optimiser's learning rate)."""
    ratio = (logp_new - logp_old).exp()
    surrogate = torch.min(ratio * advantages, ratio.clamp(1 - clip_eps, 1 + clip_eps) * advantages)
    return -surrogate.sum()


def clip_objective_returns_loss(logp_new, logp_old, advantages, clip_eps):
    """BUG: declared an objective to maximise but returns the loss (sign flipped)."""
    ratio = torch.exp(logp_new - logp_old)
    return -torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages).mean()


def clip_objective_max(logp_new, logp_old, advantages, clip_eps):
    """BUG: max of the two surrogates in the objective (the pessimistic bound needs the min)."""
    ratio = torch.exp(logp_new - logp_old)
    return torch.max(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages).mean()


def clip_loss_summed_takes_mean(logp_new, logp_old, advantages, clip_eps):
    """BUG: documented as summed over samples but averages."""
    ratio = (logp_new - logp_old).exp()
    return -torch.min(ratio * advantages, ratio.clamp(1 - clip_eps, 1 + clip_eps) * advantages).mean()


def clip_loss_summed_broadcast(logp_new, logp_old, advantages, clip_eps):
    """BUG: advantages reshaped to a column ([N, 1]) as they come out of a value head: the products broadcast to
    [N, N] and the sum runs over every pair."""
    advantages = advantages.reshape(-1, 1)
    ratio = (logp_new - logp_old).exp()
    surrogate = torch.min(ratio * advantages, ratio.clamp(1 - clip_eps, 1 + clip_eps) * advantages)
    return -surrogate.sum()
