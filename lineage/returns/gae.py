"""Generalized advantage estimation on a rollout segment (Schulman et al. 2016; PPO eq. 11).

    A_t = δ_t + γλ (1 − done_t) A_{t+1},   A_T = 0,   done_t = terminated_t ∨ truncated_t

which unrolls to A_t = Σ_l (γλ)^l δ_{t+l} up to the first episode end or the end of the segment
(exponent T − t − 1 for the last term: claim STD-GAE-7). λ = 0 gives δ_t (GAE-8), λ = 1 the
bootstrapped Monte-Carlo return minus V(s_t) (GAE-10, GAE-3). The notes' PPO section drops λ from
the middle of this recursion (claim PPO-14); the form here is the corrected one. Terminated steps do
not bootstrap, truncated ones do (STD-TT-1, STD-TT-2).
"""

from __future__ import annotations

import numpy as np

from lineage._validation import check_unit_interval
from lineage.returns.segment import validate_segment
from lineage.returns.td import segment_td_errors


def gae(rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float) -> np.ndarray:
    """GAE(γ, λ) advantages for every step (shape ``[T]`` or ``[T, B]``, see :mod:`lineage.returns.segment`)."""
    lam = check_unit_interval("lam", lam)
    gamma = check_unit_interval("gamma", gamma)
    seg = validate_segment(rewards, values, next_values, terminated, truncated)
    deltas = segment_td_errors(seg, gamma)
    advantages = np.zeros_like(deltas)
    carry = np.zeros(deltas.shape[1:], dtype=deltas.dtype)
    for t in reversed(range(len(deltas))):
        carry = deltas[t] + gamma * lam * seg.continue_mask[t] * carry
        advantages[t] = carry
    return advantages
