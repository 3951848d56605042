"""The band [1 − ε, 1 + ε] is not a constraint (notes §PPO; claims PPO-6, PPO-7, PPO-11; teaching counterexample
TC-12): the clip zeroes the gradient outside it, but a gradient step can jump over it, another sample sharing the
parameters can push the ratio through it, and the band moves with the sampling policy at every iteration. Each
counterexample is pinned with its exact numbers, stated as a property that says what happens instead, and searched
for with ``hypothesis.find``. Every loss and gradient comes from lineage's ``ppo_clip_loss`` (torch autograd,
float64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pytest
import torch
from hypothesis import example, find, given
from hypothesis import strategies as st

from lineage.laws.cases.losses import clip_ranges
from lineage.ppo import ppo_clip_loss
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import EPS, SEARCH, finite, gradient, tensor

TEACHING_EPS = 0.2


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ------------------------------------------------------------------------------------------------
# TC-12 (a): one gradient step jumps over the band.
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BernoulliStep:
    """π(a = 1) = σ(θ); one sample a = 1 with advantage A; one ascent step of size lr on L^CLIP from θ_old."""

    logit_old: float
    advantage: float
    clip_eps: float
    lr: float

    def ratio_after_step(self) -> float:
        """ρ = π_θ'(1)/π_θold(1) after θ' = θ_old − lr·∂loss/∂θ (the loss is −L^CLIP)."""
        theta = tensor(self.logit_old, grad=True)
        logp_old = torch.nn.functional.logsigmoid(tensor(self.logit_old))
        loss = ppo_clip_loss(
            torch.nn.functional.logsigmoid(theta)[None], logp_old[None], [self.advantage], clip_eps=self.clip_eps
        )
        stepped = self.logit_old - self.lr * gradient(loss, theta).item()
        return sigmoid(stepped) / sigmoid(self.logit_old)

    def outside_band(self) -> bool:
        return not (1 - self.clip_eps <= self.ratio_after_step() <= 1 + self.clip_eps)


TC12A = BernoulliStep(logit_old=0.0, advantage=1.0, clip_eps=TEACHING_EPS, lr=10.0)
TC12A_MIRROR = BernoulliStep(logit_old=0.0, advantage=-1.0, clip_eps=TEACHING_EPS, lr=10.0)

bernoulli_steps = st.builds(
    BernoulliStep,
    logit_old=finite(-4.0, 4.0),
    advantage=st.one_of(st.sampled_from([1.0, -1.0]), finite(-5.0, 5.0)),
    clip_eps=clip_ranges(),
    lr=finite(0.01, 20.0),
)


@pytest.mark.refutes("PPO-6", "PPO-7")
def test_one_step_overshoots_the_band_tc12a():
    """PPO-6 (notes §PPO, TC-12 a): θ_old = 0, A = +1, ε = 0.2, lr = 10: at ρ = 1 the gradient of L^CLIP is the
    unclipped one, ∂ρ/∂θ = 1/2, so θ' = 5 and ρ = 2σ(5) = 1.987 > 1.2. PPO-7, mirrored: A = −1 gives
    θ' = −5 and ρ = 2σ(−5) = 0.0134 < 0.8."""
    assert TC12A.ratio_after_step() == pytest.approx(2 * sigmoid(5.0), abs=1e-15)
    assert round(TC12A.ratio_after_step(), 3) == 1.987
    assert TC12A_MIRROR.ratio_after_step() == pytest.approx(2 * sigmoid(-5.0), abs=1e-15)
    assert TC12A_MIRROR.ratio_after_step() < 1 - TEACHING_EPS


@pytest.mark.refutes("PPO-6", "PPO-7")
@given(step=bernoulli_steps)
@example(step=TC12A)
@example(step=TC12A_MIRROR)
def test_the_first_step_is_the_policy_gradient_step_whatever_eps(step):
    """PPO-6, PPO-7 (notes §PPO): from θ_old (ρ = 1, inside the band) the step is the unclipped policy-gradient
    step θ' = θ_old + lr·A·(1 − σ(θ_old)), so the ratio after it, σ(θ')/σ(θ_old), does not depend on ε at all:
    nothing in the step can keep ρ within [1 − ε, 1 + ε]."""
    move = step.lr * step.advantage * (1 - sigmoid(step.logit_old))
    theta = step.logit_old + move
    expected = sigmoid(theta) / sigmoid(step.logit_old)
    # θ' = θ_old + move rounds to a few EPS·(|θ_old| + |move|), not EPS·|θ'|: the two terms may cancel (θ_old = 3,
    # move = −2.85); |σ'/σ| ≤ 1 carries that absolute error of θ' into ρ's relative error.
    atol = 8 * EPS * (1 + abs(step.logit_old) + abs(move)) * expected
    assert_identity(step.ratio_after_step(), expected, atol=atol, what="ρ after one step")


