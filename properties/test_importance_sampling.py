"""Importance sampling by exact sums over outcomes and enumerated episodes (notes §IS, §PG, §GAE; IS-1, IS-2, PG-6,
GAE-1). Data come from a behaviour policy μ; only outcomes with μ > 0 are ever sampled, so an expectation under μ is
a sum over μ's support. The estimators are lineage's (:mod:`lineage.pg.importance`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import Phase, example, find, given, settings
from hypothesis import strategies as st

from lineage.laws.cases.mdps import positive_distributions
from lineage.laws.cases.pg import tables
from lineage.pg import (
    cumulative_ratios,
    estimator_variance,
    per_decision_importance_sampling,
    softmax_score,
    trajectory_importance_sampling,
    weighted_importance_sampling,
)
from lineage.tabular import TabularMDP, enumerate_trajectories, objective, softmax, softmax_policy_gradient
from properties.assertions import assert_at_least, assert_identity
from properties.pg_enumeration import fixed_episodic_mdp

SEARCH = settings(database=None, max_examples=500, phases=[Phase.generate])  # the first instance found is enough
DIFFERENT = 1e-3


@dataclass(frozen=True, eq=False)
class Sampling:
    """A target π and a behaviour μ over n outcomes and values f(x)."""

    target: np.ndarray
    behaviour: np.ndarray
    values: np.ndarray

    def support(self) -> np.ndarray:
        return np.flatnonzero(self.behaviour > 0)

    def importance(self) -> np.ndarray:
        """[K]: lineage's ρ(x) f(x) on each outcome μ can draw (K outcomes, one step each)."""
        x = self.support()
        return trajectory_importance_sampling(self.target[x, None], self.behaviour[x, None], self.values[x])

    def is_mean(self) -> float:
        """E_μ[ρ f]: the IS estimate averaged over μ's outcomes."""
        return float(self.behaviour[self.support()] @ self.importance())

    def target_mean(self) -> float:
        return float(self.target @ self.values)


@st.composite
def samplings(draw, behaviours=positive_distributions, max_outcomes: int = 5) -> Sampling:
    n = draw(st.integers(2, max_outcomes))
    return Sampling(draw(positive_distributions((n,))), draw(behaviours((n,))), draw(tables((n,))))


