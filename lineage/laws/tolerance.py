"""Tolerances for comparing a target's floating-point output with an exact expectation.

A target evaluating Σ_l c^l δ_{t+l} in floating point makes rounding errors proportional to the magnitudes it adds, not
to the (possibly cancelling) result. So the allowance at step t is

    atol_t = C · eps(dtype) · (T + 1) · S_t,   S_t = m_t + c · S_{t+1},   m_t = |r_t| + |V(s_t)| + γ|V(s_{t+1})|

with c the factor a step carries back (0 for TD errors, γ for returns, γλ for GAE) and C = 8, a safety factor over
the first-order rounding bound. The allowance scales with the problem and the dtype of the target's output,
never with the output itself, so a wrong answer cannot hide inside a relative tolerance.
"""

from __future__ import annotations

import numpy as np

from lineage.laws.cases.segments import Segment

ROUNDING_FACTOR = 8.0


def propagated_magnitude(segment: Segment, gamma: float, carry: float) -> np.ndarray:
    """S_t = Σ_k carry^k m_{t+k} (an upper bound: it ignores episode ends)."""
    a = segment.arrays()
    steps = np.abs(a["rewards"]) + np.abs(a["values"]) + gamma * np.abs(a["next_values"])
    out = np.zeros_like(steps)
    running = np.zeros_like(steps[0]) if len(steps) else 0.0
    for t in reversed(range(len(steps))):
        running = steps[t] + carry * running
        out[t] = running
    return out


def rounding_tolerance(segment: Segment, gamma: float, carry: float, eps: float) -> np.ndarray:
    """atol_t for one evaluation of a formula over ``segment`` in a dtype with machine epsilon ``eps``."""
    steps = segment.length + 1
    underflow = ROUNDING_FACTOR * steps**2 * smallest_normal(eps)
    return ROUNDING_FACTOR * eps * steps * propagated_magnitude(segment, gamma, carry) + underflow


def smallest_normal(eps: float) -> float:
    """The smallest normal number of the float type with machine epsilon ``eps`` (float16, float32 or
    bfloat16-like: float32's; float64: float64's)."""
    if eps <= np.finfo(np.float64).eps:
        return float(np.finfo(np.float64).tiny)
    return float(np.finfo(np.float16 if eps == np.finfo(np.float16).eps else np.float32).tiny)


def scaled_tolerance(eps: float, magnitude: float, terms: int) -> float:
    """The allowance for a sum or mean of ``terms`` terms of size up to ``magnitude`` computed in a dtype with
    machine epsilon ``eps`` (the same C and underflow floor as :func:`rounding_tolerance`)."""
    return ROUNDING_FACTOR * eps * (terms + 1) * magnitude + ROUNDING_FACTOR * (terms + 1) ** 2 * smallest_normal(eps)


def value_scale(rewards, gamma: float) -> float:
    """R_max / (1 − γ) with R_max = max |R(s, a)| of the reward table handed to the oracle: every V^π, Q^π and J(π)
    of a discounted MDP is at most this large, so a value from an exact linear solve is allowed 1e-9 of it. Read
    from the drawn rewards and γ (needs γ < 1), never from the object under test."""
    return float(np.abs(np.asarray(rewards, dtype=np.float64)).max()) / (1.0 - gamma)


def finite_difference_step(eps: float) -> float:
    """Central-difference step: 1e-6 for float64 targets, 1e-3 for float32 and coarser ones."""
    return 1e-6 if eps <= np.finfo(np.float64).eps else 1e-3


def finite_difference_tolerance(eps: float, scale: float) -> float:
    """Allowance of a central difference with :func:`finite_difference_step`: 1e-6·scale for float64
    for float32 the rounding error eps·|f|/h dominates, about 1e-4·scale, allowed 1e-3·scale."""
    return (1e-6 if eps <= np.finfo(np.float64).eps else 1e-3) * scale
