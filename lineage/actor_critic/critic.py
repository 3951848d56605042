"""The semi-gradient TD(0) critic: its loss gradient, its update, and the expected tabular step."""

from __future__ import annotations

import numpy as np

from lineage._validation import (
    as_float_array,
    check_positive_int,
    check_real,
    check_same_shape,
    check_time_major,
    check_unit_interval,
)
from lineage.arrays import backend_of
from lineage.returns.segment import SegmentArrays
from lineage.returns.td import segment_td_errors
from lineage.tabular import TabularMDP, policy_rewards, policy_transitions


def critic_loss_gradient(rewards, values, next_values, terminated, value_gradients, *, gamma: float):
    """Semi-gradient of the TD(0) critic loss L(w) = ½ Σ_t (y_t − V_w(s_t))², the target y_t held constant.

        y_t = r_t + γ (1 − terminated_t) V_w(s_{t+1}),   δ_t = y_t − V_w(s_t)
        ∇_w L = −Σ_t δ_t ∇_w V_w(s_t)

    The target is a constant of the loss (a stop-gradient, as for DQN's target), so only V_w(s_t) is
    differentiated; differentiating y_t as well (the residual gradient of ½δ²) would add γ Σ_t δ_t ∇_w V_w(s_{t+1}).
    The notes print the gradient as −r δ ∇V_w(s_t): the factor r is a typo (zero-reward steps would never teach
    the critic). δ_t is :func:`lineage.returns.td_errors`, so V(s_{t+1}) counts as 0 after a termination (Sutton
    1988 "Learning to Predict by the Methods of Temporal Differences"; Sutton & Barto 2018, §9.3 semi-gradient
    TD(0) and §13.5).

    Claims AC-15, AC-16, AC-17; notes §TD.

    Args:
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V_w(s_t), same shape.
        next_values: V_w(s_{t+1}) of the true next observation, same shape.
        terminated: bool flags, same shape; True where s_{t+1} is terminal (no bootstrap).
        value_gradients: ∇_w V_w(s_t), shape ``rewards.shape + [K]`` (for a linear critic V_w = φᵀw, the features
            φ(s_t)).
        gamma: discount γ in [0, 1] (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).

    Returns:
        ∇_w L, shape ``[K]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in every float argument.
    """
    seg, grads = _critic_segment(rewards, values, next_values, terminated, value_gradients=value_gradients)
    return _loss_gradient(seg, grads, gamma)


def critic_update(weights, rewards, values, next_values, terminated, value_gradients, *, gamma: float, step_size):
    """One semi-gradient TD(0) step of the critic's parameters over a segment.

        w ← w + α Σ_t δ_t ∇_w V_w(s_t) = w − α ∇_w L,   δ_t = r_t + γ (1 − terminated_t) V_w(s_{t+1}) − V_w(s_t)

    gradient descent on the semi-gradient critic loss of :func:`critic_loss_gradient` (Sutton 1988 "Learning to
    Predict by the Methods of Temporal Differences"; Sutton & Barto 2018, §9.3 and the one-step actor-critic of
    §13.5).

    Claims AC-15, AC-16, AC-17; notes §TD.

    Args:
        weights: w, shape ``[K]``.
        rewards: r_t, shape ``[T]`` or ``[T, B]`` (time-major).
        values: V_w(s_t), same shape.
        next_values: V_w(s_{t+1}), same shape.
        terminated: bool flags, same shape; True where s_{t+1} is terminal.
        value_gradients: ∇_w V_w(s_t), shape ``rewards.shape + [K]``.
        gamma: discount γ in [0, 1].
        step_size: α > 0.

    Returns:
        The new w, shape ``[K]``; numpy or torch (array rule of :mod:`lineage.arrays`).
    """
    seg, (w, grads) = _critic_segment(
        rewards, values, next_values, terminated, weights=weights, value_gradients=value_gradients
    )
    step_size = check_real("step_size", step_size, minimum=0.0, inclusive=False, symbolic=seg.backend.is_symbolic)
    if tuple(w.shape) != tuple(grads.shape[-1:]):
        raise ValueError(f"weights: expected shape {tuple(grads.shape[-1:])} like value_gradients' last axis")
    return w - step_size * _loss_gradient(seg, grads, gamma)


