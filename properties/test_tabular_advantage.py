"""Advantages, baselines and the TD error as an advantage estimator (notes §VAR, §TD, §GAE;
claims BASE-1, BASE-2, AC-10, AC-12, GAE-2).

Q^π is solved here on the state-action chain, Q = (I − γ P Π)⁻¹ R with (PΠ)[(s, a), (s', a')] =
P(s'|s, a) π(a'|s'), independently of the toolkit's state solve V^π = (I − γP_π)⁻¹ r_π.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import policies, reward_distributions, state_distributions, tabular_mdps, value_functions
from lineage.laws.tolerance import ROUNDING_FACTOR, value_scale
from lineage.returns import td_errors
from lineage.tabular import TabularMDP, advantages, state_values
from properties.assertions import EPS, assert_at_least, assert_identity, solve_tolerance, value_atol


def state_action_values(mdp: TabularMDP, pi: np.ndarray) -> np.ndarray:
    """Q^π from the linear system of the state-action chain (no state values involved)."""
    n_pairs = mdp.n_states * mdp.n_actions
    pair_kernel = np.einsum("sat,tb->satb", mdp.P, pi).reshape(n_pairs, n_pairs)
    q = np.linalg.solve(np.eye(n_pairs) - mdp.gamma * pair_kernel, mdp.R.reshape(n_pairs))
    return q.reshape(mdp.n_states, mdp.n_actions)


def weighted_variance(values: np.ndarray, weights: np.ndarray) -> float:
    """Var of ``values`` under the joint weights (same shape, summing to one), by the two-pass formula."""
    mean = (weights * values).sum()
    return float((weights * (values - mean) ** 2).sum())


def critic_tolerance(mdp: TabularMDP, error: np.ndarray) -> dict[str, float]:
    """:func:`solve_tolerance` on the scale of a critic V^π + e, whose TD errors add terms up to R_max/(1 − γ) + max|e|:
    1e-9 of that as the absolute part."""
    return solve_tolerance(mdp, 1e-9 * (value_scale(mdp.R, mdp.gamma) + float(np.abs(error).max())))


@pytest.mark.claim("BASE-1")
@given(data=st.data(), mdp=tabular_mdps())
def test_advantage_has_zero_mean_under_the_policy(data, mdp):
    """BASE-1 (notes §VAR): E_{a~π(·|s)}[A^π(s, a)] = 0 in every state."""
    pi = data.draw(policies(mdp), label="pi")
    mean_advantage = (pi * advantages(mdp, pi)).sum(axis=1)
    assert_identity(mean_advantage, 0.0, **solve_tolerance(mdp, 0.1 * value_atol(mdp)), what="Σ_a π(a|s) A^π(s, a)")


@pytest.mark.claim("BASE-2")
@given(data=st.data(), mdp=tabular_mdps(), shift=st.floats(-100.0, 100.0))
def test_centering_by_the_state_value_removes_the_between_state_variance(data, mdp, shift):
    """BASE-2 (notes §VAR): for s ~ any μ and a ~ π(·|s), Var(Q^π) = Var(A^π) + Var_μ(V^π), while a constant
    shift changes nothing: Var(Q^π + c) = Var(Q^π), up to the rounding of Q^π + c (the shift is exact, its
    floating-point sum is not)."""
    pi = data.draw(policies(mdp), label="pi")
    mu = data.draw(state_distributions(mdp), label="mu")
    joint = mu[:, None] * pi
    V = state_values(mdp, pi)
    Q, A = state_action_values(mdp, pi), advantages(mdp, pi)
    scale = value_scale(mdp.R, mdp.gamma)  # |Q|, |A|, |V| ≤ R_max/(1 − γ)
    tol = solve_tolerance(mdp, 1e-9 * scale**2)  # variances are quadratic in the scale
    total, within = weighted_variance(Q, joint), weighted_variance(A, joint)
    between_states = weighted_variance(V, mu)
    assert_identity(total, within + between_states, **tol, what="Var(Q) vs Var(A) + Var_μ(V)")
    # Q + c, its weighted mean and each deviation from it round by δ ≤ (n + 3)·eps·(|c| + scale) over n pairs, so a
    # variance of deviations of size ≤ 2·scale moves by at most 4·scale·δ + δ²
    deviation_error = (joint.size + 3) * EPS * (abs(shift) + scale)
    shift_rounding = ROUNDING_FACTOR * (4 * scale * deviation_error + deviation_error**2)
    shifted = weighted_variance(Q + shift, joint)
    assert_identity(
        shifted, total, atol=tol["atol"] + shift_rounding, rtol=tol["rtol"], what=f"Var(Q + {shift}) vs Var(Q)"
    )


@pytest.mark.claim("AC-10")
@given(data=st.data(), mdp=tabular_mdps())
def test_expected_td_error_is_the_advantage_plus_a_critic_error_bias(data, mdp):
    """AC-10 (notes §TD): R + γPV^π − V^π = A^π; for V = V^π + e the difference is γ(Pe)(s, a) − e(s)."""
    pi = data.draw(policies(mdp), label="pi")
    error = data.draw(value_functions(mdp), label="e")
    Q = state_action_values(mdp, pi)
    A = Q - (pi * Q).sum(axis=1, keepdims=True)
    V = state_values(mdp, pi)

    def expected_td_error(critic: np.ndarray) -> np.ndarray:
        return mdp.R + mdp.gamma * mdp.P @ critic - critic[:, None]

    assert_identity(expected_td_error(V), A, **solve_tolerance(mdp), what="R + γPV^π − V^π vs A^π")
    bias = mdp.gamma * mdp.P @ error - error[:, None]
    assert_identity(expected_td_error(V + error), A + bias, **critic_tolerance(mdp, error), what="with V = V^π + e")


@pytest.mark.claim("AC-12")
@given(data=st.data(), mdp=tabular_mdps())
def test_bellman_expectation_equation_with_random_rewards(data, mdp):
    """AC-12 (notes §TD): Q^π(s, a) = Σ_{s'} Σ_r p(s', r|s, a)[r + γV^π(s')] for a reward distribution per
    (s, a, s'), with Q^π solved on the expected rewards."""
    pi = data.draw(policies(mdp), label="pi")
    laws = data.draw(reward_distributions(mdp.n_states, mdp.n_actions), label="reward laws")
    mdp = TabularMDP(mdp.P, laws.expected_rewards(mdp.P), mdp.nu0, mdp.gamma)
    Q = state_action_values(mdp, pi)
    V = (pi * Q).sum(axis=1)
    joint = mdp.P[..., None] * laws.probabilities  # p(s', r_k | s, a)
    targets = laws.values + mdp.gamma * V[None, None, :, None]  # r_k + γV(s')
    double_sum = (joint * targets).sum(axis=(2, 3))
    tol = solve_tolerance(mdp, 1e-9 * value_scale(laws.values, mdp.gamma))  # the sum adds rewards r_k, not their mean
    assert_identity(double_sum, Q, **tol, what="Σ_{s',r} p(s', r|s, a)[r + γV(s')] vs Q")


@pytest.mark.claim("GAE-2")
@given(data=st.data(), mdp=tabular_mdps())
def test_td_error_is_unbiased_for_the_advantage_only_with_the_exact_value(data, mdp):
    """GAE-2 (notes §GAE): E[δ_t | s_t, a_t] = A^π(s_t, a_t) for the critic V^π; for V = V^π + e the bias is
    γ(Pe)(s, a) − e(s), which vanishes only for e = 0: max |bias| ≥ (1 − γ) max |e|."""
    pi = data.draw(policies(mdp), label="pi")
    error = data.draw(value_functions(mdp), label="e")
    V, A = state_values(mdp, pi), advantages(mdp, pi)
    s, a, s_next = np.indices(mdp.P.shape).reshape(3, -1)  # every transition (s, a, s') once

    def conditional_mean_td_error(critic: np.ndarray) -> np.ndarray:
        """E[δ | s, a] = Σ_{s'} P(s'|s, a) δ(s, a, s'), with δ from lineage's TD-error routine."""
        no_end = np.zeros(len(s), dtype=bool)
        delta = td_errors(mdp.R[s, a], critic[s], critic[s_next], no_end, gamma=mdp.gamma)
        return (mdp.P * delta.reshape(mdp.P.shape)).sum(axis=2)

    assert_identity(conditional_mean_td_error(V), A, **solve_tolerance(mdp), what="E[δ | s, a] with V^π vs A^π")
    bias = conditional_mean_td_error(V + error) - A
    expected_bias = mdp.gamma * mdp.P @ error - error[:, None]
    tol = critic_tolerance(mdp, error)
    assert_identity(bias, expected_bias, **tol, what="bias of δ with V = V^π + e")
    largest = np.abs(error).max()
    assert_at_least(np.abs(bias).max(), (1.0 - mdp.gamma) * largest, atol=tol["atol"], what="max |bias|")
