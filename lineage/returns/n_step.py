"""k-step advantage estimators, the building blocks GAE averages."""

from __future__ import annotations

from lineage._validation import check_positive_int, check_unit_interval
from lineage.returns.segment import validate_segment
from lineage.returns.td import segment_td_errors


def n_step_advantages(rewards, values, next_values, terminated, truncated, *, gamma: float, n: int):
    """k-step advantage estimates A^(k)_t of every step, for k = ``n``.

        A^(k)_t = Σ_{l=0}^{k−1} γ^l δ_{t+l} = −V(s_t) + Σ_{l=0}^{k−1} γ^l r_{t+l} + γ^k V(s_{t+k})

    Near the end of an episode or of the segment the sum stops early: the last TD error kept already holds the
    bootstrap (or none, if the episode terminated). k = 1 gives δ_t; k ≥ T gives GAE(γ, 1). GAE(γ, λ) is the
    exponentially weighted average (1 − λ) Σ_k λ^{k−1} A^(k)_t, with the weight left over at the end of the
    segment on its longest estimator (Schulman et al. 2016 "High-Dimensional Continuous Control Using
    Generalized Advantage Estimation", eq. 11–16; Sutton & Barto 2018, §7.1 for n-step returns).

    Derivative: ∂A^(k)_t/∂r_{t+l} = γ^l for l < k while the episode of step t runs through step t + l, else 0.

    Claims GAE-6, GAE-7, STD-TT-1; notes §GAE (multi-step estimators).

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V(s_t), same shape.
        next_values: V(s_{t+1}) of the true next observation, same shape.
        terminated: bool flags, same shape; True where s_{t+1} is terminal.
        truncated: bool flags, same shape; True where the episode was cut after step t.
        gamma: discount γ in [0, 1] (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).
        n: the number of steps k ≥ 1.

    Returns:
        A^(n)_t, shape ``[T]`` or ``[T, B]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``rewards``, ``values`` and ``next_values``.
    """
    n = check_positive_int("n", n)
    seg = validate_segment(rewards, values, next_values, terminated, truncated)
    gamma = check_unit_interval("gamma", gamma, symbolic=seg.backend.is_symbolic)
    xp, deltas, continues = seg.backend.xp, segment_td_errors(seg, gamma), seg.continue_mask
    steps = len(deltas)
    advantages = xp.zeros_like(deltas)
    weight = xp.ones_like(deltas)  # γ^l while the episode containing t is still running at t + l
    for lag in range(min(n, steps)):
        live = steps - lag  # the steps t with t + lag inside the segment
        advantages = xp.concatenate([advantages[:live] + weight[:live] * deltas[lag:], advantages[live:]])
        weight = xp.concatenate([weight[:live] * (gamma * continues[lag:]), weight[live:]])
    return advantages
