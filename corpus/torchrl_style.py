"""TorchRL-style functional value estimators: ``[B, T, 1]`` tensors (time at dim -2), bool ``done`` /
``terminated`` masks and an explicit ``next_state_value``.

    gae(gamma, lmbda, state_value, next_state_value, reward, done, terminated) -> (advantage, value_target)
    td1(gamma, next_state_value, reward, done, terminated) -> value_target
"""

from __future__ import annotations

import torch


def gae_time_loop(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    not_terminated = (~terminated).to(reward.dtype)
    not_done = (~done).to(reward.dtype)
    delta = reward + gamma * not_terminated * next_state_value - state_value
    advantage = torch.empty_like(delta)
    gae = torch.zeros_like(delta[..., -1, :])
    for t in reversed(range(delta.shape[-2])):
        gae = delta[..., t, :] + gamma * lmbda * not_done[..., t, :] * gae
        advantage[..., t, :] = gae
    return advantage, advantage + state_value


def gae_unbind(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    """Scan over the time slices with unbind/stack, torch.where for the masks."""
    delta = reward + gamma * torch.where(terminated, 0.0, next_state_value) - state_value
    carry = torch.where(done, 0.0, gamma * lmbda)
    outs, running = [], torch.zeros_like(delta.select(-2, 0))
    for d, c in zip(reversed(delta.unbind(-2)), reversed(carry.unbind(-2)), strict=True):
        running = d + c * running
        outs.append(running)
    advantage = torch.stack(outs[::-1], dim=-2)
    return advantage, advantage + state_value


def td1_return(gamma, next_state_value, reward, done, terminated):
    """Discounted reward-to-go, restarted at every done, bootstrapped unless terminated."""
    ends = done.clone()
    ends[..., -1, :] = True
    bootstrap = torch.where(terminated, 0.0, next_state_value)
    value_target = torch.empty_like(reward)
    running = torch.zeros_like(reward[..., 0, :])
    for t in range(reward.shape[-2] - 1, -1, -1):
        running = reward[..., t, :] + gamma * torch.where(ends[..., t, :], bootstrap[..., t, :], running)
        value_target[..., t, :] = running
    return value_target


def gae_loops_over_dim0(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    """BUG: iterates over dim 0 (the batch) as if it were time; right only when B = 1 ... and T = 1."""
    not_terminated = (~terminated).to(reward.dtype)
    not_done = (~done).to(reward.dtype)
    delta = reward + gamma * not_terminated * next_state_value - state_value
    advantage = torch.empty_like(delta)
    gae = torch.zeros_like(delta[0])
    for t in reversed(range(delta.shape[0])):
        gae = delta[t] + gamma * lmbda * not_done[t] * gae
        advantage[t] = gae
    return advantage, advantage + state_value


def td1_carry_ignores_done(gamma, next_state_value, reward, done, terminated):
    """BUG: the running return is reset only where terminated; a truncation (done without terminated) lets the
    next episode's return flow back, and the truncated step's own bootstrap is dropped."""
    bootstrap = torch.where(terminated, 0.0, next_state_value)
    value_target = torch.empty_like(reward)
    running = bootstrap[..., -1, :]
    for t in range(reward.shape[-2] - 1, -1, -1):
        running = reward[..., t, :] + gamma * torch.where(terminated[..., t, :], 0.0, running)
        value_target[..., t, :] = running
    return value_target


def gae_value_target_from_next(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    """BUG (value_target only): value_target = advantage + next_state_value."""
    advantage, _ = gae_time_loop(gamma, lmbda, state_value, next_state_value, reward, done, terminated)
    return advantage, advantage + next_state_value


def gae_bool_arithmetic(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    """BROKEN: `1 - terminated` on a bool tensor raises in torch."""
    not_terminated = 1 - terminated
    not_done = 1 - done
    delta = reward + gamma * not_terminated * next_state_value - state_value
    advantage = torch.empty_like(delta)
    gae = torch.zeros_like(delta[..., -1, :])
    for t in reversed(range(delta.shape[-2])):
        gae = delta[..., t, :] + gamma * lmbda * not_done[..., t, :] * gae
        advantage[..., t, :] = gae
    return advantage, advantage + state_value
