"""The REINFORCE family: per-trajectory estimates Σ_t w_t ψ_t ∇_θ log π(a_t|s_t) for the six weights ψ_t of the
notes' actor-critic list, in both discounting conventions.

Conventions (the notes mix them): **C1** weights step t by w_t = γ^t and estimates the gradient of the discounted
objective, ∇J_γ = E[Σ_t γ^t ψ_t ∇log π(a_t|s_t)] (Sutton et al. 2000; Sutton & Barto 2018, §13.3). **C2** uses
w_t = 1 and estimates g^γ = E[Σ_t ψ_t ∇log π(a_t|s_t)], the direction of the GAE paper (Schulman et al. 2016),
where γ is a variance-reduction parameter of an undiscounted problem; g^γ = ∇J_γ only when γ = 1.

Arrays put time on the last axis of a trajectory: rewards ``[..., T]``, scores ``[..., T, d]``; every episode ends
after its T-th step (pad a shorter one with zero rewards and zero scores).
"""

from __future__ import annotations

import math

import numpy as np

from lineage._validation import check_unit_interval
from lineage.arrays import backend_of
from lineage.returns import discounted_returns, td_errors

CONVENTIONS = ("C1", "C2")


def _trajectories(name: str, rewards):
    backend = backend_of(rewards)
    (r,) = backend.floats(**{name: rewards})
    if r.ndim == 0 or r.shape[-1] == 0:
        raise ValueError(f"{name}: expected shape [..., T] with T >= 1, got {tuple(r.shape)}")
    return backend, r


def _time_major(r):
    """[..., T] → [T, B] with B the product of the leading axes."""
    return r.reshape(-1, r.shape[-1]).T


def reward_to_go(rewards, *, gamma: float):
    """ψ2, the discounted reward-to-go of every step of an episode that ends after its last step.

        G_t = Σ_{t' = t}^{T−1} γ^{t'−t} r_{t'},   i.e. G_t = r_t + γ G_{t+1},  G_T = 0

    REINFORCE's weight (Williams 1992, "Simple Statistical Gradient-Following Algorithms for Connectionist
    Reinforcement Learning"), computed by :func:`lineage.discounted_returns` with the last step terminated.

    Claims PG-7, PG-8, AC-3, AC-5; notes §PG, §AC.

    Args:
        rewards: r_t, shape ``[..., T]`` (time last).
        gamma: γ in [0, 1].

    Returns:
        G_t, shape ``[..., T]``; numpy or torch like ``rewards`` (array rule of :mod:`lineage.arrays`),
        differentiable in ``rewards``.
    """
    backend, r = _trajectories("rewards", rewards)
    gamma = check_unit_interval("gamma", gamma, symbolic=backend.is_symbolic)
    steps = _time_major(r)
    terminated = np.zeros(tuple(steps.shape), dtype=bool)
    terminated[-1] = True
    returns = discounted_returns(steps, steps * 0, terminated, np.zeros_like(terminated), gamma=gamma)
    return returns.T.reshape(r.shape)


def total_return(rewards, *, gamma: float):
    """ψ1, the discounted return of the whole episode, the same weight at every step.

        ψ_t = R(τ) = Σ_{t'=0}^{T−1} γ^{t'} r_{t'}   for every t

    With C1 it gives ∇J_γ = E[R(τ) ∇log p_θ(τ)] (Williams 1992; Sutton et al. 2000): the score of a trajectory is
    the sum of its per-step scores, the dynamics cancel.

    Claims AC-3, AC-4, STD-REINF-1, BASE-4; notes §AC, §PG.

    Args:
        rewards: r_t, shape ``[..., T]``.
        gamma: γ in [0, 1].

    Returns:
        ψ_t = R(τ), shape ``[..., T]``; numpy or torch like ``rewards``, differentiable in ``rewards``.
    """
    returns = reward_to_go(rewards, gamma=gamma)
    return returns[..., :1] + 0 * returns


def reward_to_go_minus_baseline(rewards, baselines, *, gamma: float):
    """ψ3, the reward-to-go minus a baseline at every step.

        ψ_t = G_t − b_t,   G_t = Σ_{t' ≥ t} γ^{t'−t} r_{t'}

    Unbiased when b_t depends on s_t, t and the past but not on a_t or later (Williams 1992; Greensmith, Bartlett
    & Baxter 2004; Schulman et al. 2016, Proposition 1): E[b_t ∇log π(a_t|s_t) | s_t, past] = 0.

    Claims AC-3, AC-6, STD-GAE-1; notes §AC, §VAR.

    Args:
        rewards: r_t, shape ``[..., T]``.
        baselines: b_t, the shape of ``rewards``.
        gamma: γ in [0, 1].

    Returns:
        G_t − b_t, shape ``[..., T]``; numpy or torch like the inputs, differentiable in both.
    """
    backend = backend_of(rewards, baselines)
    r, b = backend.floats(rewards=rewards, baselines=baselines)
    if tuple(b.shape) != tuple(r.shape):
        raise ValueError(f"baselines: expected shape {tuple(r.shape)} like rewards, got {tuple(b.shape)}")
    return reward_to_go(r, gamma=gamma) - b


