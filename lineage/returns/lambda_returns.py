"""TD(λ) returns, the critic's regression target in PPO."""

from __future__ import annotations

from lineage._validation import check_unit_interval
from lineage.returns.gae import segment_gae
from lineage.returns.segment import validate_segment


def lambda_returns(rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float):
    """TD(λ) returns of every step: the GAE advantage plus the value it was measured against.

        R_t = A_t + V(s_t) = r_t + γ (1 − terminated_t) V(s_{t+1}) + γλ (1 − done_t) A_{t+1}

    with A_t from :func:`~lineage.returns.gae`. Inside an episode (``next_values[t] == values[t+1]``) this is the
    λ-return recursion R_t = r_t + γ[(1 − λ) V(s_{t+1}) + λ R_{t+1}] (Sutton & Barto 2018, §12.1; Schulman et al.
    2016 "High-Dimensional Continuous Control Using Generalized Advantage Estimation", §5 for the critic target;
    Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §5). λ = 0 gives the TD(0) target
    r_t + γV(s_{t+1}), λ = 1 the bootstrapped reward-to-go.

    Derivative: ∂R_t/∂r_{t+l} = (γλ)^l like GAE; ∂R_t/∂V(s_t) = 0 (the value enters A_t with −1 and R_t with +1).

    Claims PPO-15, PPO-16, STD-GAE-3; notes §PPO (critic), §GAE.

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V(s_t), same shape.
        next_values: V(s_{t+1}) of the true next observation, same shape.
        terminated: bool flags, same shape; True where s_{t+1} is terminal.
        truncated: bool flags, same shape; True where the episode was cut after step t.
        gamma: discount γ in [0, 1] (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).
        lam: λ in [0, 1] (likewise).

    Returns:
        R_t, shape ``[T]`` or ``[T, B]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``rewards``, ``values`` and ``next_values``.
    """
    seg = validate_segment(rewards, values, next_values, terminated, truncated)
    lam = check_unit_interval("lam", lam, symbolic=seg.backend.is_symbolic)
    gamma = check_unit_interval("gamma", gamma, symbolic=seg.backend.is_symbolic)
    return segment_gae(seg, gamma, lam) + seg.values
