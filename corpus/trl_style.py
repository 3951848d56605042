"""TRL-style RLHF pieces over padded ``[batch, tokens]`` tensors.

policy loss:   f(logp_new, logp_old, advantages, mask, clip_eps)            masked token mean
value loss:    f(values_new, values_old, returns, mask, clip_eps)           0.5 * masked token mean of the max
rewards:       f(scores, logprobs, ref_logprobs, padding_mask, kl_coef)     padding_mask True on padding
"""

from __future__ import annotations

import torch


def masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


def policy_loss(logp_new, logp_old, advantages, mask, clip_eps):
    ratio = torch.exp(logp_new - logp_old)
    pg_losses = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    return masked_mean(torch.max(pg_losses, pg_losses2), mask)


def value_loss(values_new, values_old, returns, mask, clip_eps):
    vpredclipped = torch.clamp(values_new, values_old - clip_eps, values_old + clip_eps)
    vf_losses1 = torch.square(values_new - returns)
    vf_losses2 = torch.square(vpredclipped - returns)
    return 0.5 * masked_mean(torch.max(vf_losses1, vf_losses2), mask)


def compute_rewards(scores, logprobs, ref_logprobs, padding_mask, kl_coef):
    """Score on the last non-padded token, KL penalty on the response tokens."""
    kl = (logprobs - ref_logprobs).masked_fill(padding_mask, 0.0)
    rewards = -kl_coef * kl
    lengths = (~padding_mask).sum(dim=1)
    rewards[torch.arange(rewards.shape[0]), lengths - 1] += scores
    return rewards


def compute_rewards_loop(scores, logprobs, ref_logprobs, padding_mask, kl_coef):
    rewards = []
    for score, logprob, ref_logprob, pad in zip(scores, logprobs, ref_logprobs, padding_mask, strict=True):
        reward = torch.where(pad, torch.zeros_like(logprob), -kl_coef * (logprob - ref_logprob))
        last = int((~pad).nonzero()[-1])
        reward[last] += score
        rewards.append(reward)
    return torch.stack(rewards)


def policy_loss_unmasked_mean(logp_new, logp_old, advantages, mask, clip_eps):
    """BUG: plain .mean() over every position, padding included."""
    ratio = torch.exp(logp_new - logp_old)
    pg_losses = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    return torch.max(pg_losses, pg_losses2).mean()


def value_loss_clamps_old_value(values_new, values_old, returns, mask, clip_eps):
    """BUG: clamps the old value into the band around the new one (roles of the arguments swapped)."""
    vpredclipped = torch.clamp(values_old, values_new - clip_eps, values_new + clip_eps)
    vf_losses1 = torch.square(values_new - returns)
    vf_losses2 = torch.square(vpredclipped - returns)
    return 0.5 * masked_mean(torch.max(vf_losses1, vf_losses2), mask)


def compute_rewards_score_on_last_column(scores, logprobs, ref_logprobs, padding_mask, kl_coef):
    """BUG: rewards[:, -1] += scores: the score lands on the last column, a padding token for shorter rows."""
    kl = (logprobs - ref_logprobs).masked_fill(padding_mask, 0.0)
    rewards = -kl_coef * kl
    rewards[:, -1] += scores
    return rewards


def compute_rewards_mask_inverted(scores, logprobs, ref_logprobs, padding_mask, kl_coef):
    """BUG: uses padding_mask as if it were the attention mask (True on real tokens)."""
    kl = (logprobs - ref_logprobs) * padding_mask
    rewards = -kl_coef * kl
    lengths = padding_mask.sum(dim=1).clamp(min=1)
    rewards[torch.arange(rewards.shape[0]), lengths - 1] += scores
    return rewards


def policy_loss_per_token(logp_new, logp_old, advantages, mask, clip_eps):
    """BROKEN: returns the per-token losses (times the mask), reduction left to the caller."""
    ratio = torch.exp(logp_new - logp_old)
    pg_losses = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    return torch.max(pg_losses, pg_losses2) * mask