def td_error_weights(rewards, values, *, gamma: float):
    """ψ6, the TD error of a critic V at every step.

        ψ_t = δ_t = r_t + γ V(s_{t+1}) − V(s_t)

    computed by :func:`lineage.td_errors`; with the exact V^π its conditional mean given (s_t, a_t) is A^π(s_t, a_t)
    (Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage Estimation", §2).

    Claims AC-3, AC-10, STD-GAE-1; notes §AC, §TD.

    Args:
        rewards: r_t, shape ``[..., T]``.
        values: V(s_0), …, V(s_T), shape ``[..., T + 1]`` (V(s_T) = 0 where the episode has ended).
        gamma: γ in [0, 1].

    Returns:
        δ_t, shape ``[..., T]``; numpy or torch like the inputs, differentiable in both.
    """
    backend = backend_of(rewards, values)
    r, v = backend.floats(rewards=rewards, values=values)
    if r.ndim == 0 or tuple(v.shape) != (*r.shape[:-1], r.shape[-1] + 1):
        raise ValueError(f"values: expected shape [..., T + 1] for rewards {tuple(r.shape)}, got {tuple(v.shape)}")
    steps, v_steps = _time_major(r), _time_major(v)
    terminated = np.zeros(tuple(steps.shape), dtype=bool)
    deltas = td_errors(steps, v_steps[:-1], v_steps[1:], terminated, gamma=gamma)
    return deltas.T.reshape(r.shape)


def gradient_estimate(scores, psi, *, gamma: float, convention: str = "C1"):
    """The policy-gradient estimate of one trajectory (or of each of a batch), Σ_t w_t ψ_t ∇_θ log π(a_t|s_t).

        C1:  ĝ = Σ_t γ^t ψ_t ∇_θ log π(a_t|s_t)     (E ĝ = ∇J_γ for ψ ∈ {R(τ), G_t, G_t − b(s_t), Q^π, A^π, δ^π})
        C2:  ĝ = Σ_t ψ_t ∇_θ log π(a_t|s_t)         (E ĝ = g^γ, the GAE paper's direction; = ∇J_γ only if γ = 1)

    (Williams 1992; Sutton et al. 2000 for C1; Schulman et al. 2016, "High-Dimensional Continuous Control Using
    Generalized Advantage Estimation", §2, for C2.) The notes' REINFORCE formula is C2 presented as ∇J (PG-7).

    Claims PG-7, PG-8, AC-3, AC-8, AC-9, STD-REINF-1, STD-REINF-2; notes §PG, §AC.

    Args:
        scores: ∇_θ log π(a_t|s_t), shape ``[..., T, d]``.
        psi: ψ_t, shape ``[..., T]``.
        gamma: γ in [0, 1] (used by C1 only, but always checked).
        convention: ``"C1"`` (weights γ^t, estimates ∇J_γ) or ``"C2"`` (no γ^t, estimates g^γ).

    Returns:
        ĝ, shape ``[..., d]``; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`),
        differentiable in both.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention: expected one of {CONVENTIONS}, got {convention!r}")
    backend = backend_of(scores, psi)
    g, w = backend.floats(scores=scores, psi=psi)
    if g.ndim < 2 or tuple(g.shape[:-1]) != tuple(w.shape):
        raise ValueError(f"scores: expected shape [..., T, d] for psi {tuple(w.shape)}, got {tuple(g.shape)}")
    gamma = check_unit_interval("gamma", gamma, symbolic=backend.is_symbolic)
    if convention == "C1":
        powers = [gamma**t for t in range(w.shape[-1])]
        w = w * (
            backend.xp.as_tensor(powers, dtype=w.dtype, device=backend.device)
            if backend.is_torch
            else np.array(powers, dtype=w.dtype)
        )
    return (w[..., None] * g).sum(axis=-2)


def reinforce_gradient(scores, rewards, *, gamma: float):
    """REINFORCE's gradient estimate of a batch of N episodes: the mean over episodes of Σ_t γ^t G_t ∇log π.

        ĝ = (1/N) Σ_n Σ_t γ^t G_{n,t} ∇_θ log π(a_{n,t}|s_{n,t}),   G_{n,t} = Σ_{t' ≥ t} γ^{t'−t} r_{n,t'}

    unbiased for ∇J_γ with episodes drawn from π_θ (Williams 1992; Sutton & Barto 2018, §13.3, whose update carries
    γ^t G_t; the notes' formula drops γ^t: PG-7). Each episode ends after its T-th step; pad shorter ones with
    zero rewards (their scores then get weight 0).

    Claims PG-7, PG-8, STD-REINF-1, STD-REINF-2; notes §PG.

    Args:
        scores: ∇_θ log π(a_t|s_t), shape ``[N, T, d]``.
        rewards: r_t, shape ``[N, T]``.
        gamma: γ in [0, 1].

    Returns:
        ĝ, shape ``[d]``; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`), differentiable in
        both.
    """
    backend = backend_of(scores, rewards)
    g, r = backend.floats(scores=scores, rewards=rewards)
    if r.ndim != 2 or math.prod(r.shape) == 0:
        raise ValueError(f"rewards: expected shape [N, T] with N, T >= 1, got {tuple(r.shape)}")
    if g.ndim != 3 or tuple(g.shape[:2]) != tuple(r.shape):
        raise ValueError(f"scores: expected shape [N, T, d] = [{r.shape[0]}, {r.shape[1]}, d], got {tuple(g.shape)}")
    return gradient_estimate(g, reward_to_go(r, gamma=gamma), gamma=gamma, convention="C1").mean(axis=0)
