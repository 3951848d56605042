"""The entropy and KL divergence of diagonal Gaussian policies (lineage.ppo.gaussian; claims STD-PPO-4, PPO-4,
TRPO-13, STD-KL-2; notes §PPO), against their defining integrals.

Exact expectations: a diagonal Gaussian factorises, so H and KL are sums over the action dimensions of
one-dimensional integrals −∫ p log p and ∫ p log(p/q), computed here by the trapezoid rule on a grid of step σ_p/16
over μ_p ± 40σ_p. For an integrand that is smooth and decays like a Gaussian the trapezoid rule is exponentially
accurate (error of order exp(−2π²(σ_p/h)²), far below rounding at h = σ_p/16) and the tails beyond 40σ carry
less than e⁻⁸⁰⁰; what remains is the rounding of the sum, n·eps per term, allowed as n_grid·eps·Σ|terms|.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given

from lineage.ppo.gaussian import diagonal_gaussian_entropy, diagonal_gaussian_kl
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import gaussian_pairs

EPS = float(np.finfo(np.float64).eps)


def log_density(x, mean, log_std):
    return -0.5 * ((x - mean) / math.exp(log_std)) ** 2 - log_std - 0.5 * math.log(2 * math.pi)


def integral(mean_p, log_std_p, integrand) -> tuple[float, float]:
    """∫ p(x) f(x) dx for p = N(mean_p, e^{2 log_std_p}) by the trapezoid rule, and its rounding allowance."""
    sigma = math.exp(log_std_p)
    x = mean_p + sigma * np.linspace(-40.0, 40.0, 1281)  # step σ/16
    terms = np.exp(log_density(x, mean_p, log_std_p)) * integrand(x)
    h = x[1] - x[0]
    value = h * (terms.sum() - 0.5 * (terms[0] + terms[-1]))
    return float(value), len(x) * EPS * h * float(np.abs(terms).sum()) + 1e-300


@pytest.mark.claim("STD-PPO-4")
@given(pair=gaussian_pairs())
def test_entropy_is_the_sum_of_the_one_dimensional_integrals(pair):
    """STD-PPO-4: H[N(μ, diag σ²)] = Σ_k −∫ p_k log p_k, for each state, independent of μ."""
    mean, log_std, _, _ = pair
    got = diagonal_gaussian_entropy(log_std)
    for s in range(mean.shape[0]):
        parts = [
            integral(m, ls, lambda x, m=m, ls=ls: -log_density(x, m, ls))
            for m, ls in zip(mean[s], log_std[s], strict=True)
        ]
        expected, atol = sum(p[0] for p in parts), sum(p[1] for p in parts)
        assert_identity(got[s], expected, atol=atol + 8 * EPS * np.abs(log_std[s]).sum(), what=f"H of state {s}")


@pytest.mark.claim("PPO-4", "TRPO-13", "STD-KL-2")
@given(pair=gaussian_pairs())
def test_kl_is_the_sum_of_the_one_dimensional_integrals_and_never_negative(pair):
    """PPO-4, TRPO-13, STD-KL-2: KL(p ‖ q) = Σ_k ∫ p_k log(p_k/q_k) (p first: the old policy, whose samples
    weigh it), ≥ 0, and 0 when q = p."""
    mean_p, log_std_p, mean_q, log_std_q = pair
    got = diagonal_gaussian_kl(mean_p, log_std_p, mean_q, log_std_q)
    assert got.shape == mean_p.shape[:1]
    for s in range(mean_p.shape[0]):
        parts = [
            integral(mp, lp, lambda x, mp=mp, lp=lp, mq=mq, lq=lq: log_density(x, mp, lp) - log_density(x, mq, lq))
            for mp, lp, mq, lq in zip(mean_p[s], log_std_p[s], mean_q[s], log_std_q[s], strict=True)
        ]
        expected, atol = sum(p[0] for p in parts), sum(p[1] for p in parts)
        scale = float(
            np.sum(np.exp(2 * (log_std_p[s] - log_std_q[s])) + ((mean_p[s] - mean_q[s]) / np.exp(log_std_q[s])) ** 2)
        )
        assert_identity(
            got[s],
            expected,
            atol=atol + 16 * EPS * (scale + np.abs(log_std_p[s] - log_std_q[s]).sum() + 1),
            what=f"KL of state {s}",
        )
        assert_at_least(got[s], 0.0, atol=16 * EPS * (scale + 1), what=f"KL of state {s}")
    if np.array_equal(mean_p, mean_q) and np.array_equal(log_std_p, log_std_q):
        assert_identity(got, 0.0, atol=8 * EPS * mean_p.shape[1], what="KL(p ‖ p)")


@pytest.mark.claim("PPO-4", "TRPO-13")
@given(pair=gaussian_pairs())
def test_kl_gradient_in_the_new_policy_is_the_stated_derivative(pair):
    """PPO-4, TRPO-13: by autograd, ∂KL/∂μ_q = (μ_q − μ_p)/σ_q² and ∂KL/∂log σ_q = 1 − (σ_p² + (μ_p − μ_q)²)/σ_q²
    (what TRPO's Fisher-vector products and PPO-penalty's gradient differentiate); both vanish at q = p."""
    mean_p, log_std_p, mean_q, log_std_q = (torch.tensor(a) for a in pair)
    mean_q.requires_grad_(True)
    log_std_q.requires_grad_(True)
    diagonal_gaussian_kl(mean_p, log_std_p, mean_q, log_std_q).sum().backward()
    var_q = np.exp(2 * pair[3])
    gap = pair[0] - pair[2]
    expected_mean = -gap / var_q
    expected_log_std = 1 - (np.exp(2 * pair[1]) + gap**2) / var_q
    atol = 16 * EPS * float(1 + np.abs(expected_mean).max() + np.abs(expected_log_std).max())
    assert_identity(mean_q.grad.numpy(), expected_mean, atol=atol, what="∂KL/∂μ_q")
    assert_identity(log_std_q.grad.numpy(), expected_log_std, atol=atol, what="∂KL/∂log σ_q")


@pytest.mark.claim("PPO-4")
def test_a_state_independent_log_std_broadcasts_and_a_wrong_shape_is_named():
    """PPO-4: log σ of shape [d] broadcasts over the states (the policies' state-independent σ); a shape that does
    not broadcast raises ValueError naming the argument."""
    mean = np.array([[0.0, 1.0], [2.0, -1.0]])
    log_std = np.array([0.5, -0.5])
    full = np.broadcast_to(log_std, mean.shape).copy()
    assert np.array_equal(
        diagonal_gaussian_kl(mean, log_std, mean * 0.5, log_std), diagonal_gaussian_kl(mean, full, mean * 0.5, full)
    )
    with pytest.raises(ValueError, match=r"^log_std_q:"):
        diagonal_gaussian_kl(mean, log_std, mean, np.zeros(3))
    with pytest.raises(ValueError, match=r"^log_std:"):
        diagonal_gaussian_entropy(np.float64(0.3))
