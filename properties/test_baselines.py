"""Baselines and variance on a bandit (one state, A actions, softmax policy), by exact sums over the actions
(notes §VAR; AC-6, AC-7, STD-BASE-1, STD-REINF-2).

The estimate of one pull is (R(a) − b)·g(a), g(a) = ∇_θ log π(a) from lineage's softmax score; its mean is ∇J for every
b (the score has mean 0), and its variance tr Var = Σ_a π(a)‖(R(a) − b)g(a) − ∇J‖² is lineage's ``estimator_variance``.
That variance is a convex quadratic in b with its minimum at Greensmith, Bartlett & Baxter's b* = E[‖g‖²R]/E[‖g‖²], and
b = V = E[R] is not b*: the baseline the notes recommend can raise the variance (TC-2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import Phase, example, find, given, settings
from hypothesis import strategies as st

from lineage.laws.cases.pg import tables
from lineage.pg import estimator_variance, optimal_baseline, per_parameter_optimal_baseline, softmax_score
from lineage.tabular import TabularMDP, softmax, softmax_policy_gradient
from properties.assertions import assert_at_least, assert_identity

SEARCH = settings(database=None, max_examples=500, phases=[Phase.generate])  # the first instance found is enough
ATOL = 1e-12  # rewards, baselines and scores are O(1): sums of ≤ 4 products of size ≤ 10 round far below this


@dataclass(frozen=True, eq=False)
class Bandit:
    """A softmax bandit: logits θ[A], rewards R[A], a scalar baseline b, a per-parameter baseline and step sizes α.
    ``one_parameter`` keeps only the last logit as the parameter (the Bernoulli logit of M2)."""

    logits: np.ndarray
    rewards: np.ndarray
    baseline: float
    baselines: np.ndarray
    steps: np.ndarray
    one_parameter: bool = False

    def policy(self) -> np.ndarray:
        return softmax(self.logits)

    def scores(self) -> np.ndarray:
        """[A, d]: row a is lineage's ∇ log π(a) (d = A, or 1 for the last logit alone)."""
        n = len(self.logits)
        scores = softmax_score(np.tile(self.logits, (n, 1)), np.arange(n))
        return scores[:, -1:] if self.one_parameter else scores

    def estimates(self, baseline) -> np.ndarray:
        """[A, d]: (R(a) − b)·g(a) for a scalar b or a per-parameter b[d]."""
        return (self.rewards[:, None] - baseline) * self.scores()

    def variance(self, baseline) -> float:
        return float(estimator_variance(self.policy(), self.estimates(baseline)))

    def gradient(self) -> np.ndarray:
        """∇J, J = Σ_a π(a)R(a), from lineage's tabular gradient on the one-state MDP with γ = 0."""
        n = len(self.logits)
        mdp = TabularMDP(P=np.ones((1, n, 1)), R=self.rewards[None], nu0=[1.0], gamma=0.0)
        gradient = softmax_policy_gradient(mdp, self.logits[None])[0]
        return gradient[-1:] if self.one_parameter else gradient


@st.composite
def bandits(draw) -> Bandit:
    """A ∈ [2, 4] actions, logits in [−4, 4], rewards in [−1, 1], baselines in [−3, 3], step sizes |α| ≤ 2."""
    n = draw(st.integers(2, 4))
    logits, rewards, baselines, steps = (draw(tables((n,), bound)) for bound in (4.0, 1.0, 3.0, 2.0))
    return Bandit(logits, rewards, float(baselines[0]), baselines, np.abs(steps))


# TC-2 (M2): p = σ(log 9) = 0.9, R = (0, 1), V = E[R] = 0.9; with the one logit: Var 0.0009 (b = 0), 0.0576 (b = V),
# b* = 0.1 with Var 0; with both logits of the softmax every number doubles.
M2 = Bandit(np.array([0.0, np.log(9.0)]), np.array([0.0, 1.0]), 0.9, np.array([0.9, 0.9]), np.ones(2), True)
M2_SOFTMAX = Bandit(M2.logits, M2.rewards, 0.9, np.array([0.9, 0.9]), np.ones(2), False)


