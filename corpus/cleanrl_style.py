"""GAE the CleanRL / baselines-ppo2 way: ``[num_steps, num_envs]`` tensors, ``dones[t]`` = observation t starts a new
episode, ``next_value`` / ``next_done`` for the observation after the rollout.

    f(rewards, values, dones, next_value, next_done, gamma, gae_lambda) -> advantages   (or (advantages, returns))
"""

from __future__ import annotations

import torch


def compute_gae(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """Transcribed from a CleanRL-style training script."""
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages


def compute_gae_and_returns(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """Shifted tensors instead of the if/else, and the returns alongside."""
    next_values = torch.cat([values[1:], next_value.unsqueeze(0)], dim=0)
    next_nonterminal = 1.0 - torch.cat([dones[1:], next_done.unsqueeze(0)], dim=0)
    deltas = rewards + gamma * next_values * next_nonterminal - values
    advantages = torch.empty_like(rewards)
    running = torch.zeros_like(next_value)
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * gae_lambda * next_nonterminal[t] * running
        advantages[t] = running
    return advantages, advantages + values


def compute_gae_dones_current_step(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BUG: masks step t with dones[t] (did *this* observation start an episode) instead of dones[t + 1]."""
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages


def compute_gae_stale_next_value(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BUG: inside the rollout bootstraps from values[t] (the current state) instead of values[t + 1]."""
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages


def compute_returns_after_normalizing(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BUG: the advantages are normalised in place before returns = advantages + values is formed."""
    advantages = compute_gae(rewards, values, dones, next_value, next_done, gamma, gae_lambda)
    advantages = (advantages - advantages.mean()) / (advantages.std(unbiased=False) + 1e-8)
    return advantages, advantages + values


def compute_gae_next_done_everywhere(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BUG: the bootstrap mask of the last step (next_done) is reused for every step of the rollout."""
    next_values = torch.cat([values[1:], next_value.unsqueeze(0)], dim=0)
    nonterminal_now = 1.0 - torch.cat([dones[1:], next_done.unsqueeze(0)], dim=0)
    deltas = rewards + gamma * next_values * (1.0 - next_done) - values
    advantages = torch.empty_like(rewards)
    running = torch.zeros_like(next_value)
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * gae_lambda * nonterminal_now[t] * running
        advantages[t] = running
    return advantages


# ----------------------------------------------------------------------------------------------------------------
# broken
# ----------------------------------------------------------------------------------------------------------------


def compute_gae_aliased_buffer(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BROKEN: `advantages = rewards` aliases the reward buffer, so the advantages overwrite the caller's rewards
    (the values come out right)."""
    num_steps = rewards.shape[0]
    advantages = rewards
    lastgaelam = 0
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            nextnonterminal = 1.0 - next_done
            nextvalues = next_value
        else:
            nextnonterminal = 1.0 - dones[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages


def compute_gae_env_major(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BROKEN: returns [num_envs, num_steps] (transposed for logging) instead of [num_steps, num_envs]."""
    return compute_gae(rewards, values, dones, next_value, next_done, gamma, gae_lambda).T
