"""TRPO's backtracking line search along the natural-gradient step."""

from __future__ import annotations

import math

from lineage._validation import check_positive_int, check_real
from lineage.arrays import backend_of


def trpo_line_search(
    surrogate, kl, theta_old, full_step, *, max_kl: float, max_backtracks: int, backtrack_ratio: float
):
    """The first of the shrinking steps θ_i = θ_old + ratio^i·Δ that satisfies both trust-region conditions,
    or θ_old itself if none does.

        θ_i = θ_old + ratio^i · Δ,   i = 0, 1, …, max_backtracks − 1
        accept the first θ_i with   KL̄(θ_i) ≤ δ   and   L(θ_i) − L(θ_old) > 0;   none accepted: θ ← θ_old

    where L is the surrogate to maximise (the importance-weighted advantage of the old samples) and KL̄ the mean
    KL(π_old ‖ π_θ) over the batch's states. The quadratic model ½ΔᵀFΔ = δ behind the full natural-gradient step
    Δ is only an approximation, so TRPO checks the real constraint and the real improvement and shrinks the step
    until both hold (Schulman et al. 2015, "Trust Region Policy Optimization", §6 and Appendix C, the problem of
    eq. 12; backtracking as in Nocedal & Wright 2006, "Numerical Optimization", ch. 3). A failed search changes
    nothing: it returns the old parameters, never the last rejected trial (Tianshou's TRPO returned the rejected
    step until its PR #1287).

    Claims STD-NG-2, TRPO-13; notes §TRPO.

    Args:
        surrogate: callable θ ↦ L(θ), a number (or 0-d array/tensor), θ of ``theta_old``'s shape and framework.
        kl: callable θ ↦ KL̄(θ) = mean_s KL(π_old(·|s) ‖ π_θ(·|s)), a number likewise.
        theta_old: the old (flat) parameters θ_old, shape ``[n]``, finite.
        full_step: the full step Δ (e.g. √(2δ / xᵀFx)·x with x ≈ F⁻¹g), shape ``[n]``, finite.
        max_kl: δ ≥ 0, the trust-region radius.
        max_backtracks: number of trial steps, an integer ≥ 1.
        backtrack_ratio: the shrink factor in (0, 1).

    Returns:
        The accepted parameters, or a copy of ``theta_old`` if no trial step was accepted; shape ``[n]``, numpy or
        torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`).
    """
    max_kl = check_real("max_kl", max_kl, minimum=0.0)
    max_backtracks = check_positive_int("max_backtracks", max_backtracks)
    backtrack_ratio = check_real("backtrack_ratio", backtrack_ratio, minimum=0.0, inclusive=False)
    if backtrack_ratio >= 1.0:
        raise ValueError(f"backtrack_ratio: must be < 1, got {backtrack_ratio}")
    backend = backend_of(theta_old, full_step)
    old, step = backend.floats(theta_old=theta_old, full_step=full_step)
    if old.ndim != 1 or math.prod(old.shape) == 0:
        raise ValueError(f"theta_old: expected a non-empty vector of shape [n], got shape {tuple(old.shape)}")
    if tuple(step.shape) != tuple(old.shape):
        raise ValueError(f"full_step: expected shape {tuple(old.shape)} like theta_old, got {tuple(step.shape)}")
    baseline = float(surrogate(old))
    for i in range(max_backtracks):
        trial = old + backtrack_ratio**i * step
        if float(kl(trial)) <= max_kl and float(surrogate(trial)) - baseline > 0:
            return trial
    return old * 1