@pytest.mark.claim("AC-7", "STD-BASE-1", "AC-6", "STD-REINF-2")
@given(bandit=bandits())
@example(bandit=M2)
@example(bandit=M2_SOFTMAX)
def test_variance_is_a_quadratic_in_the_baseline_minimised_at_b_star(bandit):
    """AC-7, STD-BASE-1: tr Var[(R − b)g] = tr Var[(R − b*)g] + (b − b*)² E‖g‖² for every b: a convex quadratic with its
    minimum at b* = E[‖g‖²R]/E[‖g‖²], so var(b*) ≤ var(b); coordinate k alone is minimised by b*_k = E[g_k²R]/E[g_k²],
    whose total variance is at most var(b*). AC-6, STD-REINF-2: every baseline leaves the mean at ∇J, so the expected
    update E[α ⊙ (R − b)g] is α ⊙ ∇J, in the half-space of ∇J for positive per-parameter α (= α∇J for one α). TC-2 on
    M2: 0.0009 at b = 0, 0.0576 at b = V = 0.9, b* = 0.1 with 0; both softmax logits: ×2."""
    pi, scores, gradient = bandit.policy(), bandit.scores(), bandit.gradient()
    best = float(optimal_baseline(pi, scores, bandit.rewards))
    curvature = float(pi @ (scores**2).sum(axis=1))
    b = bandit.baseline
    assert_identity(bandit.variance(b), bandit.variance(best) + (b - best) ** 2 * curvature, atol=ATOL, what="var(b)")
    assert_at_least(bandit.variance(b), bandit.variance(best), atol=ATOL, what="var(b) ≥ var(b*)")
    per_parameter = per_parameter_optimal_baseline(pi, scores, bandit.rewards)
    mixed = bandit.baselines[: scores.shape[1]]
    coordinate_curvature = pi @ scores**2
    assert_identity(
        bandit.variance(mixed),
        bandit.variance(per_parameter) + float(((mixed - per_parameter) ** 2) @ coordinate_curvature),
        atol=ATOL,
        what="Σ_k var_k(b_k) vs Σ_k var_k(b*_k) + (b_k − b*_k)² E[g_k²]",
    )
    assert_at_least(bandit.variance(best), bandit.variance(per_parameter), atol=ATOL, what="var(b*) ≥ var(b*_k)")
    steps = bandit.steps[: scores.shape[1]]
    updates = np.stack([pi @ (steps * bandit.estimates(baseline)) for baseline in (0.0, b, best, mixed)])
    assert_identity(updates, np.tile(steps * gradient, (4, 1)), atol=ATOL, what="E[α ⊙ (R − b)g] vs α ⊙ ∇J")
    assert_at_least(updates @ gradient, 0.0, atol=ATOL, what="⟨E[update], ∇J⟩ ≥ 0")
    if bandit is M2 or bandit is M2_SOFTMAX:
        times = 1 if bandit is M2 else 2
        assert best == pytest.approx(0.1, abs=1e-15), best
        for baseline, variance in ((0.0, 0.0009), (0.9, 0.0576), (best, 0.0)):
            assert bandit.variance(baseline) == pytest.approx(times * variance, abs=1e-15), (baseline, times)


@pytest.mark.refutes("AC-7")
def test_value_baseline_search_finds_more_variance():
    """AC-7 (notes §VAR: the baseline "reduces variance"): hypothesis.find must come back with a bandit where b = V =
    E_π[R] gives the gradient estimate more variance than no baseline at all."""

    def worse(bandit: Bandit) -> bool:
        value = float(bandit.policy() @ bandit.rewards)
        return bandit.variance(value) > bandit.variance(0.0) + 1e-9

    found = find(bandits(), worse, settings=SEARCH)
    assert worse(found), found


@pytest.mark.claim("AC-7", "STD-BASE-1")
def test_baseline_results_in_words(result):
    """The baseline results with their numbers (M2 of TC-2, and a four-action bandit)."""
    value = float(M2.policy() @ M2.rewards)
    best = float(optimal_baseline(M2.policy(), M2.scores(), M2.rewards))
    numbers = [M2.variance(b) for b in (0.0, value, best)]
    assert numbers == pytest.approx([0.0009, 0.0576, 0.0], abs=1e-15), numbers
    rng = np.random.default_rng(7)
    bandit = Bandit(rng.uniform(-2, 2, 4), rng.uniform(-1, 1, 4), 0.0, np.zeros(4), np.ones(4))
    shift = rng.uniform(-3, 3, 8)
    means = [bandit.policy() @ bandit.estimates(b) for b in shift]
    drift = float(np.max(np.abs(np.array(means) - bandit.gradient())))
    assert drift < 1e-14, drift
    best4 = float(optimal_baseline(bandit.policy(), bandit.scores(), bandit.rewards))
    assert bandit.variance(best4) <= bandit.variance(0.0)
    result(
        "AC-7",
        f"baselines: a baseline that ignores the action leaves the expected gradient unchanged (8 baselines on a "
        f"4-action bandit: largest change {drift:.1e}); b* = E[‖g‖²R]/E[‖g‖²] never has more variance than b = 0 "
        f"({bandit.variance(best4):.4f} vs {bandit.variance(0.0):.4f} there); b = V^π can have more: M2 gives "
        f"{numbers[1]:.4f} with b = V = {value:.1f} vs {numbers[0]:.4f} with b = 0 and {numbers[2]:.0f} with "
        f"b* = {best:.1f} (TC-2)",
    )
