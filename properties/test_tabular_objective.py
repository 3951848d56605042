"""The objective J(π) = E_{s0~ν0}[V^π(s0)] computed in independent ways (notes §PG; claim PG-1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import episodic_mdps, policies, tabular_mdps
from lineage.tabular import backward_induction, objective, occupancy
from properties.assertions import assert_identity, episodes, expected_discounted_sum, series_horizon, solve_tolerance


@pytest.mark.claim("PG-1")
@given(data=st.data(), mdp=tabular_mdps())
def test_objective_solve_occupancy_and_truncated_series_agree(data, mdp):
    """PG-1 (notes §PG): ν0ᵀ(I − γP_π)⁻¹r_π = ⟨ρ^π, R⟩/(1 − γ) = Σ_{t<K} γ^t ν0ᵀP_π^t r_π (tail below the tolerance)."""
    pi = data.draw(policies(mdp), label="pi")
    by_solve = objective(mdp, pi)
    by_occupancy = float((occupancy(mdp, pi) * mdp.R).sum()) / (1.0 - mdp.gamma)
    horizon = series_horizon(mdp.gamma, 1.0)  # |tail| ≤ γ^K·R_max/(1 − γ) < 1e-12·R_max/(1 − γ)
    by_series = float(mdp.nu0 @ backward_induction(mdp, pi, horizon).V[0])  # V_0 = Σ_{t<K} γ^t P_π^t r_π
    tol = solve_tolerance(mdp)
    assert_identity(by_occupancy, by_solve, **tol, what="⟨ρ, R⟩/(1 − γ) vs linear solve")
    assert_identity(by_series, by_solve, **tol, what=f"series truncated at K = {horizon} vs linear solve")


@pytest.mark.claim("PG-1")
@given(data=st.data(), mdp=episodic_mdps())
def test_objective_equals_expected_discounted_return_over_enumerated_episodes(data, mdp):
    """PG-1 (notes §PG): J(π) = E_τ[Σ_t γ^t r_t], enumerating every episode of an absorbing MDP exactly."""
    pi = data.draw(policies(mdp), label="pi")
    paths = episodes(mdp, pi)
    by_enumeration = expected_discounted_sum(paths, paths.rewards(mdp), mdp.gamma)
    assert_identity(by_enumeration, objective(mdp, pi), **solve_tolerance(mdp), what="E_τ[Σ γ^t r_t] vs solve")
