"""TRPO's surrogate L_π(π') on exact tabular MDPs: it matches J to first order at the old policy and no further, its
importance-sampled form as printed in the notes is wrong, and the performance difference it approximates (notes
§TRPO, §PG; claims TRPO-4, TRPO-6, TRPO-10, TRPO-11, TRPO-12, PG-10, STD-TRPO-3, STD-TRPO-4; TC-7).

L is affine in the new policy π', so its derivative along a direction of the new logits is exact from two calls of
lineage's ``surrogate``: the softmax tangent ∂π'/∂θ'·u, halved, is itself a step between policies (see
:func:`surrogate_slope`). No finite-difference step size enters the first-order checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, find, given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import episodic_mdps, policy_pairs
from lineage.laws.tolerance import scaled_tolerance, value_scale
from lineage.tabular import (
    TabularMDP,
    action_values,
    advantages,
    discounted_visitation,
    importance_sampled_surrogate,
    objective,
    policy_transitions,
    softmax,
    softmax_policy_gradient,
    state_values,
    state_visitation,
    surrogate,
)
from properties.assertions import (
    EPS,
    assert_at_least,
    assert_identity,
    episodes,
    expected_discounted_sum,
    series_horizon,
    solve_tolerance,
    value_atol,
)
from properties.trpo_cases import DIFFERENT, M5, SEARCH, TC8, PolicyStep, policy_steps, seeded_steps


def surrogate_slope(mdp: TabularMDP, pi_old: np.ndarray, logits: np.ndarray, direction: np.ndarray) -> float:
    """d/dt L_π(softmax(θ' + t·u)) at t = 0, exactly: L is affine in π' and the tangent T = π'⊙(u − Σ_b π'u) has
    zero row sums with π' + T/2 ≥ 0 for u ∈ [-1, 1]^{S×A}, so π' + T/2 is a policy and the slope is
    2·(L(π' + T/2) − L(π'))."""
    pi = softmax(logits)
    tangent = pi * (direction - (pi * direction).sum(axis=1, keepdims=True))
    return 2.0 * (surrogate(mdp, pi_old, pi + 0.5 * tangent) - surrogate(mdp, pi_old, pi))


def printed_surrogate(mdp: TabularMDP, pi_old: np.ndarray, pi_new: np.ndarray) -> float:
    """TRPO-11 as printed: J(π) + E_{s~ν^π} E_{a~π'}[π'(a|s)/π(a|s) · A^π(s, a)] — actions from π', the ratio on
    top, and no 1/(1 − γ)."""
    weighted = (pi_new * (pi_new / pi_old) * advantages(mdp, pi_old)).sum(axis=1)
    return objective(mdp, pi_old) + float(state_visitation(mdp, pi_old) @ weighted)


def ratio_tolerance(mdp: TabularMDP) -> float:
    """The IS form and L differ by the rounding of π·(π'/π) against π': ≤ 2 eps per term of a sum of S·A terms of
    size ≤ ν·π'·max|A|/(1 − γ) ≤ 2R_max/(1 − γ)² (|A^π| ≤ 2R_max/(1 − γ)), with the suite's safety factor."""
    return scaled_tolerance(EPS, 2.0 * value_scale(mdp.R, mdp.gamma) / (1.0 - mdp.gamma), mdp.R.size)


# ------------------------------------------------------------------------------------------------
# TRPO-10, STD-TRPO-3, PG-10, TRPO-12, STD-TRPO-4, TRPO-6: what the surrogate is and is not.
# ------------------------------------------------------------------------------------------------
@pytest.mark.refutes("TRPO-11")
@pytest.mark.claim("TRPO-10", "STD-TRPO-3", "PG-10", "TRPO-12", "STD-TRPO-4", "TRPO-6", "TRPO-11")
@given(step=policy_steps())
@example(step=M5)
@example(step=TC8)
def test_surrogate_matches_the_objective_to_first_order_at_the_old_policy(step: PolicyStep):
    """TRPO-10, STD-TRPO-3 (notes §TRPO): L_π(π) = J(π) and ∇_θ' L_π(π_θ')|_{θ'=θ} = ∇J(θ), along a drawn direction
    u of the logits (u·∇J from lineage's softmax policy gradient). PG-10, TRPO-12: away from θ the gap is the state
    shift, J(π') − L_π(π') = Σ_s (d^{π'} − d^π)(s) Σ_a π'A^π — what π's data cannot see. STD-TRPO-4: with Q^π for A^π
    the surrogate moves by Σ_s d^π V^π, the same for every π'. TRPO-6: Σ_{t<K} γ^t E_{s_t~P_t^{π'}} E_{a~π'}[A^π]
    is within γ^K max|A^π|/(1 − γ) of J(π') − J(π) for every K.

    TRPO-11: as printed, E_{s~ν^π}E_{a~π'}[ρA^π] = 2(1 − γ)(L_π(π') − J(π)) + E_{s~ν^π}[Σ_a (π' − π)²/π · A^π]:
    twice the surrogate gain shrunk by 1 − γ, plus a χ²-weighted term, so its gradient at θ is 2(1 − γ)∇J — right only
    at γ = ½. Corrected (actions from π, one ratio, 1/(1 − γ)), lineage's IS surrogate is L_π(π') to the rounding of
    the ratio (STD-TRPO-3: the same value and gradient as L)."""
    mdp, pi, pi_new, u = step.mdp, step.pi_old, step.pi_new, step.direction
    tol, atol = solve_tolerance(mdp), value_atol(mdp)
    J, A, d = objective(mdp, pi), advantages(mdp, pi), discounted_visitation(mdp, pi)
    L_old, L_new = surrogate(mdp, pi, pi), surrogate(mdp, pi, pi_new)
    assert_identity(L_old, J, **tol, what="L_π(π) vs J(π)")
    tangent = pi * (u - (pi * u).sum(axis=1, keepdims=True))  # π' + T/2 is a policy and L is affine in π'
    slope = 2.0 * (surrogate(mdp, pi, pi + 0.5 * tangent) - L_old)
    gradient = softmax_policy_gradient(mdp, step.logits_old)
    assert_identity(slope, float((gradient * u).sum()), **tol, what="u·∇L at θ' = θ vs u·∇J")

    expected_new = (pi_new * A).sum(axis=1)
    J_new = objective(mdp, pi_new)
    shift = float((discounted_visitation(mdp, pi_new) - d) @ expected_new)
    assert_identity(J_new - L_new, shift, **tol, what="J(π') − L_π(π') vs Σ (d' − d) Σ π'A")

    Q, V = action_values(mdp, pi), state_values(mdp, pi)
    for policy, L in ((pi, L_old), (pi_new, L_new)):
        with_q = J + float(d @ (policy * Q).sum(axis=1))
        assert_identity(with_q - L, float(d @ V), **tol, what="L with Q − L with A")

    horizon = series_horizon(mdp.gamma, 1.0) + 1
    laws, power = mdp.nu0[None, :], policy_transitions(mdp, pi_new)
    while len(laws) < horizon:  # rows P_t = ν0ᵀP_{π'}^t, t < 2n, from the rows t < n and P_{π'}^n
        laws, power = np.vstack([laws, laws @ power]), power @ power
    terms = mdp.gamma ** np.arange(horizon) * (laws[:horizon] @ expected_new)  # γ^t E_{s_t~P_t}E_{a~π'}[A^π]
    partial = np.concatenate([[0.0], np.cumsum(terms)[:-1]])  # partial[K] = Σ_{t<K}
    tail = mdp.gamma ** np.arange(horizon) * float(np.abs(A).max()) / (1.0 - mdp.gamma)
    assert_at_least(tail, np.abs(J_new - J - partial), atol=atol, what="TRPO-6: γ^K max|A|/(1 − γ) vs |tail|")

    nu = state_visitation(mdp, pi)
    chi_squared = float(nu @ ((pi_new - pi) ** 2 / pi * A).sum(axis=1))
    printed = J + 2.0 * (1.0 - mdp.gamma) * (L_new - J) + chi_squared
    assert_identity(printed_surrogate(mdp, pi, pi_new), printed, **tol, what="printed IS form")
    corrected = importance_sampled_surrogate(mdp, pi, pi_new)
    assert_identity(corrected, L_new, atol=ratio_tolerance(mdp), what="E_{ν^π}E_{π}[ρA]/(1 − γ) + J vs L_π(π')")


@pytest.mark.claim("PG-10", "TRPO-12")
def test_surrogate_and_objective_part_away_from_the_old_policy_search():
    """PG-10, TRPO-12 (notes §PG, §TRPO): hypothesis.find must come back with a step where L_π(π') and J(π') differ:
    old data estimates the surrogate, not J(θ') (with one state the two coincide, ν being fixed)."""

    def differ(step: PolicyStep) -> bool:
        return abs(objective(step.mdp, step.pi_new) - surrogate(step.mdp, step.pi_old, step.pi_new)) > DIFFERENT

    found = find(seeded_steps(min_states=2), differ, settings=SEARCH)
    assert differ(found), found


@pytest.mark.claim("STD-TRPO-3")
def test_surrogate_and_objective_curvatures_differ_search():
    """STD-TRPO-3 (notes §TRPO): the match is first-order only. hypothesis.find must come back with a step and a
    direction u where the second derivatives along u at θ differ: d/dt u·∇J(θ + tu) (central difference of lineage's
    exact gradient, h = 1e-4: error ≤ h²/6·|J'''| ≪ 1e-3) against the same for L_π (exact slopes of lineage's L)."""
    h = 1e-4

    def differ(step: PolicyStep) -> bool:
        mdp, u = step.mdp, step.direction

        def objective_slope(logits: np.ndarray) -> float:
            return float((softmax_policy_gradient(mdp, logits) * u).sum())

        def slope(logits: np.ndarray) -> float:
            return surrogate_slope(mdp, step.pi_old, logits, u)

        theta = step.logits_old
        of_objective = (objective_slope(theta + h * u) - objective_slope(theta - h * u)) / (2 * h)
        of_surrogate = (slope(theta + h * u) - slope(theta - h * u)) / (2 * h)
        return abs(of_objective - of_surrogate) > DIFFERENT

    found = find(seeded_steps(min_states=2), differ, settings=SEARCH)
    assert differ(found), found


# ------------------------------------------------------------------------------------------------
# TRPO-11: the importance-sampled surrogate as printed (TC-7).
# ------------------------------------------------------------------------------------------------
@pytest.mark.refutes("TRPO-11")
def test_printed_importance_sampled_surrogate_teaching_counterexample_tc7(result):
    """TRPO-11 (notes §TRPO, TC-7 on M5): one self-looping state, γ = 0.9, π = (0.5, 0.5), π' = (0.9, 0.1),
    A^π = (1, −1). The true increment J(π') − J(π) = 10 × 0.8 = 8.0 is lineage's surrogate and IS surrogate increment
    (one state: ν does not move); the printed form gives 0.9·1.8 − 0.1·0.2 = 1.6."""
    mdp, pi, pi_new = M5.mdp, M5.pi_old, M5.pi_new
    J = objective(mdp, pi)
    assert pytest.approx(0.0, abs=1e-15) == J
    assert objective(mdp, pi_new) - J == pytest.approx(8.0, abs=1e-12)
    assert surrogate(mdp, pi, pi_new) - J == pytest.approx(8.0, abs=1e-12)
    assert importance_sampled_surrogate(mdp, pi, pi_new) - J == pytest.approx(8.0, abs=1e-12)
    assert printed_surrogate(mdp, pi, pi_new) - J == pytest.approx(1.6, abs=1e-12)
    result(
        "TRPO-11", "M5 (TC-7): the printed IS surrogate gives an increment of 1.6; the true and corrected one is 8.0"
    )


@pytest.mark.refutes("TRPO-11")
def test_printed_importance_sampled_surrogate_search():
    """TRPO-11: hypothesis.find must come back with a step where the printed form and lineage's IS surrogate differ,
    and there lineage's IS surrogate must still equal its surrogate L."""

    def differ(step: PolicyStep) -> bool:
        printed = printed_surrogate(step.mdp, step.pi_old, step.pi_new)
        return abs(printed - importance_sampled_surrogate(step.mdp, step.pi_old, step.pi_new)) > DIFFERENT

    found = find(seeded_steps(), differ, settings=SEARCH)
    assert differ(found), found
    corrected = importance_sampled_surrogate(found.mdp, found.pi_old, found.pi_new)
    L = surrogate(found.mdp, found.pi_old, found.pi_new)
    assert_identity(corrected, L, atol=ratio_tolerance(found.mdp), what="IS surrogate vs L at the instance")


# ------------------------------------------------------------------------------------------------
# TRPO-4: the value of the new policy is its expected discounted return.
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("TRPO-4")
@given(data=st.data(), mdp=episodic_mdps(max_states=3, max_actions=3))
def test_new_policy_value_is_its_expected_discounted_return(data, mdp):
    """TRPO-4 (notes §TRPO): E_{s0}[V^{π'}(s0)] = E_{τ~π'}[Σ_t γ^t r_t], and V^{π'}(s) = E[Σ_t γ^t r_t | s_0 = s]
    for every start state, enumerating every episode of an absorbing MDP (V^{π'} from lineage's solve)."""
    _, pi_new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    paths = episodes(mdp, pi_new)
    tol = solve_tolerance(mdp)
    V = state_values(mdp, pi_new)
    assert_identity(
        float(mdp.nu0 @ V), expected_discounted_sum(paths, paths.rewards(mdp), mdp.gamma), **tol, what="E[V]"
    )
    returns = paths.rewards(mdp) @ mdp.gamma ** np.arange(paths.actions.shape[1])
    starts = paths.states[:, 0]
    for s in range(mdp.n_states):
        conditional = float((paths.probabilities * returns)[starts == s].sum()) / mdp.nu0[s]
        assert_identity(V[s], conditional, **tol, what=f"V^π'({s}) vs E[G | s_0 = {s}]")
