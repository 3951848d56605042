"""BASE-3 in a finite horizon (notes §VAR; spec TC-18): E[G_t | s_t] = V_t(s_t), the *time-indexed* value of
backward induction, not the stationary infinite-horizon V^π.

An RLHF episode is a response of at most T tokens, so its critic is a finite-horizon value: what is left
to collect depends on how many steps remain, not on the state alone. The notes' "E[G_t] = V(s_t)" is
refuted in its stationary reading — the baseline V^π misses the conditional mean of G_t by the discounted
value of the steps cut off at the horizon — and confirmed as the conditional, time-indexed statement.
Expectations are exact, by enumerating every path of H steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import example, find, given, settings
from hypothesis import strategies as st

from lineage.laws.cases.mdps import policies, tabular_mdps
from lineage.laws.tolerance import value_scale
from lineage.tabular import TabularMDP, backward_induction, enumerate_trajectories, policy_transitions, state_values
from properties.assertions import assert_identity

EPS = np.finfo(np.float64).eps
SEARCH = settings(database=None, max_examples=500)


@dataclass(frozen=True, eq=False)
class FiniteHorizon:
    """A tabular MDP run for ``horizon`` steps under the policy ``pi``."""

    mdp: TabularMDP
    pi: np.ndarray
    horizon: int

    def conditional_mean_returns(self) -> np.ndarray:
        """E[G_t | s_t = s], ``[H, S]``, with G_t = Σ_{t ≤ t' < H} γ^{t'−t} r_{t'}, over every path from ν0."""
        paths = enumerate_trajectories(self.mdp, self.pi, self.horizon)
        steps = np.arange(self.horizon)
        discounts = np.triu(self.mdp.gamma ** np.maximum(steps[None, :] - steps[:, None], 0))  # [t, t']
        returns = paths.rewards(self.mdp) @ discounts.T
        means = np.empty((self.horizon, self.mdp.n_states))
        for t in range(self.horizon):
            state, weight = paths.states[:, t], paths.probabilities
            mass = np.bincount(state, weight, self.mdp.n_states)
            means[t] = np.bincount(state, weight * returns[:, t], self.mdp.n_states) / mass
        return means

    def atol(self) -> float:
        """A conditional mean sums at most (S·A)^H·S paths of returns up to H·R_max, each sum then divided by its
        total weight: rounding stays below 4·paths·eps·H·R_max."""
        paths = (self.mdp.n_states * self.mdp.n_actions) ** self.horizon * self.mdp.n_states
        return 4 * paths * EPS * self.horizon * max(float(np.abs(self.mdp.R).max()), 1.0)


@st.composite
def finite_horizons(draw, max_gamma: float = 0.95, horizon: int | None = None) -> FiniteHorizon:
    """Spec §0.3 ``finite_horizon_mdp``: S ≤ 3, A = 2, H ≤ 4 (or ``horizon``); dense P and ν0, so every state
    is reachable at every step."""
    mdp = draw(tabular_mdps(max_states=3, max_actions=2, max_gamma=max_gamma))
    horizon = horizon or draw(st.integers(1, 4), label="H")
    return FiniteHorizon(mdp, draw(policies(mdp), label="pi"), horizon)


def stationary_baseline_miss(case: FiniteHorizon) -> np.ndarray:
    """E[G_t − V^π(s_t) | s_t] for every t and s, ``[H, S]``, with V^π the stationary infinite-horizon value."""
    return case.conditional_mean_returns() - state_values(case.mdp, case.pi)[None, :]


# TC-18 at its smallest: M4, one state, one action, r = 1, γ = 0.9, stopped after H = 2 steps. V^π = 10, while
# the returns still to come are 1.9 at t = 0 and 1 at t = 1.
TC18 = FiniteHorizon(TabularMDP([[[1.0]]], [[1.0]], [1.0], 0.9), np.array([[1.0]]), horizon=2)


@pytest.mark.refutes("BASE-3")
def test_base3_teaching_counterexample_tc18():
    """BASE-3 (notes §VAR; TC-18): on M4 stopped after two steps E[G_t | s_t] = (1.9, 1.0), so the stationary
    V^π = 10 misses it by (−8.1, −9.0); the time-indexed V_t of backward induction is (1.9, 1.0) and misses by 0."""
    np.testing.assert_allclose(state_values(TC18.mdp, TC18.pi), [10.0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(stationary_baseline_miss(TC18)[:, 0], [-8.1, -9.0], rtol=0, atol=1e-14)
    time_indexed = backward_induction(TC18.mdp, TC18.pi, TC18.horizon).V[: TC18.horizon, 0]
    np.testing.assert_allclose(time_indexed, [1.9, 1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(TC18.conditional_mean_returns()[:, 0], time_indexed, rtol=0, atol=1e-15)


@pytest.mark.refutes("BASE-3")
@given(case=finite_horizons())
@example(case=TC18)
def test_base3_stationary_baseline_misses_by_the_cut_off_tail(case):
    """BASE-3 (notes §VAR): with the stationary V^π, E[G_t − V^π(s_t) | s_t] = −γ^{H−t}·E[V^π(s_H) | s_t] =
    −γ^{H−t}(P_π^{H−t} V^π)(s_t): the value of everything after the horizon, zero only when that tail is."""
    V = state_values(case.mdp, case.pi)
    P_pi = policy_transitions(case.mdp, case.pi)
    steps_left = case.horizon - np.arange(case.horizon)
    tail = np.array([case.mdp.gamma**k * np.linalg.matrix_power(P_pi, k) @ V for k in steps_left])
    atol = case.atol() + 1e-9 * value_scale(case.mdp.R, case.mdp.gamma)  # V^π is a linear solve
    assert_identity(stationary_baseline_miss(case), -tail, atol=atol, what="E[G_t − V^π(s_t) | s_t] vs −tail")


@pytest.mark.refutes("BASE-3")
def test_base3_search_finds_a_stationary_baseline_off_the_conditional_mean():
    """BASE-3 (TC-18): hypothesis.find must return an MDP and policy, H = 2, where the stationary V^π misses
    E[G_t | s_t] by more than 1e-6 in some state: TC-18's numbers are not the only counterexample."""
    found = find(
        finite_horizons(horizon=2),
        lambda case: np.abs(stationary_baseline_miss(case)).max() > 1e-6,
        settings=SEARCH,
    )
    assert np.abs(stationary_baseline_miss(found)).max() > 1e-6, found


@pytest.mark.claim("BASE-3")
@given(case=finite_horizons(max_gamma=1.0))
def test_base3_time_indexed_value_is_the_conditional_mean_return(case):
    """BASE-3 (notes §VAR): E[G_t | s_t = s] = V_t(s) from backward induction (V_H = 0, V_h = Σ_a π(R + γPV_{h+1}))
    for every step and state, γ = 1 included, so ψ_t = G_t − V_t(s_t) has conditional mean zero."""
    backward = backward_induction(case.mdp, case.pi, case.horizon).V[: case.horizon]
    assert_identity(case.conditional_mean_returns(), backward, atol=case.atol(), what="E[G_t | s_t] vs V_t")
