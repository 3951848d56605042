"""Per-token RLHF rewards in lineage's signature, ``f(scores, logp, ref_logp, mask, *, beta) -> [B, T]``:
-beta * (log pi - log pi_ref) on response tokens, the reward-model score on each row's last response token."""

from __future__ import annotations

import numpy as np
import torch


def token_rewards_loop(scores, logp, ref_logp, mask, *, beta):
    """lm-human-preferences style, one row at a time."""
    rewards = np.zeros_like(logp)
    for i in range(len(scores)):
        valid = np.flatnonzero(mask[i])
        rewards[i, valid] = -beta * (logp[i, valid] - ref_logp[i, valid])
        rewards[i, valid[-1]] += scores[i]
    return rewards


def token_rewards_gather(scores, logp, ref_logp, mask, *, beta):
    """torch, vectorised: the last response index from the mask, score scattered there."""
    kl = (logp - ref_logp) * mask
    rewards = -beta * kl
    last = mask.shape[1] - 1 - mask.flip(1).to(torch.int64).argmax(dim=1)
    rewards[torch.arange(len(scores)), last] += scores
    return rewards


def token_rewards_score_at_first_token(scores, logp, ref_logp, mask, *, beta):
    """BUG: written for left-padded batches: the score goes to column 0, wrong for right padding."""
    rewards = np.where(mask, -beta * (logp - ref_logp), 0.0)
    rewards[:, 0] += scores
    return rewards


def token_rewards_kl_on_padding(scores, logp, ref_logp, mask, *, beta):
    """BUG: the KL term is charged on padded positions too (only the score placement uses the mask)."""
    rewards = -beta * (logp - ref_logp)
    lengths = mask.sum(axis=1)
    rewards[np.arange(len(scores)), lengths - 1] += scores
    return rewards


def token_rewards_score_times_beta(scores, logp, ref_logp, mask, *, beta):
    """BUG: beta factored over the whole reward: beta * (score - KL) instead of score - beta * KL."""
    kl = np.where(mask, logp - ref_logp, 0.0)
    rewards = -kl
    lengths = mask.sum(axis=1)
    rewards[np.arange(len(scores)), lengths - 1] += scores
    return beta * rewards
