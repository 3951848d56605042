"""Tianshou-style GAE over a flat replay buffer: 1-D float64 arrays, ``v_s_`` already multiplied by
``1 - terminated`` by the caller, ``end_flag`` True at every episode end and at the buffer's unfinished end.

    _gae(v_s, v_s_, rew, end_flag, gamma, gae_lambda) -> advantages
"""

from __future__ import annotations

import numpy as np


def gae_buffer_loop(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    returns = np.zeros(rew.shape)
    delta = rew + v_s_ * gamma - v_s
    discount = (1.0 - end_flag) * (gamma * gae_lambda)
    gae = 0.0
    for i in range(len(rew) - 1, -1, -1):
        gae = delta[i] + discount[i] * gae
        returns[i] = gae
    return returns


def gae_episode_slices(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    """Cut the buffer into episodes at end_flag and filter each one with a hand-written discounted cumsum."""
    delta = rew + gamma * v_s_ - v_s
    ends = np.flatnonzero(end_flag) + 1
    out = np.empty_like(delta)
    start = 0
    for stop in ends:
        acc = 0.0
        for i in range(stop - 1, start - 1, -1):
            acc = delta[i] + gamma * gae_lambda * acc
            out[i] = acc
        start = stop
    return out


def gae_masks_next_value_again(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    """BUG: masks v_s_ with (1 - end_flag) although the caller already masked it with 1 - terminated: the bootstrap
    is dropped at truncations and at the buffer's unfinished end."""
    not_end = 1.0 - end_flag
    delta = rew + gamma * v_s_ * not_end - v_s
    gae, out = 0.0, np.zeros_like(rew)
    for i in reversed(range(len(rew))):
        gae = delta[i] + gamma * gae_lambda * not_end[i] * gae
        out[i] = gae
    return out


def gae_returns_instead_of_advantages(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    """BUG: stores gae + v_s (the lambda-return, what compute_episodic_return hands on as `returns`) in the
    advantage array."""
    delta = rew + gamma * v_s_ - v_s
    gae, out = 0.0, np.zeros_like(rew)
    for i in reversed(range(len(rew))):
        gae = delta[i] + gamma * gae_lambda * (1.0 - end_flag[i]) * gae
        out[i] = gae + v_s[i]
    return out


def gae_inplace_rewards(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    """BROKEN: reuses the reward array as the delta buffer to save memory (writes into the caller's rew)."""
    rew += gamma * v_s_ - v_s
    gae = 0.0
    out = np.zeros_like(rew)
    for i in range(len(rew) - 1, -1, -1):
        gae = rew[i] + gamma * gae_lambda * (1.0 - end_flag[i]) * gae
        out[i] = gae
    return out
