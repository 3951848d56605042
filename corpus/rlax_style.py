"""rlax-style single-trajectory estimators in numpy (float32 by default): ``discount_t = gamma * (1 - terminal)``,
GAE takes the T + 1 values V(s_0) .. V(s_T), the returns take ``v_t`` = V(s_1) .. V(s_T).

    truncated_generalized_advantage_estimation(r_t, discount_t, lambda_, values) -> advantages
    lambda_returns(r_t, discount_t, v_t, lambda_) -> returns
    discounted_returns(r_t, discount_t, v_t) -> returns
    clipped_surrogate_pg_loss(prob_ratios_t, adv_t, epsilon) -> loss
"""

from __future__ import annotations

import numpy as np


def truncated_gae(r_t, discount_t, lambda_, values):
    lambda_ = np.ones_like(discount_t) * lambda_
    delta_t = r_t + discount_t * values[1:] - values[:-1]
    advantage_t = np.zeros_like(delta_t)
    acc = 0.0
    for i in reversed(range(len(delta_t))):
        acc = delta_t[i] + discount_t[i] * lambda_[i] * acc
        advantage_t[i] = acc
    return advantage_t


def lambda_returns(r_t, discount_t, v_t, lambda_):
    g = v_t[-1]
    returns = np.zeros_like(r_t)
    for i in reversed(range(len(r_t))):
        g = r_t[i] + discount_t[i] * ((1 - lambda_) * v_t[i] + lambda_ * g)
        returns[i] = g
    return returns


def discounted_returns(r_t, discount_t, v_t):
    """lambda_returns with lambda = 1: only the last v_t bootstraps."""
    g = v_t[-1]
    returns = np.zeros_like(r_t)
    for i in range(len(r_t) - 1, -1, -1):
        g = r_t[i] + discount_t[i] * g
        returns[i] = g
    return returns


def clipped_surrogate_pg_loss(prob_ratios_t, adv_t, epsilon):
    clipped = np.clip(prob_ratios_t, 1.0 - epsilon, 1.0 + epsilon)
    return -np.mean(np.minimum(prob_ratios_t * adv_t, clipped * adv_t))


def truncated_gae_values_swapped(r_t, discount_t, lambda_, values):
    """BUG: values[:-1] and values[1:] swapped in the TD error: r + d*V(s_t) - V(s_{t+1})."""
    delta_t = r_t + discount_t * values[:-1] - values[1:]
    advantage_t = np.zeros_like(delta_t)
    acc = 0.0
    for i in reversed(range(len(delta_t))):
        acc = delta_t[i] + discount_t[i] * lambda_ * acc
        advantage_t[i] = acc
    return advantage_t


def lambda_returns_next_index(r_t, discount_t, v_t, lambda_):
    """BUG: the (1 - lambda) bootstrap reads v_t[i + 1] (off by one; v_t is already V(s_{t+1}))."""
    g = v_t[-1]
    v_next = np.append(v_t[1:], v_t[-1])
    returns = np.zeros_like(r_t)
    for i in reversed(range(len(r_t))):
        g = r_t[i] + discount_t[i] * ((1 - lambda_) * v_next[i] + lambda_ * g)
        returns[i] = g
    return returns


def clipped_surrogate_min_ratio_first(prob_ratios_t, adv_t, epsilon):
    """BUG: takes the min over ratios before multiplying by the advantage, wrong whenever A < 0."""
    clipped = np.clip(prob_ratios_t, 1.0 - epsilon, 1.0 + epsilon)
    return -np.mean(np.minimum(prob_ratios_t, clipped) * adv_t)


def discounted_returns_discount_of_next_step(r_t, discount_t, v_t):
    """BUG: multiplies G_{t+1} by discount_t[t + 1] (the discount of the next transition)."""
    g = v_t[-1] * discount_t[-1]
    returns = np.zeros_like(r_t)
    returns[-1] = r_t[-1] + g
    g = returns[-1]
    for i in range(len(r_t) - 2, -1, -1):
        g = r_t[i] + discount_t[i + 1] * g
        returns[i] = g
    return returns


def truncated_gae_with_bootstrap_entry(r_t, discount_t, lambda_, values):
    """BROKEN: returns T + 1 entries (a trailing 0 for the bootstrap value, "to keep the shapes aligned")."""
    advantage_t = truncated_gae(r_t, discount_t, lambda_, values)
    return np.append(advantage_t, 0.0)
