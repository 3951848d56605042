"""Lower bounds on the new policy's return and what a step along the gradient does, on exact tabular MDPs (notes
§TRPO; claims TRPO-1, TRPO-9, TRPO-14, STD-CPI-1, STD-TRPO-1, STD-CPO-1; TC-8).

Every bound is checked as ``lhs >= rhs - atol`` with an absolute allowance for the rounding of the exact solves,
never a relative one: at π' = π the bounds are tight (equal to J(π)) and the slack shrinks to zero with the step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, find, given
from hypothesis import strategies as st

from lineage.ppo import categorical_kl
from lineage.tabular import (
    LinearSoftmaxPolicy,
    TabularMDP,
    importance_sampled_surrogate,
    linear_softmax_policy_gradient,
    mixture_lower_bound,
    objective,
    performance_lower_bounds,
    random_mdp,
    softmax,
    softmax_policy_gradient,
    state_values,
    state_visitation,
    surrogate,
    trpo_penalty_coefficient,
    trust_region_degradation_bound,
)
from properties.assertions import DISTRIBUTION_ATOL, assert_at_least, value_atol
from properties.trpo_cases import DIFFERENT, SEARCH, SEEDS, TC8, TC8_KL, PolicyStep, policy_steps, steering_steps


def average_kl(mdp: TabularMDP, pi: np.ndarray, pi_new: np.ndarray) -> float:
    """The smaller of E_{s~ν^π}[KL(π ‖ π')] and E_{s~ν^π}[KL(π' ‖ π)]: Pinsker holds in both directions, so the
    degradation bound holds with either; the smaller gives the tighter check."""
    nu, log_old, log_new = state_visitation(mdp, pi), np.log(pi), np.log(pi_new)
    smaller = float(min(nu @ categorical_kl(log_old, log_new), nu @ categorical_kl(log_new, log_old)))
    return max(smaller, 0.0)  # a KL is ≥ 0; for π' ≈ π its float sum can round to −1e-17


def smoothness(mdp: TabularMDP) -> float:
    """β = 16 R_max/(1 − γ)³: J of the tabular softmax is 8/(1 − γ)³-smooth in θ for rewards in [0, 1] (Agarwal,
    Kakade, Lee & Mahajan 2021, Lemma D.4), and R ∈ [−R_max, R_max] is 2R_max times such rewards plus a constant."""
    return 16.0 * float(np.abs(mdp.R).max()) / (1.0 - mdp.gamma) ** 3


# ------------------------------------------------------------------------------------------------
# STD-TRPO-1, STD-CPO-1, TRPO-9, TRPO-14, STD-CPI-1, TRPO-1: bounds on J after a step, and step sizes.
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("STD-TRPO-1", "STD-CPO-1", "TRPO-9", "TRPO-14", "STD-CPI-1", "TRPO-1")
@given(
    step=policy_steps(),
    mix=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)),
    log_rate=st.floats(-6.0, 3.0),
)
@example(step=TC8, mix=0.5, log_rate=0.0)
def test_lower_bounds_on_the_return_after_a_step(step: PolicyStep, mix: float, log_rate: float):
    """STD-TRPO-1 (notes §TRPO): J(π') ≥ L_π(π') − Cα² ≥ L_π(π') − C·D_KL^max, C = 4γ max|A^π|/(1 − γ)², α = max_s
    D_TV. STD-CPO-1, TRPO-9: ‖ν^{π'} − ν^π‖₁ ≤ 2γ/(1 − γ)·E_{s~ν^π}[D_TV(s)] and the CPO bound J(π') ≥ J(π) +
    E_{ν^π}[E_{π'}A^π − 2γε^{π'}D_TV/(1 − γ)]/(1 − γ). TRPO-14 (corrected): with a non-negative surrogate gain and δ
    the realised average KL, J(π') − J(π) ≥ −√(2δ)γε^{π'}/(1 − γ)² — a bound on the loss, not a gain (TC-8).
    STD-CPI-1: J((1 − α)π + απ') ≥ L_π(mixture) − 2εγα²/(1 − γ)², ε = max_s |E_{a~π'}A^π|.

    TRPO-1: with g = ∇J(θ) (lineage's exact softmax gradient) and a rate 10^x, x ∈ [−6, 3], |J(θ + rate·g) − J(θ) −
    rate·‖g‖²| ≤ β·rate²‖g‖²/2 with β = 16R_max/(1 − γ)³ (J is β-smooth): the first-order gain is exact up to O(rate²).
    For the tabular softmax every such step improves J, V^{θ+rate·g} ≥ V^θ in every state (the step multiplies π(a|s)
    by exp(rate·d^π(s)π(a|s)A^π(s, a)), which grows exactly the actions with A^π > 0, so each state's new expected
    advantage is ≥ 0): a step that makes things worse needs shared parameters (the search below)."""
    mdp, pi, pi_new = step.mdp, step.pi_old, step.pi_new
    atol = value_atol(mdp)
    J, J_new = objective(mdp, pi), objective(mdp, pi_new)
    bounds = performance_lower_bounds(mdp, pi, pi_new)
    assert_at_least(J_new, bounds.trpo_tv, atol=atol, what="J(π') vs L − C·(max D_TV)²")
    assert_at_least(bounds.trpo_tv, bounds.trpo_kl, atol=atol, what="TV form vs KL form (D_TV² ≤ D_KL)")
    assert_at_least(J_new, bounds.cpo, atol=atol, what="J(π') vs the CPO bound")

    nu = state_visitation(mdp, pi)
    shift = float(np.abs(state_visitation(mdp, pi_new) - nu).sum())
    allowed = 2.0 * mdp.gamma / (1.0 - mdp.gamma) * float(nu @ (0.5 * np.abs(pi_new - pi).sum(axis=1)))
    assert_at_least(allowed, shift, atol=DISTRIBUTION_ATOL, what="2γ/(1 − γ)·E_ν[D_TV] vs ‖ν' − ν‖₁")

    if surrogate(mdp, pi, pi_new) >= J:
        worst = trust_region_degradation_bound(mdp, pi, pi_new, average_kl(mdp, pi, pi_new))
        assert_at_least(J_new - J, worst, atol=atol, what="J(π') − J(π) vs −√(2δ)γε/(1 − γ)²")

    mixture = (1.0 - mix) * pi + mix * pi_new
    bound = mixture_lower_bound(mdp, pi, pi_new, mix)
    assert_at_least(objective(mdp, mixture), bound, atol=atol, what=f"J(mixture) vs the CPI bound at α = {mix}")

    rate, g = 10.0**log_rate, softmax_policy_gradient(mdp, step.logits_old)
    moved, squared = softmax(step.logits_old + rate * g), float((g * g).sum())
    error = abs(objective(mdp, moved) - J - rate * squared)
    assert_at_least(smoothness(mdp) * rate**2 * squared / 2, error, atol=atol, what="β-smoothness along ∇J")
    assert_at_least(state_values(mdp, moved), state_values(mdp, pi), atol=atol, what="V after a gradient step")


@pytest.mark.refutes("TRPO-14")
@pytest.mark.claim("STD-TRPO-1", "STD-CPO-1", "STD-CPI-1", "TRPO-14")
def test_trust_region_step_teaching_counterexample_tc8(result):
    """TRPO-14 (notes §TRPO, TC-8 "switch or stay"): π uniform, π' = (0.1, 0.9) in both states. The surrogate gain is
    +0.8 (ν^π = (0.55, 0.45), E_{π'}A^π = (+0.8, −0.8)), the average KL(π ‖ π') is log(5/3) = 0.511, yet J(π') =
    −4.96 < J(π) = 0: a KL-feasible step with δ ≥ 0.511 and a positive surrogate gain decreases J. The guarantees hold:
    C = 360, so TRPO's penalised objective L − C·D_KL^max = 0.8 − 360·log(5/3) = −183.1 < J(π) rejects π'; the CPO
    worst case is −√(2 log(5/3))·0.9·0.8/0.01 = −72.8; the bounds are −56.8 (TV and CPO forms) and, for the mixture
    ½π + ½π', 0.4 − 2·0.8·0.9·¼/0.01 = −35.6."""
    mdp, pi, pi_new = TC8.mdp, TC8.pi_old, TC8.pi_new
    J, J_new, L = objective(mdp, pi), objective(mdp, pi_new), surrogate(mdp, pi, pi_new)
    assert (J, L, J_new) == (pytest.approx(0.0, abs=1e-14), pytest.approx(0.8, abs=1e-13), pytest.approx(-4.96))
    np.testing.assert_allclose(state_visitation(mdp, pi), [0.55, 0.45], atol=1e-15)
    kl = categorical_kl(np.log(pi), np.log(pi_new))
    np.testing.assert_allclose(kl, [TC8_KL, TC8_KL], atol=1e-15)
    C = trpo_penalty_coefficient(mdp, pi)
    assert pytest.approx(360.0, rel=1e-14) == C
    bounds = performance_lower_bounds(mdp, pi, pi_new)
    assert bounds.trpo_tv == pytest.approx(0.8 - 360.0 * 0.4**2, rel=1e-13)
    assert bounds.trpo_kl == pytest.approx(0.8 - 360.0 * TC8_KL, rel=1e-13)
    assert bounds.cpo == pytest.approx(10.0 * (0.08 - 2.0 * 0.9 * 0.8 * 0.4 / 0.1), rel=1e-13)
    assert mixture_lower_bound(mdp, pi, pi_new, 0.5) == pytest.approx(0.4 - 36.0, rel=1e-13)
    worst = trust_region_degradation_bound(mdp, pi, pi_new, TC8_KL)
    assert worst == pytest.approx(-math.sqrt(2.0 * TC8_KL) * 0.9 * 0.8 / 0.01, rel=1e-13)
    assert worst < J_new - J < 0.0 < L - J
    # Only state 0 moves: E_{π'}A^π = (0.8, 0) and D_TV = (0.4, 0), so the maxima over states (ε^{π'}, α) differ from
    # the averages and minima; L = 10·0.55·0.8 = 4.4.
    one_state = np.array([[0.1, 0.9], [0.5, 0.5]])
    one_state_bounds = performance_lower_bounds(mdp, pi, one_state)
    assert one_state_bounds.trpo_tv == pytest.approx(4.4 - 360.0 * 0.4**2, rel=1e-13)
    assert one_state_bounds.trpo_kl == pytest.approx(4.4 - 360.0 * TC8_KL, rel=1e-13)
    assert one_state_bounds.cpo == pytest.approx(10.0 * (0.55 * 0.8 - 2.0 * 0.9 * 0.8 * 0.55 * 0.4 / 0.1), rel=1e-13)
    assert mixture_lower_bound(mdp, pi, one_state, 0.5) == pytest.approx(2.2 - 36.0, rel=1e-13)
    delta = 0.55 * TC8_KL
    one_state_worst = trust_region_degradation_bound(mdp, pi, one_state, delta)
    assert one_state_worst == pytest.approx(-math.sqrt(2.0 * delta) * 0.9 * 0.8 / 0.01, rel=1e-13)
    result(
        "TRPO-14",
        f"TC-8 (switch or stay, γ = 0.9): a step with average KL {TC8_KL:.3f} and surrogate gain +0.8 moves J from 0 "
        f"to {J_new:.2f} (worst case {worst:.1f}); TRPO's penalty (C = 360) rejects it",
    )


@pytest.mark.refutes("TRPO-14")
def test_trust_region_step_can_decrease_the_return_search():
    """TRPO-14: hypothesis.find must come back with a step, feasible for δ its realised average KL, whose surrogate
    gain is positive and whose J(π') < J(π); there the corrected degradation bound must still hold."""

    def decreases(step: PolicyStep) -> bool:
        J = objective(step.mdp, step.pi_old)
        gain = surrogate(step.mdp, step.pi_old, step.pi_new) - J
        return gain > DIFFERENT and objective(step.mdp, step.pi_new) - J < -DIFFERENT

    found = find(steering_steps(), decreases, settings=SEARCH)
    assert decreases(found), found
    mdp, pi, pi_new = found.mdp, found.pi_old, found.pi_new
    worst = trust_region_degradation_bound(mdp, pi, pi_new, average_kl(mdp, pi, pi_new))
    drop = objective(mdp, pi_new) - objective(mdp, pi)
    assert_at_least(drop, worst, atol=value_atol(mdp), what=f"degradation bound at {found!r}")


@pytest.mark.claim("TRPO-1")
def test_too_long_a_gradient_step_decreases_the_return_search():
    """TRPO-1 (notes §TRPO): hypothesis.find must come back with an MDP, a linear-feature softmax policy (θ ∈ R², shared
    by all states), θ and α ∈ [1, 100] with J(θ + α∇J) < J(θ) (lineage's exact gradient); from the same policy the
    tabular softmax step of the same size along its own exact gradient does not decrease J."""

    def case(seed: int) -> tuple[TabularMDP, LinearSoftmaxPolicy, np.ndarray, float]:
        """A seeded draw, as in ``seeded_steps``: features and θ uniform in [-2, 2], the rate uniform in [1, 100]."""
        rng = np.random.default_rng(seed)
        shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
        mdp = random_mdp(rng, *shape, float(rng.choice([0.5, 0.9, 0.95])))
        policy = LinearSoftmaxPolicy(rng.uniform(-2.0, 2.0, (*shape, 2)))
        return mdp, policy, rng.uniform(-2.0, 2.0, 2), float(rng.uniform(1.0, 100.0))

    def decreases(case) -> bool:
        mdp, policy, theta, rate = case
        moved = theta + rate * linear_softmax_policy_gradient(mdp, policy, theta)
        return objective(mdp, policy.probabilities(moved)) < objective(mdp, policy.probabilities(theta)) - DIFFERENT

    found = find(SEEDS.map(case), decreases, settings=SEARCH)
    assert decreases(found), found
    mdp, policy, theta, rate = found
    logits = policy.features @ theta
    tabular = softmax(logits + rate * softmax_policy_gradient(mdp, logits))
    assert_at_least(objective(mdp, tabular), objective(mdp, softmax(logits)), atol=value_atol(mdp), what="tabular")


# ------------------------------------------------------------------------------------------------
# Input checks: a bad argument is refused by name.
# ------------------------------------------------------------------------------------------------
UNIFORM = np.full((2, 2), 0.5)
NOT_A_POLICY = [[[0.5, 0.5]], [[1.5, -0.5], [0.5, 0.5]], [[np.nan, 1.0], [0.5, 0.5]]]


@pytest.mark.parametrize("bad", NOT_A_POLICY)
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda bad: surrogate(TC8.mdp, bad, UNIFORM), "pi_old"),
        (lambda bad: surrogate(TC8.mdp, UNIFORM, bad), "pi_new"),
        (lambda bad: trpo_penalty_coefficient(TC8.mdp, bad), "pi_old"),
        (lambda bad: performance_lower_bounds(TC8.mdp, UNIFORM, bad), "pi_new"),
        (lambda bad: mixture_lower_bound(TC8.mdp, UNIFORM, bad, 0.5), "pi_target"),
        (lambda bad: trust_region_degradation_bound(TC8.mdp, bad, UNIFORM, 0.1), "pi_old"),
    ],
)
def test_surrogate_functions_refuse_a_bad_policy_by_name(call, name, bad):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call(bad)


def test_surrogate_functions_refuse_bad_scalars_and_supports_by_name():
    deterministic = np.array([[1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"^pi_old:"):
        importance_sampled_surrogate(TC8.mdp, deterministic, UNIFORM)
    assert importance_sampled_surrogate(TC8.mdp, UNIFORM, deterministic) == pytest.approx(
        surrogate(TC8.mdp, UNIFORM, deterministic), abs=1e-14
    )
    with pytest.raises(ValueError, match=r"^pi_old:"):
        performance_lower_bounds(TC8.mdp, deterministic, UNIFORM)
    for alpha in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"^alpha:"):
            mixture_lower_bound(TC8.mdp, UNIFORM, UNIFORM, alpha)
    for delta in (-1e-3, float("inf")):
        with pytest.raises(ValueError, match=r"^delta:"):
            trust_region_degradation_bound(TC8.mdp, UNIFORM, UNIFORM, delta)
    undiscounted = TabularMDP(TC8.mdp.P, TC8.mdp.R, TC8.mdp.nu0, 1.0)
    with pytest.raises(ValueError, match=r"^gamma:"):
        surrogate(undiscounted, UNIFORM, UNIFORM)
