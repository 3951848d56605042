"""k-step advantage estimators A^(k), the building blocks GAE averages (notes §GAE "多步").

    A^(k)_t = Σ_{l=0}^{k−1} γ^l δ_{t+l} = −V(s_t) + Σ_{l=0}^{k−1} γ^l r_{t+l} + γ^k V(s_{t+k})

(claim GAE-6). Near the end of an episode or of the segment the sum stops early: the last TD error
kept already holds the bootstrap (or none, if the episode terminated). k = 1 is δ_t; k ≥ T is
GAE(γ, 1). GAE(γ, λ) = (1 − λ) Σ_k λ^{k−1} A^(k) with the leftover weight on the longest estimator
(claim GAE-7).
"""

from __future__ import annotations

import numpy as np

from lineage._validation import check_positive_int, check_unit_interval
from lineage.returns.segment import validate_segment
from lineage.returns.td import segment_td_errors


def n_step_advantages(rewards, values, next_values, terminated, truncated, *, gamma: float, n: int) -> np.ndarray:
    """A^(n)_t for every step (shape ``[T]`` or ``[T, B]``)."""
    n = check_positive_int("n", n)
    gamma = check_unit_interval("gamma", gamma)
    seg = validate_segment(rewards, values, next_values, terminated, truncated)
    deltas = segment_td_errors(seg, gamma)
    steps = len(deltas)
    advantages = np.zeros_like(deltas)
    weight = np.ones_like(deltas)  # γ^l while the episode containing t is still running at t + l
    for lag in range(min(n, steps)):
        live = slice(0, steps - lag)
        advantages[live] += weight[live] * deltas[lag:]
        weight[live] *= gamma * seg.continue_mask[lag:]
    return advantages
