"""Discounted reward-to-go, REINFORCE's return, bootstrapped where a segment stops early."""

from __future__ import annotations

from lineage._validation import check_unit_interval
from lineage.returns.segment import validate_segment


def discounted_returns(rewards, next_values, terminated, truncated, *, gamma: float):
    """Discounted reward-to-go G_t of every step, bootstrapped where the segment stops before the episode does.

        G_t = r_t + γ (1 − terminated_t) · V(s_{t+1})   if done_t or t = T − 1
        G_t = r_t + γ G_{t+1}                           otherwise

    with done_t = terminated_t ∨ truncated_t. A terminated episode contributes no bootstrap; an episode cut by a
    time limit, or still running at the end of the segment, bootstraps from ``next_values`` (Williams 1992 "Simple
    Statistical Gradient-Following Algorithms for Connectionist Reinforcement Learning" for the reward-to-go
    weight of REINFORCE; Pardo et al. 2018 "Time Limits in Reinforcement Learning" for the bootstrap at a cut).
    When ``next_values[t] == values[t+1]`` inside episodes this is the λ-return at λ = 1, so G_t − V(s_t) is
    GAE(γ, 1) and telescopes to Σ_l γ^l δ_{t+l}.

    Claims PG-8, STD-TT-1, STD-TT-2, GAE-3, GAE-10; notes §PG (REINFORCE), §GAE.

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        next_values: V(s_{t+1}) of the true next observation, same shape (read only where the sum stops).
        terminated: bool flags, same shape; True where s_{t+1} is terminal.
        truncated: bool flags, same shape; True where the episode was cut after step t.
        gamma: discount γ in [0, 1] (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).

    Returns:
        G_t, shape ``[T]`` or ``[T, B]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``rewards`` and ``next_values``.
    """
    seg = validate_segment(rewards, None, next_values, terminated, truncated)
    gamma = check_unit_interval("gamma", gamma, symbolic=seg.backend.is_symbolic)
    xp, bootstrap, continues = seg.backend.xp, seg.bootstrap_mask, seg.continue_mask
    if len(seg.rewards) == 0:
        return seg.rewards * 0
    returns = []
    for t in reversed(range(len(seg.rewards))):
        if t == len(seg.rewards) - 1:
            future = seg.next_values[t]
        else:
            future = xp.where(continues[t] > 0, returns[-1], seg.next_values[t])
        returns.append(seg.rewards[t] + gamma * bootstrap[t] * future)
    return xp.stack(returns[::-1])