@pytest.mark.refutes("PPO-6", "PPO-7")
def test_search_finds_a_step_that_leaves_the_band():
    """PPO-6, PPO-7: hypothesis.find must come back with a Bernoulli step (any θ_old, A, ε, lr) whose ratio leaves
    [1 − ε, 1 + ε]."""
    found = find(bernoulli_steps, BernoulliStep.outside_band, settings=SEARCH)
    assert found.outside_band(), found


# ------------------------------------------------------------------------------------------------
# TC-12 (b): even the exact maximiser of L^CLIP leaves the band when samples share parameters.
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SharedLogitSamples:
    """π(a = 1 | s_i) = σ(θ·x_i) with features x_i > 0 and θ_old = 0 (so π_old = 1/2); every sample is a = 1 with
    A = +1. Each ρ_i = 2σ(θ·x_i) grows with θ, and L^CLIP = mean min(ρ_i, 1 + ε) ≤ 1 + ε."""

    features: list
    clip_eps: float

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        logp_new = torch.nn.functional.logsigmoid(theta * tensor(self.features))
        logp_old = [math.log(0.5)] * len(self.features)
        return ppo_clip_loss(logp_new, logp_old, [1.0] * len(self.features), clip_eps=self.clip_eps)

    def ratios(self, theta: float) -> list[float]:
        return [2 * sigmoid(theta * x) for x in self.features]

    def smallest_maximiser(self) -> float:
        """θ* where the sample with the smallest feature reaches ρ = 1 + ε: σ(θ*·x_min) = (1 + ε)/2."""
        return math.log((1 + self.clip_eps) / (1 - self.clip_eps)) / min(self.features)

    def maximiser_leaves_band(self) -> bool:
        """At θ* the loss attains its floor −(1 + ε) while the largest ratio is past 1 + ε."""
        theta = self.smallest_maximiser()
        at_floor = abs(self.loss(tensor(theta)).item() + 1 + self.clip_eps) <= 16 * EPS * (1 + theta)
        return at_floor and max(self.ratios(theta)) > 1 + self.clip_eps


TC12B = SharedLogitSamples(features=[2.0, 1.0], clip_eps=TEACHING_EPS)

# The ratio of the largest feature at θ* exceeds 1 + ε by 2σ(L·x_max/x_min) − 2σ(L), L = log((1 + ε)/(1 − ε)): about
# (1 − ε²)/2 · L · (x_max/x_min − 1) for nearly equal features, which for features one ulp apart is below the rounding
# of the computed ratio (TC-12 b then holds in exact arithmetic only). Features are therefore either equal or apart by
# a relative SEPARATION: the excess is then at least about 1e-8 (ε = 0.01), five orders of magnitude above the
# ratio's rounding allowance 16·eps·(1 + θ*) ≤ 1.1e-13 (θ* ≤ log(19)/0.1).
SEPARATION = 2.0**-20


def equal_or_separated(features: list[float]) -> bool:
    return max(features) == min(features) or max(features) >= min(features) * (1 + SEPARATION)


shared_logit_samples = st.builds(
    SharedLogitSamples,
    features=st.lists(finite(0.1, 3.0), min_size=2, max_size=4).filter(equal_or_separated),
    clip_eps=clip_ranges(),
)


