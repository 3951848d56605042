"""The notes' printed forms of GAE that are wrong (claims GAE-8 and PPO-14), refuted three ways each:
the teaching counterexample with its exact numbers, a property pinned to it with
``@example`` that says what the printed form computes instead, and a ``hypothesis.find`` search that
must come back with a counterexample of its own. The printed forms are written out here in exact arithmetic and
set against lineage's GAE and TD errors, held to their float64 rounding (``lineage.laws.tolerance``); the
corrected forms are laws of the ``gae`` and ``td_errors`` contracts (``lineage.laws.returns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, find, given, settings
from hypothesis import strategies as st

import lineage
from lineage.laws import exact
from lineage.laws.cases.segments import Segment, SegmentCase, magnitudes, segment_cases, unit_interval
from lineage.laws.law import expect_close
from lineage.laws.tolerance import ROUNDING_FACTOR, rounding_tolerance

EPS = np.finfo(np.float64).eps
SEARCH = settings(database=None, max_examples=2000)

# ------------------------------------------------------------------------------------------------
# PPO-14: the notes' §PPO recursion A_t = δ_t + γA_{t+1} has lost its λ.
# ------------------------------------------------------------------------------------------------
# TC-14: λ = 0, r = (1, 0), V = (0.5, 0.2, 0), γ = 0.9.
TC14 = SegmentCase(
    Segment(
        rewards=[1.0, 0.0],
        values=[0.5, 0.2],
        next_values=[0.2, 0.0],
        terminated=[False, False],
        truncated=[False, False],
    ),
    gamma=0.9,
    lam=0.0,
)


def printed_recursion(segment: Segment, gamma: float, lam: float) -> list[Fraction]:
    """The recursion as printed in the notes' PPO section, run backwards in exact arithmetic:
    A_t = δ_t + γ(1 − done_t)A_{t+1} with A_T = 0 (λ is unused)."""
    deltas, g = exact.td_errors(segment, gamma), Fraction(gamma)
    advantages, following = [Fraction(0)] * segment.length, Fraction(0)
    for t in reversed(range(segment.length)):
        done = segment.terminated[t] or segment.truncated[t]
        following = deltas[t] + (0 if done else g * following)
        advantages[t] = following
    return advantages


def lineage_gae(case: SegmentCase, lam: float) -> np.ndarray:
    return lineage.gae(**case.segment.arrays(), gamma=case.gamma, lam=lam)


def gae_rounding(case: SegmentCase, lam: float) -> np.ndarray:
    """What float64 GAE(γ, λ) on the case's segment may round by: the laws' allowance, from the inputs."""
    return rounding_tolerance(case.segment, case.gamma, case.gamma * lam, EPS)


@pytest.mark.refutes("PPO-14")
def test_ppo14_teaching_counterexample_tc14():
    """PPO-14 (notes §PPO, TC-14): at λ = 0 the correct A_0 = δ_0 = 0.68; the printed recursion gives 0.5."""
    printed = printed_recursion(TC14.segment, TC14.gamma, TC14.lam)
    assert float(printed[0]) == pytest.approx(0.5, abs=1e-15), f"printed recursion A_0 = {float(printed[0])}"
    got = lineage_gae(TC14, TC14.lam)
    assert got[0] == pytest.approx(0.68, abs=1e-15), f"lineage.gae gives A_0 = {got[0]}, expected δ_0 = 0.68"


@pytest.mark.refutes("PPO-14")
@given(case=segment_cases(lam=unit_interval()))
@example(case=TC14)
def test_ppo14_printed_recursion_is_gae_with_lambda_one(case):
    """PPO-14 (notes §PPO): whatever λ is, the printed recursion computes GAE(γ, 1), the Monte-Carlo
    advantage — not GAE(γ, λ): exactly Σ_l γ^l r_{t+l} + bootstrap − V(s_t) to the episode's end, and lineage's
    GAE(γ, 1) up to its rounding."""
    for column in case.segment.columns():
        returns = exact.reward_to_go(column, case.gamma)
        monte_carlo = [g - Fraction(v) for g, v in zip(returns, column.values, strict=True)]
        assert printed_recursion(column, case.gamma, case.lam) == monte_carlo, "printed recursion vs G_t − V(s_t)"
    printed = exact.evaluate(printed_recursion, case.segment, case.gamma, case.lam)
    expect_close("lineage GAE(γ, 1) vs printed recursion", lineage_gae(case, 1.0), printed, gae_rounding(case, 1.0))


def printed_recursion_misses_lineage_gae(case: SegmentCase) -> bool:
    """Whether lineage's GAE(γ, λ) and the printed recursion differ by more than the rounding of a recursion that
    carries γ, the larger carry of the two (so a GAE that dropped λ, rounding like the printed form, never does)."""
    printed = exact.evaluate(printed_recursion, case.segment, case.gamma, case.lam)
    return bool(np.any(np.abs(lineage_gae(case, case.lam) - printed) > gae_rounding(case, 1.0)))


@pytest.mark.refutes("PPO-14")
def test_ppo14_search_finds_a_counterexample():
    """PPO-14: hypothesis.find searches random segments for one where the printed recursion and lineage's
    GAE(γ, λ) disagree beyond rounding; it must find one (the pinned TC-14 is not the only one), and exact
    arithmetic must confirm it: there GAE(γ, λ) is not the printed recursion."""
    one_d = segment_cases(lam=unit_interval(), max_length=8, max_batch=0)
    found = find(one_d, printed_recursion_misses_lineage_gae, settings=SEARCH)
    printed, correct = (
        printed_recursion(found.segment, found.gamma, found.lam),
        exact.gae(found.segment, found.gamma, found.lam),
    )
    assert printed != correct, (found, printed, correct)


# ------------------------------------------------------------------------------------------------
# GAE-8: the notes' λ = 0 case r_t + γV(s_{t+1} − V(s_t)) puts a parenthesis in the wrong place.
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearCriticStep:
    """One transition with scalar states and the linear critic V(x) = weight·x."""

    reward: float
    state: float
    next_state: float
    weight: float
    gamma: float


# V(x) = x, s_t = 1, s_{t+1} = 0, r = 0, γ = 0.5: δ_t = −1, the printed form gives −0.5.
GAE8_PINNED = LinearCriticStep(reward=0.0, state=1.0, next_state=0.0, weight=1.0, gamma=0.5)

linear_critic_steps = st.builds(
    LinearCriticStep,
    reward=magnitudes(),
    state=magnitudes(),
    next_state=magnitudes(),
    weight=magnitudes(),
    gamma=unit_interval(),
)


def printed_td_error(step: LinearCriticStep) -> Fraction:
    """The notes' printed λ = 0 case: r_t + γ·V(s_{t+1} − V(s_t))."""
    w = Fraction(step.weight)
    return Fraction(step.reward) + Fraction(step.gamma) * w * (Fraction(step.next_state) - w * Fraction(step.state))


