"""KL estimators k1, k2, k3 of KL(π_old ‖ π_new) on samples from π_old (Schulman 2020; notes §PPO; claims STD-KL-1,
STD-KL-2; teaching counterexample TC-16), by exact enumeration: every outcome of a small distribution is one
sample, weighted by its old probability. No sampling, no Monte Carlo. The folklore "k3 always has the lower
variance" is not the notes' claim but the spec's COND verdict on it, so its refutation confirms STD-KL-1.

Tolerances: log r = log p − log q rounds with |log p| + |log q| (``log_scale``); an expectation over n ≤ 5 outcomes
of estimates of size m is then exact to 8·eps·(n + 1)·m·log_scale (``scaled_tolerance`` times the log scale).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, find, given
from hypothesis import strategies as st

from lineage.laws.cases import DIRECTION  # TC-19's numbers: 0.511 one way, 0.368 the other
from lineage.laws.cases.losses import TwoDistributions, distribution_pairs
from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import kl_k1, kl_k2, kl_k3
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import (
    DIFFERENT,
    EPS,
    SEARCH,
    TiltedPath,
    finite,
    tilted_paths,
)

TC16 = TwoDistributions(old=[0.99, 0.01], new=[0.01, 0.99])


def estimates(estimator, pair: TwoDistributions) -> np.ndarray:
    """lineage's per-sample estimates, one per outcome."""
    return estimator(*pair.log_probs())


def mean_under_old(estimator, pair: TwoDistributions) -> float:
    return float(np.dot(pair.old, estimates(estimator, pair)))


def variance_under_old(estimator, pair: TwoDistributions) -> float:
    values = estimates(estimator, pair)
    return float(np.dot(pair.old, (values - np.dot(pair.old, values)) ** 2))


def tolerance(pair: TwoDistributions, magnitude: float) -> float:
    return scaled_tolerance(EPS, magnitude * pair.log_scale(), len(pair.old))


@pytest.mark.claim("STD-KL-1", "STD-KL-2")
@given(pair=distribution_pairs())
@example(pair=DIRECTION)
def test_k1_and_k3_are_unbiased_k2_is_baselines_approxkl_and_the_signs(pair):
    """STD-KL-1, STD-KL-2 (notes §PPO): under π_old, E[k1] = E[k3] = KL(π_old ‖ π_new) (E_old[r] = 1); k3 ≥ 0 and
    k2 ≥ 0 per sample, exactly (k3 uses expm1, and log r ≤ r − 1); k1 < 0 at some sample whenever π_new ≠ π_old
    (some r > 1, since E_old[r] = 1). baselines ppo2's ``approxkl = .5 * mean(square(neglogpac − OLDNEGLOGPAC))``
    is the mean of k2 on the same samples (neglogp = −log π)."""
    kl = pair.kl_old_new()
    ratio_max = float(np.max(np.array(pair.new) / np.array(pair.old)))
    atol = tolerance(pair, 1 + ratio_max)
    assert_identity(mean_under_old(kl_k1, pair), kl, atol=atol, what="E_old[k1] vs KL(old ‖ new)")
    assert_identity(mean_under_old(kl_k3, pair), kl, atol=atol, what="E_old[k3] vs KL(old ‖ new)")
    assert np.all(estimates(kl_k3, pair) >= 0.0), estimates(kl_k3, pair)
    assert np.all(estimates(kl_k2, pair) >= 0.0), estimates(kl_k2, pair)
    if np.max(np.abs(np.array(pair.new) - np.array(pair.old))) > 1e-9:  # beyond the rounding of normalisation
        assert np.min(estimates(kl_k1, pair)) < 0.0, estimates(kl_k1, pair)
    log_new, log_old = pair.log_probs()
    approxkl = 0.5 * np.mean(np.square(-log_new - -log_old))
    assert_identity(float(np.mean(estimates(kl_k2, pair))), approxkl, atol=atol, what="mean k2 vs baselines' approxkl")


@pytest.mark.claim("STD-KL-1")
@given(logp_new=finite(-20.0, 0.0), ulps=st.integers(-3, 3), far=st.one_of(st.none(), finite(-20.0, 0.0)))
@example(logp_new=-0.1, ulps=1, far=None)
def test_k3_and_k2_are_never_negative_even_an_ulp_from_equal_log_probabilities(logp_new, ulps, far):
    """STD-KL-1 (notes §PPO): per sample k3 = (r − 1) − log r ≥ 0 and k2 ≥ 0 for any log-probabilities, also when
    log r is a few ulps (where exp(log r) − 1 rounds to 0 and only expm1 keeps k3 ≥ 0), and k1 = log π_old − log π_new
    has the sign of that difference."""
    logp_old = far if far is not None else float(logp_new)
    for _ in range(abs(ulps) if far is None else 0):
        logp_old = math.nextafter(logp_old, math.copysign(math.inf, ulps))
    new, old = np.array([logp_new]), np.array([logp_old])
    assert kl_k3(new, old)[0] >= 0.0 and kl_k2(new, old)[0] >= 0.0, (kl_k3(new, old), kl_k2(new, old))
    assert np.sign(kl_k1(new, old)[0]) == np.sign(logp_old - logp_new)


