"""Ziegler et al.'s proportional KL controller (claim STD-RLHF-4; notes §PPO, RLHF part):

    e = clip(KL / KL_target − 1, −0.2, 0.2),    β ← β · (1 + e · n_steps / horizon)

β rises iff the measured KL exceeds the target, one update scales β by a factor within 1 ± 0.2·K with
K = n_steps/horizon, the factor saturates outside a ±20 % band around the target, and β stays positive
when 0.2·K < 1. The direction law holds exactly in floating point (rounding is monotone); every value of β is
compared with the rule evaluated here in exact rational arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.rlhf import AdaptiveKLController, proportional_kl_coef

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class ControllerStep:
    """One update: the current β, the measured KL, its target, the samples behind it and the horizon."""

    beta: float
    kl: float
    kl_target: float
    n_steps: int
    horizon: int

    @property
    def gain(self) -> float:
        return self.n_steps / self.horizon

    def next_beta(self) -> float:
        return proportional_kl_coef(
            self.beta, self.kl, kl_target=self.kl_target, n_steps=self.n_steps, horizon=self.horizon
        )

    def exact_next_beta(self) -> Fraction:
        """β(1 + clip(KL/KL_target − 1, ±1/5)·n_steps/horizon) in rationals, from the float inputs."""
        error = min(max(Fraction(self.kl) / Fraction(self.kl_target) - 1, Fraction(-1, 5)), Fraction(1, 5))
        return Fraction(self.beta) * (1 + error * Fraction(self.n_steps, self.horizon))

    def allowance(self) -> float:
        """A few roundings of the factor 1 + e·K (|e|·K ≤ 1) and of the product with β: 16·eps·β·(1 + K)."""
        return 16 * EPS * self.beta * (1 + self.gain)


@st.composite
def controller_steps(draw) -> ControllerStep:
    """β, KL_target in [1e-3, 10]; the KL on the target, on the band edges ±20 %, at 0, negative (a k1 batch
    mean can be) or anywhere up to 3·KL_target; horizon up to 10⁴ and n_steps < 5·horizon."""
    target = draw(st.floats(1e-3, 10.0), label="kl_target")
    edges = st.sampled_from([target, 0.8 * target, 1.2 * target, 0.0, -target])
    kl = draw(st.one_of(edges, st.floats(-target, 3.0 * target)), label="kl")
    horizon = draw(st.integers(1, 10_000), label="horizon")
    n_steps = draw(st.integers(1, 5 * horizon - 1), label="n_steps")
    return ControllerStep(draw(st.floats(1e-3, 10.0), label="beta"), kl, target, n_steps, horizon)


@pytest.mark.claim("STD-RLHF-4")
@given(step=controller_steps())
def test_update_is_the_proportional_rule(step):
    """STD-RLHF-4 (notes §PPO, RLHF part): β_new = β(1 + clip(KL/KL_target − 1, ±0.2)·n_steps/horizon), against
    exact rationals; a few roundings of the factor (|e|·K ≤ 1) allow 16·eps·β·(1 + K)."""
    got, exact = step.next_beta(), float(step.exact_next_beta())
    assert abs(got - exact) <= step.allowance(), f"β_new = {got!r}, exact {exact!r}, allowed ±{step.allowance():.3g}"


@pytest.mark.claim("STD-RLHF-4")
@given(step=controller_steps())
def test_beta_rises_iff_the_kl_exceeds_its_target(step):
    """STD-RLHF-4: β_new > β when KL > KL_target, β_new < β when KL < KL_target, β_new = β on target (strictly
    wherever |KL/KL_target − 1|·K is above rounding, weakly always)."""
    change = step.next_beta() - step.beta
    assert np.sign(change) in (np.sign(step.kl - step.kl_target), 0.0), (step.next_beta(), step.beta)
    if step.kl == step.kl_target or abs(step.kl / step.kl_target - 1) * step.gain > 1e-12:
        assert np.sign(change) == np.sign(step.kl - step.kl_target), (step.next_beta(), step.beta)


@pytest.mark.claim("STD-RLHF-4")
@given(step=controller_steps())
def test_one_update_is_bounded_and_saturates_outside_the_band(step):
    """STD-RLHF-4: β(1 − 0.2K) ≤ β_new ≤ β(1 + 0.2K) with K = n_steps/horizon, and a KL at or beyond ±20 % of the
    target gives the saturated factor, β_new = β(1 ± K/5), however large the miss (the error is clipped at ±0.2)."""
    got = step.next_beta()
    low, high = step.beta * (1 - 0.2 * step.gain), step.beta * (1 + 0.2 * step.gain)
    slack = 4 * EPS * high
    assert low - slack <= got <= high + slack, (low, got, high)
    miss = Fraction(step.kl) / Fraction(step.kl_target) - 1
    if abs(miss) >= Fraction(1, 5):
        clipped = Fraction(1, 5) if miss > 0 else Fraction(-1, 5)
        exact = float(Fraction(step.beta) * (1 + clipped * Fraction(step.n_steps, step.horizon)))
        assert abs(got - exact) <= step.allowance(), f"KL {step.kl!r}: β_new = {got!r}, saturated {exact!r}"


@pytest.mark.claim("STD-RLHF-4")
@given(
    first=controller_steps(),
    kls=st.lists(st.floats(-10.0, 30.0), min_size=1, max_size=10),
)
def test_controller_keeps_beta_positive_over_many_updates(first, kls):
    """STD-RLHF-4: with 0.2·n_steps/horizon < 1 every update multiplies β by a positive factor, so β stays
    positive over any run; each update of the controller object is the rule, in exact rationals, applied to the
    β it held."""
    controller = AdaptiveKLController(first.beta, first.kl_target, first.horizon)
    for kl in kls:
        step = ControllerStep(controller.value, kl, first.kl_target, first.n_steps, first.horizon)
        beta = controller.update(kl, first.n_steps)
        exact = float(step.exact_next_beta())
        assert abs(beta - exact) <= step.allowance(), f"β = {beta!r} after KL {kl!r}, exact {exact!r}"
        assert controller.value == beta and beta > 0.0, f"β = {beta!r} after KL {kl!r}, held {controller.value!r}"
