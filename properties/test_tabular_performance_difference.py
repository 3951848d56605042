"""The performance difference J(π') − J(π) in its telescoped, trajectory and visitation forms, and the
improvement conditions built on it (notes §TRPO; claims TRPO-2, TRPO-3, TRPO-5, TRPO-7, TRPO-8, STD-PDL-1).

π is the old policy, π' the new one; V^π, A^π are the old policy's values and the expectations run over
the new policy's trajectories or visitation. Trajectory forms enumerate every episode of an absorbing MDP.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import episodic_mdps, policy_pairs, positive_distributions, tabular_mdps
from lineage.returns import td_errors
from lineage.tabular import (
    advantages,
    discounted_visitation,
    objective,
    policy_transitions,
    state_values,
    state_visitation,
)
from properties.assertions import (
    assert_at_least,
    assert_identity,
    episodes,
    expected_discounted_sum,
    solve_tolerance,
    value_atol,
)


def return_difference(mdp, old, new) -> float:
    """J(π') − J(π) from two independent linear solves."""
    return objective(mdp, new) - objective(mdp, old)


def expected_new_policy_advantage(mdp, old, new) -> np.ndarray:
    """Σ_a π'(a|s) A^π(s, a) for every state s."""
    return (new * advantages(mdp, old)).sum(axis=1)


@pytest.mark.claim("TRPO-2")
@given(data=st.data(), mdp=tabular_mdps())
def test_objective_telescopes_along_another_policys_trajectories(data, mdp):
    """TRPO-2 (notes §TRPO): J(π) = −E_{π'}[Σ_t γ^t(γV^π(s_{t+1}) − V^π(s_t))]
    = −ν0ᵀ(I − γP_{π'})⁻¹(γP_{π'}V^π − V^π) for any other policy π'."""
    old, new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    V = state_values(mdp, old)
    increments = mdp.gamma * policy_transitions(mdp, new) @ V - V  # E[γV(s_{t+1}) − V(s_t) | s_t] under π'
    telescoped = -float(discounted_visitation(mdp, new) @ increments)
    assert_identity(telescoped, objective(mdp, old), **solve_tolerance(mdp), what="telescoped J(π) vs ν0ᵀV^π")


@pytest.mark.claim("TRPO-3")
@given(data=st.data(), mdp=episodic_mdps())
def test_return_difference_is_the_discounted_td_error_of_the_old_values_along_new_paths(data, mdp):
    """TRPO-3 (notes §TRPO): J(π') − J(π) = E_{τ~π'}[Σ_t γ^t(r_t + γV^π(s_{t+1}) − V^π(s_t))], with the TD
    error of every enumerated path taken at its realised next state."""
    old, new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    V = state_values(mdp, old)
    paths = episodes(mdp, new)
    no_end = np.zeros(paths.actions.shape, dtype=bool)  # V^π(terminal) = 0 already: bootstrap throughout
    values, next_values = V[paths.states[:, :-1]], V[paths.states[:, 1:]]
    deltas = td_errors(paths.rewards(mdp), values, next_values, no_end, gamma=mdp.gamma)
    by_paths = expected_discounted_sum(paths, deltas, mdp.gamma)
    diff = return_difference(mdp, old, new)
    assert_identity(by_paths, diff, **solve_tolerance(mdp), what="E_{π'}[Σ γ^t δ_t] vs J' − J")


@pytest.mark.claim("TRPO-5")
@given(data=st.data(), mdp=episodic_mdps())
def test_performance_difference_lemma_along_new_policy_paths(data, mdp):
    """TRPO-5 (notes §TRPO): J(π') − J(π) = E_{τ~π'}[Σ_t γ^t A^π(s_t, a_t)], enumerating every episode."""
    old, new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    paths = episodes(mdp, new)
    along_paths = advantages(mdp, old)[paths.states[:, :-1], paths.actions]
    by_paths = expected_discounted_sum(paths, along_paths, mdp.gamma)
    diff = return_difference(mdp, old, new)
    assert_identity(by_paths, diff, **solve_tolerance(mdp), what="E_{π'}[Σ γ^t A^π] vs J' − J")


@pytest.mark.claim("TRPO-5", "TRPO-7")
@given(data=st.data(), mdp=tabular_mdps())
def test_performance_difference_lemma_with_normalised_visitation(data, mdp):
    """TRPO-5, TRPO-7 (notes §TRPO): J(π') − J(π) = 1/(1 − γ) · E_{s~ν^{π'}} E_{a~π'}[A^π(s, a)]."""
    old, new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    gain = state_visitation(mdp, new) @ expected_new_policy_advantage(mdp, old, new)
    by_visitation, diff = gain / (1.0 - mdp.gamma), return_difference(mdp, old, new)
    assert_identity(by_visitation, diff, **solve_tolerance(mdp), what="E_{ν'}E_{π'}[A^π]/(1 − γ) vs J' − J")


@pytest.mark.claim("STD-PDL-1")
@given(data=st.data(), mdp=tabular_mdps())
def test_performance_difference_lemma_with_unnormalised_visitation(data, mdp):
    """STD-PDL-1 (notes §TRPO): η(π') = η(π) + Σ_s d^{π'}(s) Σ_a π'(a|s) A^π(s, a) with the unnormalised
    d = Σ_t γ^t P_t (Kakade & Langford 2002): no factor 1/(1 − γ)."""
    old, new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    by_visitation = discounted_visitation(mdp, new) @ expected_new_policy_advantage(mdp, old, new)
    diff = return_difference(mdp, old, new)
    assert_identity(by_visitation, diff, **solve_tolerance(mdp), what="Σ d' Σ π' A^π vs J' − J")


@pytest.mark.claim("TRPO-8")
@given(data=st.data(), mdp=tabular_mdps())
def test_sign_of_the_expected_advantage_decides_improvement(data, mdp):
    """TRPO-8 (notes §TRPO): E_{s~ν^{π'}}E_{a~π'}[A^π] ≥ 0 ⇒ J(π') ≥ J(π), and ≤ 0 ⇒ J(π') ≤ J(π)
    (both up to tolerance, so a draw never hinges on the sign of a rounding error)."""
    old, new = data.draw(policy_pairs(mdp), label="(pi, pi')")
    gain = float(state_visitation(mdp, new) @ expected_new_policy_advantage(mdp, old, new))
    diff, atol = return_difference(mdp, old, new), value_atol(mdp)
    if gain >= 0.0:
        assert_at_least(diff, 0.0, atol=atol, what=f"J' − J with E_{{ν'}}E_{{π'}}A = {gain!r} ≥ 0")
    if gain <= 0.0:
        assert_at_least(0.0, diff, atol=atol, what=f"J − J' with E_{{ν'}}E_{{π'}}A = {gain!r} ≤ 0")


@pytest.mark.claim("TRPO-8")
@given(data=st.data(), mdp=tabular_mdps(), step=st.floats(0.0, 1.0))
def test_per_state_nonnegative_expected_advantage_improves_every_state(data, mdp, step):
    """TRPO-8 (notes §TRPO; policy-improvement theorem): Σ_a π'(a|s)A^π(s, a) ≥ 0 for every s ⇒
    V^{π'} ≥ V^π pointwise, for π' = (1 − α)π + α·μ with μ(·|s) supported on actions with A^π(s, a) ≥ 0."""
    old, _ = data.draw(policy_pairs(mdp), label="(pi, _)")
    weights = data.draw(positive_distributions((mdp.n_states, mdp.n_actions)), label="mu weights")
    A = advantages(mdp, old)
    improving = (A >= 0.0) | (A.max(axis=1, keepdims=True) == A)  # the greedy action always qualifies
    mu = weights * improving / (weights * improving).sum(axis=1, keepdims=True)
    new = (1.0 - step) * old + step * mu
    atol = value_atol(mdp)
    assert_at_least((new * A).sum(axis=1), 0.0, atol=atol, what="premise Σ_a π'(a|s) A^π(s, a) ≥ 0")
    assert_at_least(state_values(mdp, new), state_values(mdp, old), atol=atol, what="V^{π'} vs V^π")
