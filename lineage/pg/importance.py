"""Importance sampling: expectations under a target policy π from trajectories of a behaviour policy μ."""

from __future__ import annotations

from lineage._validation import check_unit_interval
from lineage.arrays import backend_of, to_numpy


def _probabilities(target_probs, behaviour_probs, **named):
    backend = backend_of(target_probs, behaviour_probs, *named.values())
    pi, mu, *others = backend.floats(target_probs=target_probs, behaviour_probs=behaviour_probs, **named)
    if pi.ndim == 0 or pi.shape[-1] == 0:
        raise ValueError(f"target_probs: expected shape [..., T] with T >= 1, got {tuple(pi.shape)}")
    if tuple(mu.shape) != tuple(pi.shape):
        raise ValueError(f"behaviour_probs: expected shape {tuple(pi.shape)} like target_probs, got {tuple(mu.shape)}")
    if not backend.is_symbolic:
        if bool(((pi < 0) | (pi > 1)).any()):
            raise ValueError("target_probs: every probability must lie in [0, 1]")
        if bool(((mu <= 0) | (mu > 1)).any()):
            raise ValueError(
                "behaviour_probs: every probability must lie in (0, 1]: a sampled action has μ(a|s) > 0 "
                "(an action μ never takes is never in the data, which is why IS needs μ > 0 wherever π > 0)"
            )
    return backend, pi, mu, others


def cumulative_ratios(target_probs, behaviour_probs):
    """The products of the per-step likelihood ratios along each trajectory.

        ρ_{0:t} = Π_{k=0}^{t} π(a_k|s_k) / μ(a_k|s_k)

    the weight that turns a behaviour trajectory's prefix into one of the target policy (the dynamics cancel;
    Precup, Sutton & Singh 2000, "Eligibility Traces for Off-Policy Policy Evaluation").

    Claims IS-1, PG-6; notes §IS.

    Args:
        target_probs: π(a_t|s_t) along each trajectory, shape ``[..., T]``.
        behaviour_probs: μ(a_t|s_t) > 0, the shape of ``target_probs``.

    Returns:
        ρ_{0:t}, shape ``[..., T]``; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`),
        differentiable in both.
    """
    backend, pi, mu, _ = _probabilities(target_probs, behaviour_probs)
    ratios = pi / mu
    if backend.is_torch:
        return ratios.cumprod(dim=-1)
    return ratios.cumprod(axis=-1)


def trajectory_importance_sampling(target_probs, behaviour_probs, values):
    """Ordinary (trajectory-wise) importance sampling: each behaviour trajectory's value times its whole ratio.

        x(τ) = ρ_{0:T−1}(τ) f(τ),   E_μ[x] = E_π[f]   when μ > 0 wherever π f ≠ 0

    (Precup, Sutton & Singh 2000; for one step, E_{a~μ}[π(a)/μ(a) f(a)] = E_{a~π}[f(a)], the notes' IS identity;
    without support coverage the paths μ never takes are missing from the sum.)

    Claims IS-1, IS-2, PG-6; notes §IS.

    Args:
        target_probs: π(a_t|s_t), shape ``[..., T]``.
        behaviour_probs: μ(a_t|s_t) > 0, the same shape.
        values: f(τ), shape ``[...]``.

    Returns:
        ρ(τ) f(τ) per trajectory, shape ``[...]``; numpy or torch like the inputs, differentiable in all three.
    """
    _, pi, mu, (f,) = _probabilities(target_probs, behaviour_probs, values=values)
    if tuple(f.shape) != tuple(pi.shape[:-1]):
        raise ValueError(f"values: expected shape {tuple(pi.shape[:-1])}, one per trajectory, got {tuple(f.shape)}")
    return cumulative_ratios(pi, mu)[..., -1] * f


def per_decision_importance_sampling(target_probs, behaviour_probs, rewards, *, gamma: float):
    """Per-decision importance sampling of the discounted return: reward t is weighted by the ratio of its prefix.

        x(τ) = Σ_t γ^t ρ_{0:t} r_t,   E_μ[x] = E_π[Σ_t γ^t r_t]   when μ > 0 wherever π > 0

    r_t does not depend on the actions after t, so their ratios (mean 1 under μ) can be dropped: same expectation
    as the trajectory-wise estimator, usually less variance (Precup, Sutton & Singh 2000, "Eligibility Traces for
    Off-Policy Policy Evaluation").

    Claims IS-1, IS-2; notes §IS.

    Args:
        target_probs: π(a_t|s_t), shape ``[..., T]``.
        behaviour_probs: μ(a_t|s_t) > 0, the same shape.
        rewards: r_t, the same shape.
        gamma: γ in [0, 1].

    Returns:
        x(τ) per trajectory, shape ``[...]``; numpy or torch like the inputs, differentiable in all three.
    """
    backend, pi, mu, (r,) = _probabilities(target_probs, behaviour_probs, rewards=rewards)
    if tuple(r.shape) != tuple(pi.shape):
        raise ValueError(f"rewards: expected shape {tuple(pi.shape)} like target_probs, got {tuple(r.shape)}")
    gamma = check_unit_interval("gamma", gamma, symbolic=backend.is_symbolic)
    discounted = r * 1
    for t in range(1, r.shape[-1]):
        discounted[..., t] = discounted[..., t] * gamma**t
    return (cumulative_ratios(pi, mu) * discounted).sum(axis=-1)


def weighted_importance_sampling(target_probs, behaviour_probs, values):
    """Weighted (self-normalised) importance sampling over a batch of N behaviour trajectories.

        x̂ = Σ_n ρ_n f_n / Σ_n ρ_n,   ρ_n = ρ_{0:T−1}(τ_n)

    biased for E_π[f] at finite N (consistent as N → ∞), but bounded by the values' range; with one sample it is
    f(τ_1) itself, whose mean is E_μ[f] (Precup, Sutton & Singh 2000; Hesterberg 1995). 0 when every ρ_n = 0.

    Claims IS-1, IS-2; notes §IS.

    Args:
        target_probs: π(a_t|s_t), shape ``[N, T]``.
        behaviour_probs: μ(a_t|s_t) > 0, the same shape.
        values: f(τ_n), shape ``[N]``.

    Returns:
        x̂, a 0-d array; numpy or torch like the inputs (array rule of :mod:`lineage.arrays`).
    """
    backend, pi, mu, (f,) = _probabilities(target_probs, behaviour_probs, values=values)
    if pi.ndim != 2 or tuple(f.shape) != (pi.shape[0],):
        raise ValueError(f"values: expected shape [N] for target_probs [N, T] {tuple(pi.shape)}, got {tuple(f.shape)}")
    weights = cumulative_ratios(pi, mu)[:, -1]
    total = weights.sum()
    if float(to_numpy(total)) == 0.0:
        return backend.scalar(total * 0)
    return backend.scalar((weights * f).sum() / total)
