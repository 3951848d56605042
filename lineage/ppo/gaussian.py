"""The entropy and the KL divergence of diagonal Gaussian policies N(μ, diag σ²), the continuous-action policies of
TRPO and PPO (Schulman et al. 2015 "Trust Region Policy Optimization", §8; Schulman et al. 2017 "Proximal Policy
Optimization Algorithms", §6.1), under the array rule of :mod:`lineage.arrays`."""

from __future__ import annotations

import math

from lineage.arrays import backend_of

HALF_LOG_2PI_E = 0.5 * math.log(2 * math.pi * math.e)


def _gaussians(backend, named: dict) -> list:
    """The named means / log standard deviations as floats of one dtype, broadcast to the first one's shape, which
    must have the action axis last; a shape that does not broadcast is blamed on its argument."""
    arrays = backend.floats(**named)
    (first_name, first), *others = zip(named, arrays, strict=True)
    if first.ndim == 0:
        raise ValueError(f"{first_name}: expected the action dimensions along the last axis, got a scalar")
    shape = tuple(first.shape)
    out = [first]
    for name, x in others:
        xs = tuple(x.shape)
        if len(xs) > len(shape) or any(a not in (1, b) for a, b in zip(xs[::-1], shape[::-1], strict=False)):
            raise ValueError(f"{name}: shape {xs} does not broadcast to the shape {shape} of {first_name}")
        out.append(x + backend.xp.zeros_like(first))
    return out


def diagonal_gaussian_entropy(log_std):
    """The differential entropy of a diagonal Gaussian, per state.

        H[N(μ, diag σ²)] = Σ_k (log σ_k + ½ log(2πe))

    independent of μ (Cover & Thomas 2006 "Elements of Information Theory", §8.4); the entropy bonus of PPO's
    combined objective for a Gaussian policy (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", eq. 9).

    Derivative: ∂H/∂log σ_k = 1.

    Claim STD-PPO-4; notes §PPO (combined objective).

    Args:
        log_std: log σ, shape ``[..., d]`` (the action dimensions last).

    Returns:
        H, shape ``[...]``; numpy or torch with the input's float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``log_std``.
    """
    backend = backend_of(log_std)
    (log_sigma,) = _gaussians(backend, {"log_std": log_std})
    return (log_sigma + HALF_LOG_2PI_E).sum(axis=-1)


def diagonal_gaussian_kl(mean_p, log_std_p, mean_q, log_std_q):
    """KL(p ‖ q) between two diagonal Gaussians p = N(μ_p, diag σ_p²) and q = N(μ_q, diag σ_q²), per state.

        KL(p ‖ q) = Σ_k [ log(σ_q,k / σ_p,k) + (σ_p,k² + (μ_p,k − μ_q,k)²) / (2 σ_q,k²) − ½ ]

    (Kullback & Leibler 1951; the closed form for Gaussians as in Duchi's notes and Bishop 2006 "Pattern
    Recognition and Machine Learning", ex. 2.13). TRPO's constraint and PPO-penalty's penalty take p = π_old and
    q = π_θ (Schulman et al. 2015 "Trust Region Policy Optimization", eq. 12; Schulman et al. 2017 "Proximal Policy
    Optimization Algorithms", eq. 8). KL ≥ 0, with equality iff p = q.

    Derivative in μ_q: ∂KL/∂μ_q,k = (μ_q,k − μ_p,k)/σ_q,k²; in log σ_q: 1 − (σ_p,k² + (μ_p,k − μ_q,k)²)/σ_q,k².

    Claims PPO-4, TRPO-13, STD-KL-2; notes §PPO (KL penalty).

    Args:
        mean_p: μ_p, shape ``[..., d]`` (the action dimensions last).
        log_std_p: log σ_p, broadcastable to ``mean_p``'s shape (e.g. ``[d]``, state-independent).
        mean_q: μ_q, broadcastable to ``mean_p``'s shape.
        log_std_q: log σ_q, broadcastable to ``mean_p``'s shape.

    Returns:
        KL(p ‖ q), shape ``[...]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in all four.
    """
    backend = backend_of(mean_p, log_std_p, mean_q, log_std_q)
    mu_p, ls_p, mu_q, ls_q = _gaussians(
        backend, {"mean_p": mean_p, "log_std_p": log_std_p, "mean_q": mean_q, "log_std_q": log_std_q}
    )
    variance_ratio = backend.xp.exp(2 * (ls_p - ls_q))
    scaled_gap = (mu_p - mu_q) * backend.xp.exp(-ls_q)
    return (ls_q - ls_p + 0.5 * (variance_ratio + scaled_gap**2) - 0.5).sum(axis=-1)
