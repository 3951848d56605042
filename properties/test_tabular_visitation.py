"""Discounted state visitation ν^π and occupancy measure ρ^π (notes §OCC; claims OCC-1..OCC-4).

The toolkit computes ν^π = (1 − γ)(I − γP_πᵀ)⁻¹ν0 by one linear solve; the properties rebuild it from the
series that defines it, from the geometric-stopping chain, and from the fixed-point iteration, all on the state
chain P_π built here from P and π (never the toolkit's own P_π, which its solve shares), and check J = ⟨ρ, R⟩/(1 − γ)
against a value solve written here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import policies, state_distributions, tabular_mdps
from lineage.tabular import TabularMDP, occupancy, state_visitation
from properties.assertions import (
    DISTRIBUTION_ATOL,
    assert_at_least,
    assert_identity,
    series_horizon,
    solve_tolerance,
)


def state_chain(mdp: TabularMDP, pi: np.ndarray) -> np.ndarray:
    """P_π[s, s'] = Σ_a π(a|s) P(s'|s, a), the kernel of the states under π."""
    return np.einsum("sa,sat->st", pi, mdp.P)


def expected_return(mdp: TabularMDP, pi: np.ndarray) -> float:
    """J(π) = ν0ᵀV^π with V^π = (I − γP_π)⁻¹r_π, r_π(s) = Σ_a π(a|s) R(s, a): the value side of the duality."""
    values = np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * state_chain(mdp, pi), (pi * mdp.R).sum(axis=1))
    return float(mdp.nu0 @ values)


def discounted_series(first: np.ndarray, step: Callable[[np.ndarray], np.ndarray], gamma: float):
    """(1 − γ) Σ_{t<K} γ^t x_t with x_{t+1} = step(x_t), for distributions x_t: the tail is ≤ γ^K < 1e-13."""
    total, x = np.zeros_like(first), first
    for t in range(series_horizon(gamma, 1.0, tol=1e-13)):
        total += (1.0 - gamma) * gamma**t * x
        x = step(x)
    return total


def law_of_stopped_state(P_pi: np.ndarray, nu0: np.ndarray, gamma: float) -> np.ndarray:
    """Law of s_T for T ~ Geometric(1 − γ): run the chain with a 'stopped' copy of every state that absorbs.

    Each step the walker moves with probability γ or freezes with probability 1 − γ; squaring the
    2S-state kernel 2^m times leaves a live mass γ^(2^m) < 1e-13.
    """
    n = len(nu0)
    kernel = np.block([[gamma * P_pi, (1.0 - gamma) * np.eye(n)], [np.zeros((n, n)), np.eye(n)]])
    for _ in range(max(1, int(np.ceil(np.log2(series_horizon(gamma, 1.0, tol=1e-13)))))):
        kernel = kernel @ kernel
    return (np.concatenate([nu0, np.zeros(n)]) @ kernel)[n:]


@pytest.mark.claim("OCC-1")
@given(data=st.data(), mdp=tabular_mdps())
def test_visitation_is_the_geometric_mixture_of_state_distributions(data, mdp):
    """OCC-1 (notes §OCC): ν^π = (1 − γ)Σ_t γ^t P_t^π is a distribution: the law of s_T, T ~ Geom(1 − γ)."""
    pi = data.draw(policies(mdp), label="pi")
    nu = state_visitation(mdp, pi)
    P_pi = state_chain(mdp, pi)
    by_series = discounted_series(mdp.nu0, lambda p: p @ P_pi, mdp.gamma)
    tol = solve_tolerance(mdp, DISTRIBUTION_ATOL)
    assert_at_least(nu, 0.0, atol=0.0, what="ν ≥ 0")
    assert_identity(nu.sum(), 1.0, **tol, what="Σ_s ν(s)")
    assert_identity(nu, by_series, **tol, what="solve vs truncated series")
    stopped = law_of_stopped_state(P_pi, mdp.nu0, mdp.gamma)
    assert_identity(nu, stopped, **tol, what="solve vs geometric stopping")


@pytest.mark.claim("OCC-2")
@given(data=st.data(), mdp=tabular_mdps())
def test_visitation_is_the_fixed_point_of_the_flow_recursion(data, mdp):
    """OCC-2 (notes §OCC): ν = (1 − γ)ν0 + γP_πᵀν, and iterating it from any ν_0 contracts in l1 at rate γ."""
    pi = data.draw(policies(mdp), label="pi")
    start = data.draw(state_distributions(mdp), label="start")
    nu = state_visitation(mdp, pi)
    P_pi = state_chain(mdp, pi)

    def flow(x: np.ndarray) -> np.ndarray:
        return (1.0 - mdp.gamma) * mdp.nu0 + mdp.gamma * x @ P_pi

    tol = solve_tolerance(mdp, DISTRIBUTION_ATOL)
    assert_identity(flow(nu), nu, **tol, what="residual of the flow recursion at the solve")
    iterate, initial_gap = start, np.abs(start - nu).sum()
    for k in range(1, 60):  # γ^59 ≥ 0.048 for γ = 0.95: the bound stays informative throughout
        iterate = flow(iterate)
        gap = np.abs(iterate - nu).sum()
        bound = mdp.gamma**k * initial_gap
        assert_at_least(bound, gap, atol=DISTRIBUTION_ATOL, what=f"γ^k ‖ν_0 − ν‖₁ vs ‖ν_k − ν‖₁ at k = {k}")


@pytest.mark.claim("OCC-3")
@given(data=st.data(), mdp=tabular_mdps())
def test_occupancy_satisfies_the_flow_constraints_and_determines_the_policy(data, mdp):
    """OCC-3 (notes §OCC): Σ_a ρ(s', a) = (1 − γ)ν0(s') + γΣ_{s,a} P(s'|s, a)ρ(s, a); J = ⟨ρ, R⟩/(1 − γ);
    π(a|s) = ρ(s, a) / Σ_b ρ(s, b)."""
    pi = data.draw(policies(mdp), label="pi")
    rho = occupancy(mdp, pi)
    inflow = (1.0 - mdp.gamma) * mdp.nu0 + mdp.gamma * np.einsum("sat,sa->t", mdp.P, rho)
    tol = solve_tolerance(mdp, DISTRIBUTION_ATOL)
    assert_identity(rho.sum(axis=1), inflow, **tol, what="Bellman flow constraints")
    J_from_rho = (rho * mdp.R).sum() / (1.0 - mdp.gamma)
    J = expected_return(mdp, pi)
    assert_identity(J_from_rho, J, **solve_tolerance(mdp), what="⟨ρ, R⟩/(1 − γ) vs ν0ᵀ(I − γP_π)⁻¹r_π")
    assert_identity(rho / rho.sum(axis=1, keepdims=True), pi, **tol, what="π from ρ")


@pytest.mark.claim("OCC-4")
@given(data=st.data(), mdp=tabular_mdps())
def test_occupancy_of_state_action_pairs_factorises(data, mdp):
    """OCC-4 (notes §OCC): ρ^π(s, a) = (1 − γ)Σ_t γ^t Pr(s_t = s, a_t = a) = ν^π(s)π(a|s), the series run
    on the state-action chain, the product from the state solve."""
    pi = data.draw(policies(mdp), label="pi")

    def next_pair(x: np.ndarray) -> np.ndarray:  # Pr(s_{t+1}, a_{t+1}) from Pr(s_t, a_t)
        return np.einsum("sa,sat->t", x, mdp.P)[:, None] * pi

    by_series = discounted_series(mdp.nu0[:, None] * pi, next_pair, mdp.gamma)
    assert_identity(
        occupancy(mdp, pi), by_series, **solve_tolerance(mdp, DISTRIBUTION_ATOL), what="ν·π vs state-action series"
    )
