"""Generalized advantage estimation on a rollout segment."""

from __future__ import annotations

from lineage._validation import check_unit_interval
from lineage.returns.segment import SegmentArrays, validate_segment
from lineage.returns.td import segment_td_errors


def gae(rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float):
    """GAE(γ, λ) advantages of every step of a rollout segment.

        δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)
        A_t = δ_t + γλ (1 − done_t) A_{t+1},   A_T = 0,   done_t = terminated_t ∨ truncated_t

    Unrolled, A_t = Σ_l (γλ)^l δ_{t+l} over the steps up to the first episode end or the end of the segment, so
    the last term of a segment that does not end carries the exponent T − t − 1 and nothing comes from beyond it
    (Schulman et al. 2016 "High-Dimensional Continuous Control Using Generalized Advantage Estimation", eq. 16;
    Schulman et al. 2017 "Proximal Policy Optimization Algorithms", eq. 11–12, the truncated form). λ = 0 gives
    δ_t, λ = 1 the bootstrapped Monte-Carlo return minus V(s_t). Terminated steps do not bootstrap, truncated
    ones do, and both stop the recursion. The notes' PPO section prints the recursion without λ in its middle;
    this is the corrected form.

    Derivative: ∂A_t/∂r_{t+l} = (γλ)^l while the episode of step t runs through step t + l, else 0.

    Claims STD-GAE-7, GAE-3, GAE-8, GAE-10, PPO-14, STD-TT-1, STD-TT-2; notes §GAE, §PPO.

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V(s_t), same shape.
        next_values: V(s_{t+1}) of the true next observation, same shape.
        terminated: bool flags, same shape; True where s_{t+1} is terminal (no bootstrap, recursion stops).
        truncated: bool flags, same shape; True where the episode was cut after step t (bootstrap, recursion
            stops).
        gamma: discount γ in [0, 1] (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).
        lam: λ in [0, 1] (likewise).

    Returns:
        A_t, shape ``[T]`` or ``[T, B]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``rewards``, ``values`` and ``next_values``.
    """
    seg = validate_segment(rewards, values, next_values, terminated, truncated)
    lam = check_unit_interval("lam", lam, symbolic=seg.backend.is_symbolic)
    gamma = check_unit_interval("gamma", gamma, symbolic=seg.backend.is_symbolic)
    return segment_gae(seg, gamma, lam)


def segment_gae(seg: SegmentArrays, gamma: float, lam: float):
    """A_t = δ_t + γλ (1 − done_t) A_{t+1}, A_T = 0, of an already validated segment (see :func:`gae`: Schulman et al.
    2016; claims STD-GAE-7, GAE-3; notes §GAE).

    Args:
        seg: the segment from :func:`~lineage.returns.segment.validate_segment`.
        gamma: γ in [0, 1].
        lam: λ in [0, 1].

    Returns:
        A_t, shape ``[T]`` or ``[T, B]``, in the segment's framework and dtype.
    """
    return seg.backward_scan(segment_td_errors(seg, gamma), gamma * lam * seg.continue_mask)