@pytest.mark.claim("STD-KL-1", "STD-KL-2")
@given(path=tilted_paths(), exponent=st.integers(0, 12))
def test_k2_agrees_with_kl_to_second_order(path: TiltedPath, exponent):
    """STD-KL-1, STD-KL-2 (notes §PPO): along p_t = normalise(q·e^{t·d}), log r = t(d − μ) − KL exactly (μ = E_q d),
    so E_q[k2] = ½(t²·Var_q d + KL²); and KL = ½t²·Var_q d + R with |R| ≤ t³·span(d)³/6 (Taylor, third cumulant
    of the tilted d) and KL ≤ t²·span²/8. Hence |E_q[k2] − KL| ≤ t³·span³/6 + t⁴·span⁴/128: baselines' ``approxkl``
    (the mean of k2 on π_old's samples) matches KL(π_old ‖ π_new) to second order, t = 2^−exponent."""
    t = 2.0**-exponent
    pair = path.at(t)
    q, d = np.array(path.old), np.array(path.direction)
    variance = float(np.dot(q, (d - np.dot(q, d)) ** 2))
    kl, mean_k2 = pair.kl_old_new(), mean_under_old(kl_k2, pair)
    atol = tolerance(pair, 1 + 2 * t * path.span())
    assert_identity(mean_k2, 0.5 * (t**2 * variance + kl**2), atol=atol, what="E_q[k2] vs ½(t²·Var d + KL²)")
    span = path.span()
    bound = t**3 * span**3 / 6 + t**4 * span**4 / 128
    assert_at_least(bound, abs(mean_k2 - kl), atol=atol, what=f"third-order bound at t = {t}")


@pytest.mark.claim("STD-KL-1")
def test_k3_has_the_larger_variance_teaching_counterexample_tc16():
    """STD-KL-1 (notes §PPO, TC-16): "k3 has lower variance than k1" fails for q = (0.99, 0.01), p = (0.01, 0.99):
    Var k1 = 0.836, Var k3 = 79.8."""
    assert round(variance_under_old(kl_k1, TC16), 3) == 0.836
    assert round(variance_under_old(kl_k3, TC16), 1) == 79.8


@pytest.mark.claim("STD-KL-1")
@given(pair=distribution_pairs())
@example(pair=TC16)
def test_k3_variance_is_k1_variance_plus_chi_square_minus_a_covariance(pair):
    """STD-KL-1 (notes §PPO): k3 = k1 + (r − 1), so Var k3 = Var k1 + χ²(p ‖ q) − 2·Cov_q(r, log r) with
    χ²(p ‖ q) = Σ p²/q − 1. Both extra terms are ≥ 0 and either can win: k3 is the better estimator only when the
    covariance outweighs χ² (as near p = q), and far from it χ² dominates (TC-16: χ² = 97.0)."""
    q, p = np.array(pair.old), np.array(pair.new)
    ratio = p / q
    chi_square = float(np.sum(p**2 / q) - 1)
    log_r = np.log(ratio)
    covariance = float(np.dot(q, (ratio - 1) * (log_r - np.dot(q, log_r))))
    expected = variance_under_old(kl_k1, pair) + chi_square - 2 * covariance
    atol = tolerance(pair, (1 + ratio.max()) ** 2)
    assert_identity(variance_under_old(kl_k3, pair), expected, atol=atol, what="Var k3 vs Var k1 + χ² − 2Cov")


@pytest.mark.claim("STD-KL-1")
def test_search_finds_distributions_where_k3_has_the_larger_variance():
    """STD-KL-1: hypothesis.find must come back with (q, p) for which Var_q k3 > Var_q k1."""

    def k3_worse(pair: TwoDistributions) -> bool:
        return variance_under_old(kl_k3, pair) > variance_under_old(kl_k1, pair) + DIFFERENT

    found = find(distribution_pairs(), k3_worse, settings=SEARCH)
    assert k3_worse(found), found


def kl_both_ways(pair: TwoDistributions) -> tuple[float, float]:
    """(E_old[k3(new, old)], E_new[k3(old, new)]): the estimate on π_old's samples, and the same code with the roles
    of the policies swapped (samples from π_new)."""
    swapped = TwoDistributions(old=pair.new, new=pair.old)
    return mean_under_old(kl_k3, pair), mean_under_old(kl_k3, swapped)


@pytest.mark.claim("STD-KL-2")
def test_mixing_up_the_direction_gives_another_number():
    """STD-KL-2 (notes §PPO): old = (0.5, 0.5), new = (0.9, 0.1): on π_old's samples the estimators give
    KL(old ‖ new) = 0.511; with the policies' roles swapped the same code gives KL(new ‖ old) = 0.368.
    hypothesis.find must also come back with a pair where the two directions differ."""
    forward, reverse = kl_both_ways(DIRECTION)
    assert (round(forward, 3), round(reverse, 3)) == (0.511, 0.368)
    assert forward == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1), abs=1e-15)

    def directions_differ(pair: TwoDistributions) -> bool:
        return abs(np.subtract(*kl_both_ways(pair))) > DIFFERENT

    found = find(distribution_pairs(), directions_differ, settings=SEARCH)
    assert directions_differ(found), found
