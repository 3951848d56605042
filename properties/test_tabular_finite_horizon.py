"""Backward induction against path enumeration: the time-indexed values of a policy over a horizon H with any
terminal values (BASE-3 and the bootstrap of STD-TT-2; notes §VAR and §PPO).

    V_h(s)    = E[Σ_{h≤t<H} γ^{t−h} r_t + γ^{H−h} V_H(s_H) | s_h = s]
    Q_h(s, a) = the same given s_h = s, a_h = a

Both sides come from different code: ``backward_induction`` runs the Bellman recursion backwards, the reference
sums over every path of H − h steps from (s) or (s, a) enumerated by ``enumerate_trajectories``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.tabular import backward_induction, enumerate_trajectories, random_mdp

FLOAT64_EPS = float(np.finfo(np.float64).eps)


@st.composite
def finite_horizon_cases(draw):
    """A random MDP (S ≤ 3, A ≤ 2, γ ∈ {0, 0.5, 0.9, 1} or drawn), a policy, H ∈ [1, 3] and terminal values in
    [−5, 5]^S or none (V_H = 0)."""
    n_states, n_actions = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 1.0]) | st.floats(0, 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mdp = random_mdp(rng, n_states=n_states, n_actions=n_actions, gamma=gamma)
    pi = rng.dirichlet(np.ones(n_actions), size=n_states)
    terminal = draw(st.none() | arrays(np.float64, (n_states,), elements=st.floats(-5, 5, allow_subnormal=False)))
    return mdp, pi, draw(st.integers(1, 3)), terminal


def enumerated_value(mdp, pi, steps: int, terminal: np.ndarray, **start) -> float:
    """E[Σ_{t<steps} γ^t r_t + γ^steps V_H(s_steps)] over every path of ``steps`` steps from ``start``."""
    paths = enumerate_trajectories(mdp, pi, steps, **start)
    discounts = mdp.gamma ** np.arange(steps + 1)
    returns = paths.rewards(mdp) @ discounts[:-1] + discounts[-1] * terminal[paths.states[:, -1]]
    return float(paths.expectation(returns))


@pytest.mark.claim("BASE-3", "STD-TT-2")
@given(finite_horizon_cases())
def test_backward_induction_is_the_expected_return_over_the_remaining_paths(case):
    """V has shape [H + 1, S] with V[H] = the terminal values (0 when none), Q has shape [H, S, A], and every V_h(s),
    Q_h(s, a) is the enumerated expectation over the H − h remaining steps. Both sides add at most 3^H terms of
    size ≤ max|R|·H + max|V_H|, so they agree to 64·eps times that scale."""
    mdp, pi, horizon, terminal_values = case
    result = backward_induction(mdp, pi, horizon, terminal_values=terminal_values)
    terminal = np.zeros(mdp.n_states) if terminal_values is None else terminal_values
    assert result.V.shape == (horizon + 1, mdp.n_states) and result.Q.shape == (horizon, *mdp.R.shape), result
    np.testing.assert_array_equal(result.V[horizon], terminal, err_msg="V_H = the terminal values")
    atol = 64 * FLOAT64_EPS * (np.abs(mdp.R).max() * horizon + np.abs(terminal).max() + 1.0)
    for h in range(horizon):
        for s in range(mdp.n_states):
            v = enumerated_value(mdp, pi, horizon - h, terminal, start_state=s)
            assert abs(result.V[h, s] - v) <= atol, f"V_{h}({s}) = {result.V[h, s]!r}, enumerated {v!r}"
            for a in range(mdp.n_actions):
                q = enumerated_value(mdp, pi, horizon - h, terminal, start_state=s, start_action=a)
                assert abs(result.Q[h, s, a] - q) <= atol, f"Q_{h}({s}, {a}) = {result.Q[h, s, a]!r}, enumerated {q!r}"
