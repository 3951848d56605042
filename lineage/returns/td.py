"""One-step TD errors δ_t, the critic's error signal and the λ = 0 advantage.

    δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)

With the exact V^π, E[δ_t | s_t, a_t] = A^π(s_t, a_t) (notes §AC "ψ6", §TD; claims AC-10, GAE-2).
The notes print the λ = 0 case of GAE as r_t + γV(s_{t+1} − V(s_t)); that parenthesis is a typo
(claim GAE-8). Truncation does not change δ: the cut episode still bootstraps from ``next_values``.
"""

from __future__ import annotations

import numpy as np

from lineage._validation import check_unit_interval
from lineage.returns.segment import SegmentArrays, validate_segment


def td_errors(rewards, values, next_values, terminated, *, gamma: float) -> np.ndarray:
    """δ_t for every step of a segment (shape ``[T]`` or ``[T, B]``, see :mod:`lineage.returns.segment`)."""
    gamma = check_unit_interval("gamma", gamma)
    return segment_td_errors(validate_segment(rewards, values, next_values, terminated, None), gamma)


def segment_td_errors(seg: SegmentArrays, gamma: float) -> np.ndarray:
    """δ_t of an already validated segment."""
    return seg.rewards + gamma * seg.bootstrap_mask * seg.next_values - seg.values
