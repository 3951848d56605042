"""The notes' printed forms of GAE that are wrong (claims GAE-8 and PPO-14), refuted three ways each:
the teaching counterexample with its exact numbers, a property pinned to it with
``@example`` that says what the printed form computes instead, and a ``hypothesis.find`` search that
must come back with a counterexample of its own. The corrected forms are laws of the ``gae`` and
``td_errors`` contracts (``lineage.laws.returns``).
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
    """The recursion as printed in the notes' PPO section: A_t = δ_t + γ(1 − done_t)A_{t+1} (λ is unused)."""
    return exact.episode_suffix_sums(Fraction(gamma), exact.td_errors(segment, gamma), exact.episode_ends(segment))


def correct_gae(case: SegmentCase) -> list[Fraction]:
    return exact.gae(case.segment, case.gamma, case.lam)


@pytest.mark.refutes("PPO-14")
def test_ppo14_teaching_counterexample_tc14():
    """PPO-14 (notes §PPO, TC-14): at λ = 0 the correct A_0 = δ_0 = 0.68; the printed recursion gives 0.5."""
    printed = printed_recursion(TC14.segment, TC14.gamma, TC14.lam)
    assert float(printed[0]) == pytest.approx(0.5, abs=1e-15), f"printed recursion A_0 = {float(printed[0])}"
    got = lineage.gae(**TC14.segment.arrays(), gamma=TC14.gamma, lam=TC14.lam)
    assert got[0] == pytest.approx(0.68, abs=1e-15), f"lineage.gae gives A_0 = {got[0]}, expected δ_0 = 0.68"


@pytest.mark.refutes("PPO-14")
@given(case=segment_cases(lam=unit_interval()))
@example(case=TC14)
def test_ppo14_printed_recursion_is_gae_with_lambda_one(case):
    """PPO-14 (notes §PPO): whatever λ is, the printed recursion computes GAE(γ, 1), the Monte-Carlo
    advantage — not GAE(γ, λ). Exact arithmetic, no tolerance."""
    for column in case.segment.columns():
        printed = printed_recursion(column, case.gamma, case.lam)
        assert printed == exact.gae(column, case.gamma, 1.0), "printed recursion differs from GAE(γ, 1)"


@pytest.mark.refutes("PPO-14")
def test_ppo14_search_finds_a_counterexample():
    """PPO-14: hypothesis.find searches random segments for one where the printed recursion and GAE(γ, λ)
    disagree; it must find one (the pinned TC-14 is not the only one)."""
    one_d = segment_cases(lam=unit_interval(), max_length=8, max_batch=0)
    found = find(
        one_d, lambda case: printed_recursion(case.segment, case.gamma, case.lam) != correct_gae(case), settings=SEARCH
    )
    printed, correct = printed_recursion(found.segment, found.gamma, found.lam), correct_gae(found)
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


def td_error(step: LinearCriticStep) -> Fraction:
    """δ_t = r_t + γV(s_{t+1}) − V(s_t)."""
    w = Fraction(step.weight)
    return Fraction(step.reward) + Fraction(step.gamma) * w * Fraction(step.next_state) - w * Fraction(step.state)


@pytest.mark.refutes("GAE-8")
def test_gae8_teaching_counterexample():
    """GAE-8 (notes §GAE, λ = 0): with V(x) = x, s_t = 1, s_{t+1} = 0, r = 0, γ = 0.5 the TD error is −1 and
    lineage's GAE(λ = 0) agrees; the printed form gives −0.5."""
    assert printed_td_error(GAE8_PINNED) == Fraction(-1, 2)
    assert td_error(GAE8_PINNED) == -1
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
    """GAE-8 (notes §GAE): for a linear critic V(x) = w·x the printed form exceeds δ_t by exactly
    w·s_t·(1 − γw), which vanishes only when w·s_t = 0 or γw = 1."""
    w, s, g = Fraction(step.weight), Fraction(step.state), Fraction(step.gamma)
    assert printed_td_error(step) - td_error(step) == w * s * (1 - g * w)


@pytest.mark.refutes("GAE-8")
def test_gae8_search_finds_a_counterexample():
    """GAE-8: hypothesis.find must come back with a transition where the printed form is not the TD error."""
    found = find(linear_critic_steps, lambda step: printed_td_error(step) != td_error(step), settings=SEARCH)
    assert printed_td_error(found) != td_error(found), found
