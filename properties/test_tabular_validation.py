"""The tabular toolkit's input checks and stored types: bad input raises ValueError naming the argument, the
documented 1e-9 tolerance on a distribution's sum is the one applied, and what an MDP stores is what it promises
(float arrays and a Python float γ). Also the action chooser of the collection runs (tabular_policy_actor).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.tabular import TabularMDP, backward_induction, random_mdp
from lineage.tabular.env import TabularEnv, tabular_policy_actor
from lineage.tabular.policy import LinearSoftmaxPolicy, softmax

NOT_A_FINITE_ARRAY = [[np.nan], [np.inf], ["a"]]


def two_state_mdp(**overrides) -> TabularMDP:
    fields = {
        "P": [[[0.5, 0.5]], [[0.0, 1.0]]],
        "R": [[1.0], [0.0]],
        "nu0": [1.0, 0.0],
        "gamma": 0.5,
    }
    return TabularMDP(**{**fields, **overrides})


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_backward_induction_refuses_a_bad_horizon_by_name(bad):
    with pytest.raises(ValueError, match=r"^horizon:"):
        backward_induction(two_state_mdp(), [[1.0], [1.0]], bad)


@pytest.mark.parametrize("bad", [[np.nan, 0.0], [0.0, np.inf], ["a", "b"]])
def test_backward_induction_refuses_bad_terminal_values_by_name(bad):
    with pytest.raises(ValueError, match=r"^terminal_values:"):
        backward_induction(two_state_mdp(), [[1.0], [1.0]], 2, terminal_values=bad)


@pytest.mark.parametrize("bad", NOT_A_FINITE_ARRAY)
def test_softmax_refuses_bad_logits_by_name(bad):
    with pytest.raises(ValueError, match=r"^logits:"):
        softmax(bad)


@pytest.mark.parametrize("bad", NOT_A_FINITE_ARRAY)
def test_linear_softmax_refuses_bad_parameters_by_name(bad):
    with pytest.raises(ValueError, match=r"^theta:"):
        LinearSoftmaxPolicy(np.ones((2, 2, 1))).probabilities(bad)


@pytest.mark.parametrize("excess", [-5e-9, 5e-9, 1e-6])
@pytest.mark.parametrize("argument", ["P", "nu0"])
def test_a_sum_off_by_more_than_1e9_is_not_a_distribution(argument, excess):
    """The documented tolerance: a slice summing to 1 ± 5e-9 (or further) is refused, naming the argument; one
    summing to 1 ± 5e-10 is accepted."""
    P, nu0 = np.array([[[0.5, 0.5]], [[0.0, 1.0]]]), np.array([1.0, 0.0])

    def off_by(e: float) -> np.ndarray:  # e added to an entry ≥ 0.5 of every slice, so no entry turns negative
        return {"P": P + np.array([0.0, e]), "nu0": nu0 + np.array([e, 0.0])}[argument]

    with pytest.raises(ValueError, match=rf"^{argument}:"):
        two_state_mdp(**{argument: off_by(excess)})
    close = off_by(excess / 10)
    if abs(excess) < 1e-8:
        two_state_mdp(**{argument: close})


@pytest.mark.parametrize("shape_error", ["R", "nu0"])
def test_a_shape_error_states_the_shape_expected_from_p(shape_error):
    """S = 2 states and A = 1 action read from P: R must be (2, 1) and ν0 (2,), and the message says so."""
    overrides = {"R": {"R": [[1.0, 0.0], [0.0, 0.0]]}, "nu0": {"nu0": [1.0]}}[shape_error]
    expected = {"R": "expected shape (2, 1)", "nu0": "expected shape (2,)"}[shape_error]
    with pytest.raises(ValueError, match=rf"^{shape_error}: {re.escape(expected)}"):
        two_state_mdp(**overrides)


@pytest.mark.parametrize("gamma", [0, 1, np.float32(0.5), np.float64(0.25)])
def test_an_mdp_stores_float_arrays_and_a_python_float_discount(gamma):
    """Lists and integers in, float64 arrays and a Python float γ out (as the fields document)."""
    mdp = TabularMDP(P=[[[1, 0]], [[0, 1]]], R=[[1], [0]], nu0=[1, 0], gamma=gamma)
    for name in ("P", "R", "nu0"):
        value = getattr(mdp, name)
        assert isinstance(value, np.ndarray) and value.dtype == np.float64, (name, value)
    assert type(mdp.gamma) is float and mdp.gamma == float(gamma), (type(mdp.gamma), mdp.gamma)


def test_an_env_refuses_a_terminal_state_outside_the_mdp():
    mdp = two_state_mdp()
    with pytest.raises(ValueError, match=r"^terminal_states:"):
        TabularEnv(mdp, terminal_states=(2,))
    TabularEnv(mdp, terminal_states=(1,))


def test_an_env_declares_its_spaces():
    env = TabularEnv(random_mdp(np.random.default_rng(0), n_states=3, n_actions=2, gamma=0.9))
    assert env.observation_space.n == 3 and env.action_space.n == 2, (env.observation_space, env.action_space)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_the_policy_actor_draws_a_supported_action_and_follows_deterministic_rows(n_states, n_actions, seed):
    """a ~ π(·|s): an int with π(a|s) > 0; a one-hot row always gives its action; the same generator seed gives the
    same actions."""
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(n_actions), size=n_states) * (rng.random((n_states, n_actions)) < 0.7)
    pi[np.arange(n_states), rng.integers(0, n_actions, n_states)] += 1.0
    pi /= pi.sum(axis=1, keepdims=True)
    pi[0] = np.eye(n_actions)[n_actions - 1]
    actor = tabular_policy_actor(pi, np.random.default_rng(seed))
    actions = [actor(s) for s in range(n_states) for _ in range(3)]
    again = tabular_policy_actor(pi, np.random.default_rng(seed))
    assert actions == [again(s) for s in range(n_states) for _ in range(3)]
    assert all(type(a) is int for a in actions), actions
    states = np.repeat(np.arange(n_states), 3)
    assert np.all(pi[states, actions] > 0), (pi, actions)
    assert actions[:3] == [n_actions - 1] * 3, actions