@pytest.mark.refutes("PPO-6")
def test_the_maximiser_of_the_clipped_objective_leaves_the_band_tc12b():
    """PPO-6 (notes §PPO, TC-12 b): x = (2, 1), θ_old = 0, ε = 0.2. L^CLIP reaches its maximum 1.2 exactly for
    θ ≥ θ* = log 1.5 (where ρ₂ = 1.2), and is flat there (zero gradient); at θ* already ρ₁ = 2σ(2 log 1.5) =
    18/13 ≈ 1.385 > 1.2, so every maximiser has ρ₁ ≥ 18/13: the exact optimum violates the band."""
    theta_star = TC12B.smallest_maximiser()
    assert theta_star == pytest.approx(math.log(1.5), abs=1e-15)
    rho_1 = Fraction(2) * Fraction(9, 13)  # σ(2 log 1.5) = 1.5²/(1 + 1.5²) = 9/13
    assert TC12B.ratios(theta_star)[0] == pytest.approx(float(rho_1), abs=1e-15)
    assert round(float(rho_1), 3) == 1.385
    atol = 16 * EPS
    for theta in [theta_star - 0.3, theta_star - 1e-6, theta_star, theta_star + 1e-6, 1.0, 3.0]:
        th = tensor(theta, grad=True)
        loss = TC12B.loss(th)
        assert_at_least(loss.item(), -1.2, atol=atol, what=f"loss at θ = {theta} vs the floor −(1 + ε)")
        if theta < theta_star:
            assert loss.item() > -1.2 + atol, f"θ = {theta} < θ* attains the maximum"
        else:
            assert_identity(loss.item(), -1.2, atol=atol, what=f"loss at θ = {theta} ≥ θ*")
            assert TC12B.ratios(theta)[0] >= float(rho_1) - atol
        if theta > theta_star:
            assert gradient(loss, th).item() == 0.0, f"θ = {theta}: the maximiser set is not flat"


@pytest.mark.refutes("PPO-6")
@given(samples=shared_logit_samples)
@example(samples=TC12B)
@example(samples=SharedLogitSamples(features=[1.0, 1.0 + SEPARATION], clip_eps=0.01))
@example(samples=SharedLogitSamples(features=[0.1, 0.1], clip_eps=0.9))
def test_at_the_smallest_maximiser_the_largest_feature_is_past_the_band(samples):
    """PPO-6 (notes §PPO): with features x_i > 0, L^CLIP is maximised (loss −(1 + ε)) from θ* = logit((1 + ε)/2)/x_min
    on, and at θ* the sample with the largest feature has ρ = 2σ(θ*·x_max): past 1 + ε when x_max exceeds x_min by
    the relative SEPARATION (see there why not by less), exactly at 1 + ε when all features are equal."""
    theta = samples.smallest_maximiser()
    atol = 16 * EPS * (1 + theta)
    assert_identity(samples.loss(tensor(theta)).item(), -(1 + samples.clip_eps), atol=atol, what="loss at θ*")
    largest = 2 * sigmoid(theta * max(samples.features))
    assert_identity(max(samples.ratios(theta)), largest, atol=atol, what="largest ratio at θ*")
    if max(samples.features) > min(samples.features):
        assert largest > 1 + samples.clip_eps, f"largest ratio {largest!r} at θ* = {theta!r} is not past 1 + ε"
    else:
        assert_identity(largest, 1 + samples.clip_eps, atol=atol, what="ratio at θ* with equal features")


@pytest.mark.refutes("PPO-6")
def test_search_finds_samples_whose_maximiser_leaves_the_band():
    """PPO-6: hypothesis.find must come back with features for which the exact maximiser of L^CLIP has a ratio
    past 1 + ε."""
    found = find(shared_logit_samples, SharedLogitSamples.maximiser_leaves_band, settings=SEARCH)
    assert found.maximiser_leaves_band(), found


# ------------------------------------------------------------------------------------------------
# PPO-11: the band is relative to the previous iteration's policy, not to a reference model.
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("PPO-11")
@given(p0=finite(0.01, 0.25), eps=clip_ranges(), iterations=st.integers(2, 3))
def test_iterations_drift_from_the_reference_by_one_band_each(p0, eps, iterations):
    """PPO-11 (notes §PPO): the ratio is π_θ/π_θk of the policy that sampled the batch. With one sample a = 1,
    A = +1, each iteration's smallest exact maximiser of L^CLIP is π(1) = (1 + ε)·π_θk(1) (its loss is the floor
    −(1 + ε)); after k ≥ 2 iterations π(1)/π_0(1) = (1 + ε)^k, outside [1 − ε, 1 + ε]: the clip does not keep the
    policy near the initial (reference) policy."""
    p = p0
    for _ in range(iterations):
        moved = (1 + eps) * p
        loss = ppo_clip_loss([math.log(moved)], [math.log(p)], [1.0], clip_eps=eps).item()
        assert_identity(loss, -(1 + eps), atol=8 * EPS, what="loss at the smallest maximiser")
        p = moved
    assert_identity(p / p0, (1 + eps) ** iterations, atol=8 * iterations * EPS, what="π(1)/π_0(1)")
    assert p / p0 > 1 + eps