def linear_critic_update(weights, features, next_features, rewards, terminated, *, gamma: float, step_size):
    """One semi-gradient TD(0) step of a linear critic V_w(s) = φ(s)ᵀw.

        δ_t = r_t + γ (1 − terminated_t) φ(s_{t+1})ᵀw − φ(s_t)ᵀw,   w ← w + α Σ_t δ_t φ(s_t)

    :func:`critic_update` with ∇_w V_w(s_t) = φ(s_t); φ(s_{t+1}) of a terminated step is not used (Sutton 1988
    "Learning to Predict by the Methods of Temporal Differences"; Sutton & Barto 2018, §9.3, linear TD(0)).

    Claims AC-15, AC-16, AC-17; notes §TD.

    Args:
        weights: w, shape ``[K]``.
        features: φ(s_t), shape ``[T, K]`` or ``[T, B, K]``.
        next_features: φ(s_{t+1}), same shape.
        rewards: r_t, shape ``[T]`` or ``[T, B]``.
        terminated: bool flags, shape of ``rewards``.
        gamma: discount γ in [0, 1].
        step_size: α > 0.

    Returns:
        The new w, shape ``[K]``; numpy or torch (array rule of :mod:`lineage.arrays`).
    """
    backend = backend_of(weights, features, next_features, rewards, terminated)
    w, phi, phi_next = backend.floats(weights=weights, features=features, next_features=next_features)
    check_same_shape("features", phi, next_features=phi_next)
    if w.ndim != 1 or phi.ndim < 2 or phi.shape[-1] != w.shape[0]:
        raise ValueError(f"features: expected shape [T, K] or [T, B, K] with K = {tuple(w.shape)}, got {phi.shape}")
    return critic_update(w, rewards, phi @ w, phi_next @ w, terminated, phi, gamma=gamma, step_size=step_size)


def expected_td_steps(mdp: TabularMDP, pi, values, *, step_size: float, steps: int, state_weights=None) -> np.ndarray:
    """Synchronous expected TD(0) on a tabular MDP: every state moves toward its expected one-step target.

        V_{k+1} = V_k + α D (r_π + γ P_π V_k − V_k),   D = diag(w)

    the expectation of the tabular TD(0) update when state s is updated with weight w(s) (a sampling frequency).
    For positive weights with α max_s w(s) ≤ 1 each state's new value is a convex combination of its old value
    and its Bellman backup, so ‖V_{k+1} − V^π‖_∞ ≤ (1 − α min_s w(s) (1 − γ)) ‖V_k − V^π‖_∞ (Sutton 1988
    "Learning to Predict by the Methods of Temporal Differences"; Sutton & Barto 2018, §6.1 and §9.3).
    α = 1 and w ≡ 1 is iterative policy evaluation.

    Claims AC-17, AC-20; notes §TD.

    Args:
        mdp: the :class:`~lineage.tabular.TabularMDP`.
        pi: [S, A] policy, rows on the simplex.
        values: V_0, shape [S].
        step_size: α > 0.
        steps: the number of steps k ≥ 1.
        state_weights: w, shape [S], entries ≥ 0; None for w ≡ 1.

    Returns:
        [steps + 1, S] float64 array of the iterates V_0, V_1, …, V_steps.
    """
    kernel, reward = policy_transitions(mdp, pi), policy_rewards(mdp, pi)
    v = as_float_array("values", values).astype(np.float64)
    if v.shape != (mdp.n_states,):
        raise ValueError(f"values: expected shape ({mdp.n_states},), got {v.shape}")
    weights = np.ones(mdp.n_states) if state_weights is None else as_float_array("state_weights", state_weights)
    if weights.shape != (mdp.n_states,) or np.any(weights < 0):
        raise ValueError(f"state_weights: expected {mdp.n_states} entries >= 0, got {weights.tolist()}")
    rate = check_real("step_size", step_size, minimum=0.0, inclusive=False) * weights
    iterates = [v]
    for _ in range(check_positive_int("steps", steps)):
        v = v + rate * (reward + mdp.gamma * (kernel @ v) - v)
        iterates.append(v)
    return np.stack(iterates)


def _critic_segment(rewards, values, next_values, terminated, **named):
    """The segment (for :func:`segment_td_errors`) and the ``named`` extra float arrays, all of one backend and
    dtype; ``value_gradients`` (last of ``named``) must have shape ``rewards.shape + [K]``."""
    backend = backend_of(rewards, values, next_values, terminated, *named.values())
    r, v, nv, *extra = backend.floats(rewards=rewards, values=values, next_values=next_values, **named)
    (term,) = backend.flags(terminated=terminated)
    check_time_major("rewards", r)
    check_same_shape("rewards", r, values=v, next_values=nv, terminated=term)
    grads = extra[-1]
    if grads.ndim != r.ndim + 1 or tuple(grads.shape[:-1]) != tuple(r.shape):
        raise ValueError(f"value_gradients: expected shape {tuple(r.shape)} + [K], got {tuple(grads.shape)}")
    seg = SegmentArrays(backend, r, v, nv, term, None)
    return seg, (extra[0] if len(extra) == 1 else extra)


def _loss_gradient(seg: SegmentArrays, grads, gamma):
    deltas = segment_td_errors(seg, check_unit_interval("gamma", gamma, symbolic=seg.backend.is_symbolic))
    return -(deltas[..., None] * grads).reshape(-1, grads.shape[-1]).sum(0)
