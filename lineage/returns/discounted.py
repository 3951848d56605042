"""Discounted reward-to-go G_t, REINFORCE's ψ2, bootstrapped where a segment stops early.

    G_t = r_t + γ (1 − terminated_t) · (V(s_{t+1})  if done_t or t = T − 1,  else G_{t+1})

An episode that terminates contributes no bootstrap; an episode cut by a time limit, or still running
at the end of the segment, bootstraps from ``next_values`` (notes §PG REINFORCE; claims PG-8,
STD-TT-1). When ``next_values[t] == values[t+1]`` inside episodes this is the λ-return at λ = 1,
so G_t − V(s_t) is GAE(γ, 1) (claims GAE-3, GAE-10).
"""

from __future__ import annotations

import numpy as np

from lineage._validation import check_unit_interval
from lineage.returns.segment import validate_segment


def discounted_returns(rewards, next_values, terminated, truncated, *, gamma: float) -> np.ndarray:
    """Bootstrapped discounted reward-to-go for every step (shape ``[T]`` or ``[T, B]``)."""
    gamma = check_unit_interval("gamma", gamma)
    seg = validate_segment(rewards, None, next_values, terminated, truncated)
    returns = np.zeros_like(seg.rewards, dtype=seg.dtype)
    for t in reversed(range(len(returns))):
        if t == len(returns) - 1:
            future = seg.next_values[t]
        else:
            future = np.where(seg.continue_mask[t] > 0, returns[t + 1], seg.next_values[t])
        returns[t] = seg.rewards[t] + gamma * seg.bootstrap_mask[t] * future
    return returns
