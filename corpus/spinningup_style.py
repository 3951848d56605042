"""Spinning Up ``PPOBuffer.finish_path`` style: one path per call, ``last_val`` = 0 after a termination and V of the
reached observation otherwise, the discounted cumulative sum written by hand instead of
``scipy.signal.lfilter([1], [1, -discount], x[::-1])[::-1]``.

    gae(rews, vals, last_val, gamma, lam) -> adv
    returns(rews, last_val, gamma) -> ret
"""

from __future__ import annotations

import numpy as np


def discount_cumsum(x, discount):
    """y[t] = x[t] + discount * y[t + 1]."""
    y = np.zeros_like(x, dtype=np.float64)
    running = 0.0
    for t in range(len(x) - 1, -1, -1):
        running = x[t] + discount * running
        y[t] = running
    return y


def discount_cumsum_matrix(x, discount):
    """y = M x with M[t, k] = discount**(k - t) for k >= t (0**0 = 1 keeps discount = 0 right)."""
    n = len(x)
    lags = np.arange(n)[None, :] - np.arange(n)[:, None]
    weights = np.where(lags >= 0, float(discount) ** np.maximum(lags, 0), 0.0)
    return weights @ np.asarray(x, dtype=np.float64)


def finish_path_gae(rews, vals, last_val, gamma, lam):
    rews = np.append(rews, last_val)
    vals = np.append(vals, last_val)
    deltas = rews[:-1] + gamma * vals[1:] - vals[:-1]
    return discount_cumsum(deltas, gamma * lam)


def finish_path_gae_matrix(rews, vals, last_val, gamma, lam):
    vals = np.append(vals, last_val)
    deltas = rews + gamma * vals[1:] - vals[:-1]
    return discount_cumsum_matrix(deltas, gamma * lam)


def finish_path_returns(rews, last_val, gamma):
    rews = np.append(rews, last_val)
    return discount_cumsum(rews, gamma)[:-1]


def finish_path_returns_matrix(rews, last_val, gamma):
    return discount_cumsum_matrix(np.append(rews, last_val), gamma)[:-1]


def discount_cumsum_forward(x, discount):
    """BUG: accumulates forward in time (forgot the reversal): y[t] = x[t] + discount * y[t - 1]."""
    y = np.zeros_like(x, dtype=np.float64)
    running = 0.0
    for t in range(len(x)):
        running = x[t] + discount * running
        y[t] = running
    return y


def finish_path_gae_forward_cumsum(rews, vals, last_val, gamma, lam):
    """BUG: GAE through a discounted cumsum that runs forward in time."""
    rews = np.append(rews, last_val)
    vals = np.append(vals, last_val)
    deltas = rews[:-1] + gamma * vals[1:] - vals[:-1]
    return discount_cumsum_forward(deltas, gamma * lam)


def discount_filter_swapped(x, discount):
    """BUG: lfilter's b and a swapped by hand: y[t] = x[t] - discount * x[t + 1] (FIR instead of IIR)."""
    x = np.asarray(x, dtype=np.float64)
    following = np.append(x[1:], 0.0)
    return x - discount * following


def finish_path_returns_filter_swapped(rews, last_val, gamma):
    """BUG: returns through the FIR filter above."""
    return discount_filter_swapped(np.append(rews, last_val), gamma)[:-1]


def finish_path_returns_drops_first(rews, last_val, gamma):
    """BUG: slices [1:] instead of [:-1] after appending last_val: every return is the next step's."""
    return discount_cumsum(np.append(rews, last_val), gamma)[1:]


def finish_path_gae_list_append(rews, vals, last_val, gamma, lam):
    """BROKEN: `rews + [last_val]` as with Python lists: on arrays it adds last_val to every entry and the
    result has one entry too few after the [:-1] slices."""
    rews = rews + [last_val]  # noqa: RUF005 (the mistake itself)
    vals = vals + [last_val]  # noqa: RUF005
    deltas = rews[:-1] + gamma * vals[1:] - vals[:-1]
    return discount_cumsum(deltas, gamma * lam)
