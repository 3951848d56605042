"""A law that probes a threshold must not fail a correct implementation at the threshold itself.

The adaptive-β rule compares the measured KL with 1.5·d_targ and d_targ/1.5. ``kl / kl_target > 1.5`` and
``kl > 1.5 * kl_target`` are the same rule in exact arithmetic, but at a KL drawn exactly at 1.5·d_targ (as the law's
strategy draws it) they can disagree by one rounding; likewise ``kl < kl_target / 1.5`` and ``kl * 1.5 < kl_target``.
Every formulation below is a correct implementation of the paper's rule, so the law must accept each of them on the
exact ties (found here with ``hypothesis.find`` in the law's own strategy), while a rule with another threshold or
another factor still fails.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import find, settings

import lineage.ppo
from lineage.laws.cases.losses import KLCoefCase, ValueCase, kl_coef_cases
from lineage.laws.law import LAWS, LawViolation
from lineage.laws.losses import near_value_kink
from lineage.ppo import adapt_kl_coef

PAPER_RULE = LAWS["adapt_kl_coef.paper_rule"]
SEARCH = settings(database=None, derandomize=True, max_examples=5000)

UPPER = {
    "kl > 1.5 * kl_target": lambda kl, d: kl > 1.5 * d,
    "kl / kl_target > 1.5": lambda kl, d: kl / d > 1.5,
}
LOWER = {
    "kl < kl_target / 1.5": lambda kl, d: kl < d / 1.5,
    "kl * 1.5 < kl_target": lambda kl, d: kl * 1.5 < d,
    "kl / kl_target < 1 / 1.5": lambda kl, d: kl / d < 1 / 1.5,
}


def rule(lower: str, upper: str):
    """The paper's ×2 / ÷2 rule with the comparisons written as named."""

    def adapt(beta, kl, *, kl_target):
        if LOWER[lower](kl, kl_target):
            return beta / 2
        if UPPER[upper](kl, kl_target):
            return beta * 2
        return beta

    adapt.__name__ = f"rule[{lower}; {upper}]"
    return adapt


FORMULATIONS = list(itertools.product(LOWER, UPPER))
# The formulations that round differently from lineage's (the first of each) at a threshold as the strategy draws it
# (``kl / kl_target < 1 / 1.5`` happens to agree with ``kl < kl_target / 1.5`` at kl = d_targ/1.5).
DISAGREEING = [("kl * 1.5 < kl_target", "kl > 1.5 * kl_target"), ("kl < kl_target / 1.5", "kl / kl_target > 1.5")]


def tie_where_it_disagrees(formulation) -> KLCoefCase:
    """A case of the law's strategy on which the formulation and lineage's rule give different β: a KL at a threshold
    (the formulations differ there only)."""
    target = rule(*formulation)
    return find(
        kl_coef_cases(),
        lambda c: target(c.beta, c.kl, kl_target=c.kl_target) != adapt_kl_coef(c.beta, c.kl, kl_target=c.kl_target),
        settings=SEARCH,
    )


@pytest.mark.parametrize("formulation", DISAGREEING, ids=" / ".join)
def test_the_strategy_draws_exact_ties_where_correct_formulations_disagree(formulation):
    """These formulations disagree with lineage's somewhere in the law's domain, always at a threshold."""
    case = tie_where_it_disagrees(formulation)
    thresholds = (case.kl_target / 1.5, 1.5 * case.kl_target)
    assert min(abs(case.kl - t) / t for t in thresholds) <= 4 * 2.0**-52, case


@pytest.mark.parametrize("formulation", DISAGREEING, ids=" / ".join)
def test_paper_rule_accepts_either_side_at_an_exact_tie(formulation):
    PAPER_RULE.check(rule(*formulation), tie_where_it_disagrees(formulation))


@pytest.mark.parametrize(
    ("kl", "kl_target"),
    [(1.5 * 0.1, 0.1), (0.1 / 1.5, 0.1), (1.5 * 0.3, 0.3), (0.3 / 1.5, 0.3)],
    ids=["1.5·0.1", "0.1/1.5", "1.5·0.3", "0.3/1.5"],
)
@pytest.mark.parametrize("formulation", FORMULATIONS, ids=" / ".join)
def test_paper_rule_accepts_every_formulation_at_the_thresholds(formulation, kl, kl_target):
    """The thresholds as the strategy draws them (1.5·d and d/1.5 rounded to float64), by construction."""
    PAPER_RULE.check(rule(*formulation), KLCoefCase(beta=1.0, kl=kl, kl_target=kl_target))


@pytest.mark.parametrize("formulation", FORMULATIONS, ids=" / ".join)
def test_every_correct_formulation_passes_the_law(formulation):
    PAPER_RULE.verify(rule(*formulation), settings=settings(database=None, derandomize=True, max_examples=300))


def shifted_threshold(beta, kl, *, kl_target):
    """Doubles β from 1.4·d_targ: wrong on (1.4·d, 1.5·d], which the tie allowance must not swallow."""
    if kl < kl_target / 1.5:
        return beta / 2
    return beta * 2 if kl > 1.4 * kl_target else beta


def factor_one_and_a_half(beta, kl, *, kl_target):
    """β × 1.5 instead of × 2 above the band."""
    if kl < kl_target / 1.5:
        return beta / 2
    return beta * 1.5 if kl > 1.5 * kl_target else beta


@pytest.mark.parametrize("wrong", [shifted_threshold, factor_one_and_a_half], ids=lambda f: f.__name__)
def test_a_wrong_rule_still_fails(wrong):
    with pytest.raises(LawViolation):
        PAPER_RULE.verify(wrong, settings=settings(database=None, derandomize=True, max_examples=300))


# --------------------------------------------------------------------------------------------------
# The same pattern elsewhere: the finite-difference law of value_loss must keep away from the tie of the two errors.
# --------------------------------------------------------------------------------------------------
# V_new = 3 lies outside the band [−1, 1] and R = 2 halfway between V_new and V_clip = 1: (V − R)² = (V_clip − R)²
# exactly, so ½·max has one-sided derivatives (V − R)/N = 1 and 0, and a central difference there gives ½ for any
# correct loss. Simple values Hypothesis likes to draw.
TIE_OUTSIDE_THE_BAND = ValueCase(values_new=[3.0], values_old=[0.0], returns=[2.0], clip_eps=1.0)
VALUE_FD_LAW = LAWS["value_loss.gradient_vanishes_where_the_clipped_error_is_larger"]


def test_a_central_difference_at_the_tie_of_the_value_errors_fails_a_correct_loss():
    with pytest.raises(LawViolation, match="central differences"):
        VALUE_FD_LAW.check(lineage.ppo.value_loss, TIE_OUTSIDE_THE_BAND)


@pytest.mark.parametrize("shift", [0.0, 1e-3, -1e-3, 0.0099, -0.0099], ids=lambda s: f"R+{s}")
def test_the_value_fd_law_never_draws_near_a_tie_of_the_errors(shift):
    """The law's filter keeps every tie outside the band (exact, or within a central difference's reach: a step h
    moves |V − R| and |V_clip − R| by ≤ h each, the gap between them by ≤ 2h = 2e-3 < KINK_MARGIN) out of its cases."""
    case = replace(TIE_OUTSIDE_THE_BAND, returns=[2.0 + shift])
    assert near_value_kink(case)
