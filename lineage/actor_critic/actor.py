"""The one-step actor-critic actor step: the policy moves along δ_t ∇ log π(a_t|s_t)."""

from __future__ import annotations

import numpy as np

from lineage._validation import check_real, check_same_shape, check_time_major, check_unit_interval
from lineage.arrays import backend_of


def actor_direction(scores, deltas, *, discount: float = 1.0):
    """The actor's ascent direction over one episode (or a batch of episodes that all start at t = 0).

        g = Σ_t I_t δ_t ∇_θ log π_θ(a_t|s_t),   I_t = discount^t

    discount = γ is Sutton & Barto's one-step actor-critic (I ← γI after every step): with the exact critic its
    expectation is ∇J_γ, the gradient of the discounted objective (convention C1). discount = 1 is the notes' form
    and the GAE paper's g^γ = E[Σ_t A^π(s_t, a_t) ∇ log π] (convention C2), which is ∇J_γ only for γ = 1. δ_t is the
    TD error of :func:`lineage.returns.td_errors` (Sutton & Barto 2018, *Reinforcement Learning: An Introduction*,
    §13.5; Schulman et al. 2016 "High-Dimensional Continuous Control Using Generalized Advantage Estimation", §2).
    Any per-step advantage estimate (GAE, a return minus a baseline) may stand in for δ_t.

    Claims AC-19, AC-11, STD-GAE-4; notes §AC, §TD.

    Args:
        scores: ∇_θ log π_θ(a_t|s_t), shape ``[T, K]`` or ``[T, B, K]`` (time-major).
        deltas: δ_t, shape ``[T]`` or ``[T, B]``.
        discount: the factor of I_t = discount^t, in [0, 1] (γ for C1, 1 for C2).

    Returns:
        g, shape ``[K]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``scores`` and ``deltas``.
    """
    backend = backend_of(scores, deltas)
    grads, weights = backend.floats(scores=scores, deltas=deltas)
    check_time_major("deltas", weights)
    if grads.ndim != weights.ndim + 1:
        raise ValueError(f"scores: expected shape {tuple(weights.shape)} + [K], got {tuple(grads.shape)}")
    check_same_shape("deltas", weights, scores=grads[..., 0])
    discount = check_unit_interval("discount", discount, symbolic=backend.is_symbolic)
    steps = len(weights)
    factors = backend.astype(backend.index_array(_powers(discount, steps, backend.is_symbolic)), weights.dtype)
    factors = factors.reshape((steps,) + (1,) * (weights.ndim - 1))
    return ((factors * weights)[..., None] * grads).reshape(-1, grads.shape[-1]).sum(0)


def actor_update(theta, scores, deltas, *, step_size, discount: float = 1.0):
    """One actor step of the one-step actor-critic.

        θ ← θ + α Σ_t I_t δ_t ∇_θ log π_θ(a_t|s_t),   I_t = discount^t

    with the direction of :func:`actor_direction`: discount = γ gives Sutton & Barto's I ← γI (an estimate of
    ∇J_γ, convention C1), discount = 1 the notes' update (convention C2) (Sutton & Barto 2018, §13.5; Schulman et
    al. 2016, §2).

    Claims AC-19; notes §AC, §TD.

    Args:
        theta: θ, shape ``[K]``.
        scores: ∇_θ log π_θ(a_t|s_t), shape ``[T, K]`` or ``[T, B, K]``.
        deltas: δ_t, shape ``[T]`` or ``[T, B]``.
        step_size: α > 0.
        discount: the factor of I_t = discount^t, in [0, 1].

    Returns:
        The new θ, shape ``[K]``; numpy or torch (array rule of :mod:`lineage.arrays`).
    """
    backend = backend_of(theta, scores, deltas)
    (params,) = backend.floats(theta=theta)
    step_size = check_real("step_size", step_size, minimum=0.0, inclusive=False, symbolic=backend.is_symbolic)
    direction = actor_direction(scores, deltas, discount=discount)
    if tuple(params.shape) != tuple(direction.shape):
        raise ValueError(f"theta: expected shape {tuple(direction.shape)} like the scores' last axis")
    return params + step_size * direction


def _powers(discount, steps: int, symbolic: bool) -> np.ndarray:
    """I_t = discount^t for t < steps (exact SymPy powers in a symbolic call)."""
    if symbolic:
        return np.array([discount**t for t in range(steps)], dtype=object)
    return discount ** np.arange(steps, dtype=np.float64)
