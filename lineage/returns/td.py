"""One-step TD errors, the critic's error signal and the λ = 0 advantage."""

from __future__ import annotations

from lineage._validation import check_unit_interval
from lineage.returns.segment import SegmentArrays, validate_segment


def td_errors(rewards, values, next_values, terminated, *, gamma: float):
    """One-step temporal-difference errors of a rollout segment.

        δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)

    With the exact value function V^π, E[δ_t | s_t, a_t] = A^π(s_t, a_t), so δ_t is the λ = 0 member of the GAE
    family (Sutton 1988 "Learning to Predict by the Methods of Temporal Differences"; Schulman et al. 2016
    "High-Dimensional Continuous Control Using Generalized Advantage Estimation", eq. 10). The notes print the
    λ = 0 case as r_t + γV(s_{t+1} − V(s_t)); the parenthesis there is a typo. A time-limit cut does not change
    δ_t: the cut episode still bootstraps from ``next_values``, so ``truncated`` is not an argument.

    Claims AC-10, GAE-2, GAE-8, STD-TT-1; notes §AC (ψ6), §TD, §GAE.

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V(s_t), same shape.
        next_values: V(s_{t+1}) of the true next observation, same shape.
        terminated: bool flags, same shape; True where s_{t+1} is terminal (no bootstrap).
        gamma: discount γ in [0, 1] (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).

    Returns:
        δ_t, shape ``[T]`` or ``[T, B]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``rewards``, ``values`` and ``next_values``.
    """
    seg = validate_segment(rewards, values, next_values, terminated, None)
    return segment_td_errors(seg, check_unit_interval("gamma", gamma, symbolic=seg.backend.is_symbolic))


def segment_td_errors(seg: SegmentArrays, gamma: float):
    """δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t) of an already validated segment (see :func:`td_errors`:
    Sutton 1988; claims GAE-2, STD-TT-1; notes §TD).

    Args:
        seg: the segment from :func:`~lineage.returns.segment.validate_segment`.
        gamma: γ in [0, 1].

    Returns:
        δ_t, shape ``[T]`` or ``[T, B]``, in the segment's framework and dtype.
    """
    return seg.rewards + gamma * seg.bootstrap_mask * seg.next_values - seg.values
