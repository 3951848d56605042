"""TD(λ) returns, the critic's regression target in PPO.

    R_t = A_t + V(s_t) = r_t + γ(1 − terminated_t) V(s_{t+1}) + γλ (1 − done_t) A_{t+1}

Inside an episode (``next_values[t] == values[t+1]``) this is the recursion
R_t = r_t + γ[(1 − λ) V(s_{t+1}) + λ R_{t+1}] (notes §PPO "critic"; claims PPO-15, PPO-16,
STD-GAE-3); λ = 0 gives the TD(0) target r_t + γV(s_{t+1}), λ = 1 the bootstrapped reward-to-go.
"""

from __future__ import annotations

import numpy as np

from lineage.returns.gae import gae
from lineage.returns.segment import validate_segment


def lambda_returns(rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float) -> np.ndarray:
    """λ-returns for every step (shape ``[T]`` or ``[T, B]``)."""
    advantages = gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    seg = validate_segment(rewards, values, next_values, terminated, truncated)
    return advantages + seg.values