def printed_form_miss(step: LinearCriticStep) -> Fraction:
    """w·s_t·(1 − γw): by how much the printed form exceeds δ_t = r_t + γV(s_{t+1}) − V(s_t)."""
    w, s, g = Fraction(step.weight), Fraction(step.state), Fraction(step.gamma)
    return w * s * (1 - g * w)


def lineage_td_error(step: LinearCriticStep) -> float:
    """lineage's δ for the one transition, the critic's values V(x) = w·x rounded to float64."""
    values, next_values = [step.weight * step.state], [step.weight * step.next_state]
    return float(lineage.td_errors([step.reward], values, next_values, np.array([False]), gamma=step.gamma)[0])


def td_error_rounding(step: LinearCriticStep) -> float:
    """δ = r + γV' − V in float64 after rounding V = w·s and V' = w·s': five roundings of terms at most
    |r| + |w·s| + γ|w·s'|, allowed 8·eps times that."""
    terms = abs(step.reward) + abs(step.weight * step.state) + step.gamma * abs(step.weight * step.next_state)
    return ROUNDING_FACTOR * EPS * terms


@pytest.mark.refutes("GAE-8")
def test_gae8_teaching_counterexample():
    """GAE-8 (notes §GAE, λ = 0): with V(x) = x, s_t = 1, s_{t+1} = 0, r = 0, γ = 0.5 the TD error is −1 and
    lineage's GAE(λ = 0) agrees; the printed form gives −0.5."""
    assert printed_td_error(GAE8_PINNED) == Fraction(-1, 2)
    step = GAE8_PINNED
    got = lineage.gae(
        [step.reward],
        [step.weight * step.state],
        [step.weight * step.next_state],
        np.array([False]),
        np.array([False]),
        gamma=step.gamma,
        lam=0.0,
    )
    assert got[0] == -1.0, f"lineage.gae at λ = 0 gives {got[0]}, expected δ = −1"


@pytest.mark.refutes("GAE-8")
@given(step=linear_critic_steps)
@example(step=GAE8_PINNED)
def test_gae8_printed_form_misses_by_w_s_one_minus_gamma_w(step):
    """GAE-8 (notes §GAE): for a linear critic V(x) = w·x the printed form exceeds lineage's TD error δ_t by
    w·s_t·(1 − γw) (exactly, up to δ_t's float64 rounding), which vanishes only when w·s_t = 0 or γw = 1."""
    expected = float(printed_td_error(step) - printed_form_miss(step))
    got, allowed = lineage_td_error(step), td_error_rounding(step)
    assert abs(got - expected) <= allowed, f"δ = {got!r}, printed form − w·s(1 − γw) = {expected!r}, ±{allowed:.3g}"


@pytest.mark.refutes("GAE-8")
def test_gae8_search_finds_a_counterexample():
    """GAE-8: hypothesis.find must come back with a transition where the printed form misses lineage's TD error
    beyond its rounding, and exact arithmetic must confirm it: there w·s_t·(1 − γw) ≠ 0."""

    def misses(step: LinearCriticStep) -> bool:
        return abs(float(printed_td_error(step)) - lineage_td_error(step)) > 2 * td_error_rounding(step)

    found = find(linear_critic_steps, misses, settings=SEARCH)
    assert printed_form_miss(found) != 0, found