@st.composite
def with_zeros(draw, shape: tuple[int]) -> np.ndarray:
    """Behaviour distributions with zeros: positive weights in [1e-3, 1], some set to 0 (at least one kept), so a
    ratio π/μ stays below 1e3·n where μ > 0."""
    weights = draw(positive_distributions(shape))
    kept = np.array(draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    kept[draw(st.integers(0, shape[0] - 1))] = True
    return weights * kept / (weights * kept).sum()


# TC-9: π = (0.5, 0.5), μ = (1, 0), f = (0, 1): E_μ[ρf] = 0, E_π[f] = 0.5.
TC9 = Sampling(np.array([0.5, 0.5]), np.array([1.0, 0.0]), np.array([0.0, 1.0]))


def bandit_gradients(case: Sampling) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On the bandit with policy π = softmax(log π), rewards f and behaviour μ: (E_μ[R ∇log π], E_μ[ρ R ∇log π], ∇J),
    with lineage's softmax score and lineage's tabular gradient of J = Σ_a π(a) f(a) (one state, γ = 0)."""
    n = len(case.target)
    logits = np.log(case.target)
    scores = softmax_score(np.tile(logits, (n, 1)), np.arange(n))
    plain = case.behaviour @ (case.values[:, None] * scores)
    weighted = case.behaviour @ (case.importance()[:, None] * scores)
    mdp = TabularMDP(P=np.ones((1, n, 1)), R=case.values[None], nu0=[1.0], gamma=0.0)
    return plain, weighted, softmax_policy_gradient(mdp, logits[None])[0]


@pytest.mark.claim("PG-6")
def test_unweighted_off_policy_gradient_search_finds_a_mismatch():
    """PG-6 (notes §PG, "policy gradient is on-policy"): hypothesis.find must come back with a bandit and a behaviour
    μ ≠ π where the unweighted E_μ[R ∇log π] misses ∇J (the weighted one never does, above)."""

    def misses(case: Sampling) -> bool:
        plain, _, gradient = bandit_gradients(case)
        return float(np.abs(plain - gradient).max()) > DIFFERENT

    found = find(samplings(), misses, settings=SEARCH)
    assert misses(found), found


@pytest.mark.refutes("IS-1")
def test_importance_sampling_without_coverage_search_finds_a_mismatch():
    """IS-1: hypothesis.find must come back with a behaviour μ with zeros where E_μ[ρf] ≠ E_π[f]."""

    def misses(case: Sampling) -> bool:
        return abs(case.is_mean() - case.target_mean()) > DIFFERENT

    found = find(samplings(with_zeros), misses, settings=SEARCH)
    assert misses(found), found


# ------------------------------------------------------------------------------------------------
# Weighted IS: exact expectation over every batch of n = 2 samples.
# ------------------------------------------------------------------------------------------------
def weighted_mean(case: Sampling, n: int) -> float:
    """E over all n-sample batches from μ (each with its probability) of lineage's weighted IS estimate."""
    x = case.support()
    batches = np.array(np.meshgrid(*[x] * n, indexing="ij")).reshape(n, -1).T
    total = 0.0
    for batch in batches:
        estimate = weighted_importance_sampling(
            case.target[batch, None], case.behaviour[batch, None], case.values[batch]
        )
        total += float(np.prod(case.behaviour[batch])) * float(estimate)
    return total


def two_sample_mean(case: Sampling) -> float:
    """E[WIS_2] = Σ_{a,b} μ_a μ_b (ρ_a f_a + ρ_b f_b)/(ρ_a + ρ_b) = 2 Σ_a π_a f_a Σ_b μ_b / (ρ_a + ρ_b), over μ's
    support."""
    kept = case.support()
    case = Sampling(case.target[kept], case.behaviour[kept], case.values[kept])
    rho = case.target / case.behaviour
    return float(
        2 * np.sum(case.target * case.values * (case.behaviour[None, :] / (rho[:, None] + rho[None, :])).sum(1))
    )


# π = (0.5, 0.5), μ = (0.25, 0.75), f = (1, 0): ρ = (2, 2/3), E[WIS_2] = 0.0625 + 0.28125 = 0.34375 vs E_π f = 0.5.
SKEWED = Sampling(np.array([0.5, 0.5]), np.array([0.25, 0.75]), np.array([1.0, 0.0]))


@pytest.mark.claim("IS-1", "IS-2", "GAE-1", "PG-6")
@pytest.mark.refutes("IS-1")
@given(case=samplings(with_zeros))
@example(case=TC9)
@example(case=SKEWED)
def test_importance_sampling_by_exact_sums(case):
    """With data from μ (only outcomes with μ > 0 are ever drawn):
    * IS-1: E_μ[(π/μ) f] = Σ_{x: μ(x) > 0} π(x) f(x): E_π[f] when μ covers π's support, the target mean over μ's
      support otherwise (TC-9: π = (0.5, 0.5), μ = (1, 0), f = (0, 1) gives 0 instead of 0.5; on episodes:
      test_pg_reinforce.py);
    * IS-2: Var_μ[(π/μ) f] = Σ_{μ > 0} π²f²/μ − (E_μ[(π/μ) f])², and for f ≡ 1 the variance χ²(π‖μ_t) along
      μ_t = (1 − t)π + tμ is 0 at t = 0 and non-decreasing in t (t < 1 where μ has zeros);
    * PG-6: on the bandit with rewards f, E_μ[(π/μ) R ∇log π] = ∇J when μ covers π;
    * GAE-1: the mean squared error of the plain mean of f under μ as an estimate of E_π f is bias² + variance;
    * weighted IS Σρf/Σρ averaged over every batch: with one sample it is E_μ[f] (the ratio cancels); with two it is
      2 Σ_a π_a f_a Σ_b μ_b/(ρ_a + ρ_b) over μ's support, not E_π[f] (−0.15625 on π = (0.5, 0.5), μ = (0.25, 0.75),
      f = (1, 0)); unbiased when μ = π."""
    pi, mu, f, kept = case.target, case.behaviour, case.values, case.support()
    covered = len(kept) == len(mu)
    scale = 1.0 + float(np.abs(f).max()) ** 2 * float((pi[kept] / mu[kept]).max())
    assert_identity(case.is_mean(), float(pi[kept] @ f[kept]), atol=1e-12 * scale, what="E_μ[ρf] vs Σ_{μ>0} πf")
    variance = float(estimator_variance(mu[kept], case.importance()))
    second = float(pi[kept] @ (pi[kept] / mu[kept] * f[kept] ** 2))
    assert_identity(variance, second - case.is_mean() ** 2, atol=1e-12 * scale, what="Var_μ[ρf]")
    grid = np.linspace(0.0, 1.0 if covered else 0.9, 11)[:, None]
    segment = (1 - grid) * pi + grid * mu  # μ_t, one row per t
    ratios = cumulative_ratios(np.broadcast_to(pi, segment.shape)[..., None], segment[..., None])[..., 0]
    chi2 = (pi * ratios).sum(axis=1) - 1.0  # χ²(π‖μ_t) = E_π[π/μ_t] − 1 = Var_{μ_t}[π/μ_t] (the identity, f ≡ 1)
    assert_identity(chi2[0], 0.0, atol=1e-12, what="χ²(π‖π)")
    assert_at_least(np.diff(chi2), 0.0, atol=1e-12 * float(ratios.max()), what="χ²(π‖μ_t) non-decreasing in t")
    bias = float(mu @ f) - case.target_mean()
    mse = float(mu @ (f - case.target_mean()) ** 2)
    assert_identity(mse, bias**2 + float(estimator_variance(mu, f)), atol=1e-12 * scale, what="MSE vs bias² + var")
    if covered:
        _, weighted, gradient = bandit_gradients(case)
        assert_identity(weighted, gradient, atol=1e-12 * scale, what="E_μ[ρR∇log π] vs ∇J")
    both = [weighted_mean(case, 1), weighted_mean(case, 2), weighted_mean(Sampling(pi, pi, f), 2)]
    expected = [float(mu @ f), two_sample_mean(case), case.target_mean()]
    assert_identity(both, expected, atol=1e-12 * scale, what="E[WIS_1], E[WIS_2], E[WIS_2] at μ = π")
    if case is TC9:
        assert case.is_mean() == 0.0 and case.target_mean() == 0.5, (case.is_mean(), case.target_mean())
    if case is SKEWED:
        assert weighted_mean(case, 2) - case.target_mean() == pytest.approx(-0.15625, abs=1e-15)


@pytest.mark.claim("IS-1")
def test_weighted_importance_sampling_search_finds_bias():
    """Hypothesis.find must come back with (π, μ, f) where weighted IS with two samples is biased for E_π[f]."""

    def biased(case: Sampling) -> bool:
        return abs(weighted_mean(case, 2) - case.target_mean()) > DIFFERENT

    found = find(samplings(), biased, settings=SEARCH)
    assert biased(found), found


@pytest.mark.claim("IS-1", "IS-2")
def test_importance_sampling_results_in_words(result):
    """The importance-sampling results with their numbers: an arbitrary value per episode of a fixed absorbing MDP, its
    IS estimate from a different behaviour policy, TC-9, per-decision IS and the bias of weighted IS."""
    mdp, rng = fixed_episodic_mdp(11), np.random.default_rng(12)
    pi, mu = softmax(rng.uniform(-2, 2, (4, 2))), softmax(rng.uniform(-2, 2, (4, 2)))
    on_pi, on_mu = (enumerate_trajectories(mdp, policy, 3) for policy in (pi, mu))
    keys = [tuple(row) for row in np.concatenate([on_mu.states, on_mu.actions], axis=1)]
    values = dict(zip(keys, rng.uniform(-5, 5, len(keys)), strict=True))
    f_mu = np.array([values[k] for k in keys])
    f_pi = np.array([values[tuple(row)] for row in np.concatenate([on_pi.states, on_pi.actions], axis=1)])
    s, a = on_mu.states[:, :-1], on_mu.actions
    estimate = on_mu.expectation(trajectory_importance_sampling(pi[s, a], mu[s, a], f_mu))
    error = abs(float(estimate) - float(on_pi.expectation(f_pi)))
    per_decision = on_mu.expectation(
        per_decision_importance_sampling(pi[s, a], mu[s, a], on_mu.rewards(mdp), gamma=0.9)
    )
    pd_error = abs(float(per_decision) - objective(mdp, pi))
    assert error < 1e-12 and pd_error < 1e-12, (error, pd_error)
    assert TC9.is_mean() == 0.0 and TC9.target_mean() == 0.5
    bias = weighted_mean(SKEWED, 2) - SKEWED.target_mean()
    assert bias == pytest.approx(-0.15625, abs=1e-15), bias
    result(
        "IS-1",
        f"importance sampling: E_μ[ρ(τ)f(τ)] = E_π[f(τ)] exactly on the {len(keys)} enumerated 3-step paths of a "
        f"4-state MDP when μ covers π's support (error {error:.1e} for an arbitrary f); with μ = (1, 0) it gives "
        f"{TC9.is_mean():g} instead of {TC9.target_mean():g} (TC-9); per-decision IS is unbiased too (error "
        f"{pd_error:.1e} for J(π)); weighted IS with n = 2 samples is biased by {bias:.5f} for π = (0.5, 0.5), "
        f"μ = (0.25, 0.75), f = (1, 0) (exact mean over all 4 batches: 0.34375 vs 0.5)",
    )
