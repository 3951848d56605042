"""Unit tests of the exact tabular toolkit's own machinery (lineage.tabular): argument checking, the
enumeration bookkeeping, finite-horizon consistency and numerical stability. The laws the toolkit is
used to check live in properties/test_tabular_*.py."""

from __future__ import annotations

import numpy as np
import pytest

from lineage.tabular import (
    TabularMDP,
    backward_induction,
    enumerate_trajectories,
    random_mdp,
    softmax,
    state_values,
)
from lineage.tabular.trajectories import MAX_PATHS

SEEDS = [0, 1, 2]


def two_state_mdp(**overrides) -> dict:
    """Valid constructor arguments of a 2-state, 2-action MDP, with some replaced."""
    P = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.2, 0.8], [0.0, 1.0]]])
    arguments = {"P": P, "R": np.array([[1.0, 0.0], [0.0, -1.0]]), "nu0": np.array([0.3, 0.7]), "gamma": 0.9}
    return arguments | overrides


def uniform_policy(mdp: TabularMDP) -> np.ndarray:
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def test_valid_arguments_build_an_mdp_with_its_shapes():
    mdp = TabularMDP(**two_state_mdp())
    assert (mdp.n_states, mdp.n_actions) == (2, 2)
    assert "TabularMDP(S=2, A=2, gamma=0.9" in repr(mdp)


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("P", {"P": np.full((2, 2), 0.5)}),  # not [S, A, S]
        ("P", {"P": np.full((2, 2, 3), 1 / 3)}),  # next-state axis differs from S
        ("R", {"R": np.zeros((2, 3))}),
        ("nu0", {"nu0": np.array([1.0])}),
    ],
)
def test_mdp_refuses_bad_shapes_naming_the_argument(name, overrides):
    with pytest.raises(ValueError, match=rf"^{name}: expected shape"):
        TabularMDP(**two_state_mdp(**overrides))


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("P", {"P": np.full((2, 2, 2), 0.4)}),  # rows sum to 0.8
        ("P", {"P": np.array([[[1.5, -0.5], [1.0, 0.0]], [[0.2, 0.8], [0.0, 1.0]]])}),  # sums to 1, negative
        ("nu0", {"nu0": np.array([0.5, 0.6])}),
        ("nu0", {"nu0": np.array([-0.5, 1.5])}),
    ],
)
def test_mdp_refuses_non_stochastic_arrays_naming_the_argument(name, overrides):
    with pytest.raises(ValueError, match=rf"^{name}: entries must be >= 0 and sum to 1"):
        TabularMDP(**two_state_mdp(**overrides))


@pytest.mark.parametrize("name", ["P", "R", "nu0"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_mdp_refuses_non_finite_entries_naming_the_argument(name, bad):
    array = two_state_mdp()[name].copy()
    array.flat[0] = bad
    with pytest.raises(ValueError, match=rf"^{name}: every entry must be finite"):
        TabularMDP(**two_state_mdp(**{name: array}))


@pytest.mark.parametrize("gamma", [-0.1, 1.0 + 1e-12, 2.0, np.nan, np.inf, True, "0.9"])
def test_mdp_refuses_discounts_outside_the_unit_interval(gamma):
    with pytest.raises(ValueError, match=r"^gamma: "):
        TabularMDP(**two_state_mdp(gamma=gamma))


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_mdp_accepts_both_ends_of_the_unit_interval(gamma):
    assert TabularMDP(**two_state_mdp(gamma=gamma)).gamma == gamma


@pytest.mark.parametrize(
    ("pi", "message"),
    [
        (np.full((2, 3), 1 / 3), r"^pi: expected shape \(2, 2\)"),
        (np.full((2, 2), 0.6), r"^pi: entries must be >= 0 and sum to 1"),
        (np.array([[1.2, -0.2], [0.5, 0.5]]), r"^pi: entries must be >= 0 and sum to 1"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), r"^pi: every entry must be finite"),
    ],
)
def test_check_policy_refuses_bad_policies_naming_the_argument(pi, message):
    with pytest.raises(ValueError, match=message):
        TabularMDP(**two_state_mdp()).check_policy(pi)


def test_state_values_refuse_an_undiscounted_mdp():
    mdp = TabularMDP(**two_state_mdp(gamma=1.0))
    with pytest.raises(ValueError, match=r"^gamma: .*gamma < 1"):
        state_values(mdp, uniform_policy(mdp))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("start", [{}, {"start_state": 1}, {"start_state": 2, "start_action": 0}])
def test_enumerated_paths_are_a_distribution_over_paths_from_the_start(seed, start):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, 3, 2, 0.9)
    pi = softmax(rng.normal(size=(3, 2)))
    horizon = 3
    paths = enumerate_trajectories(mdp, pi, horizon, **start)
    assert paths.states.shape == (len(paths.probabilities), horizon + 1)
    assert paths.actions.shape == (len(paths.probabilities), horizon)
    np.testing.assert_allclose(paths.probabilities.sum(), 1.0, rtol=0, atol=1e-12)
    assert np.all(paths.probabilities > 0)
    if "start_state" in start:
        assert np.all(paths.states[:, 0] == start["start_state"])
    if "start_action" in start:
        assert np.all(paths.actions[:, 0] == start["start_action"])
    distinct = {(tuple(s), tuple(a)) for s, a in zip(paths.states, paths.actions, strict=True)}
    assert len(distinct) == len(paths.probabilities), "a path is listed twice"


def test_enumeration_from_a_start_action_matches_the_first_step_law():
    mdp = TabularMDP(**two_state_mdp())
    paths = enumerate_trajectories(mdp, uniform_policy(mdp), 1, start_state=0, start_action=0)
    law = {int(s1): p for s1, p in zip(paths.states[:, 1], paths.probabilities, strict=True)}
    assert law == pytest.approx({0: mdp.P[0, 0, 0], 1: mdp.P[0, 0, 1]})


def test_enumeration_refuses_oversize_horizons():
    mdp = random_mdp(np.random.default_rng(0), 4, 3, 0.9)
    too_long = next(h for h in range(1, 20) if (4 * 3) ** h * 4 > MAX_PATHS)
    with pytest.raises(ValueError, match=r"^horizon: "):
        enumerate_trajectories(mdp, uniform_policy(mdp), too_long)


@pytest.mark.parametrize(
    ("start", "name"),
    [
        ({"start_state": -1}, "start_state"),  # would wrap to the last state and be recorded as -1
        ({"start_state": 2}, "start_state"),
        ({"start_state": 0, "start_action": 2}, "start_action"),
        ({"start_state": 0, "start_action": 0.0}, "start_action"),
    ],
)
def test_enumeration_refuses_start_indices_out_of_range(start, name):
    mdp = TabularMDP(**two_state_mdp())
    with pytest.raises(ValueError, match=rf"^{name}: expected an integer in \[0, 2\)"):
        enumerate_trajectories(mdp, uniform_policy(mdp), 1, **start)


@pytest.mark.parametrize("horizon", [0, -1, 2.0])
def test_enumeration_refuses_non_positive_or_non_integer_horizons(horizon):
    mdp = TabularMDP(**two_state_mdp())
    with pytest.raises(ValueError, match=r"^horizon: "):
        enumerate_trajectories(mdp, uniform_policy(mdp), horizon)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("horizon", [1, 7])
def test_backward_induction_from_the_infinite_horizon_values_stays_there(seed, horizon):
    """With V_H = V^π as terminal values, V_h = V^π for every h and Q_h = R + γPV^π (stationarity)."""
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, 4, 3, 0.8)
    pi = softmax(rng.normal(size=(4, 3)))
    V = state_values(mdp, pi)
    result = backward_induction(mdp, pi, horizon, terminal_values=V)
    assert result.V.shape == (horizon + 1, 4) and result.Q.shape == (horizon, 4, 3)
    np.testing.assert_allclose(result.V, np.broadcast_to(V, result.V.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.Q[0], mdp.R + mdp.gamma * mdp.P @ V, rtol=1e-12, atol=1e-12)


def test_backward_induction_without_terminal_values_starts_from_zero():
    mdp = TabularMDP(**two_state_mdp())
    pi = uniform_policy(mdp)
    result = backward_induction(mdp, pi, 1)
    np.testing.assert_array_equal(result.V[1], 0.0)
    np.testing.assert_allclose(result.V[0], (pi * mdp.R).sum(axis=1), rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("logits", "expected"),
    [
        ([1000.0, 1000.0], [0.5, 0.5]),
        ([-1000.0, -1000.0], [0.5, 0.5]),
        ([1000.0, -1000.0], [1.0, 0.0]),
        ([-1000.0, 0.0], [0.0, 1.0]),
        ([0.0, np.log(3.0)], [0.25, 0.75]),
    ],
)
def test_softmax_is_stable_for_extreme_logits(logits, expected):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the right answer
        got = softmax(np.array(logits))
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


def test_softmax_is_shift_invariant_per_row():
    logits = np.random.default_rng(0).normal(size=(3, 4))
    shifts = np.array([[1000.0], [-1000.0], [0.0]])
    np.testing.assert_allclose(softmax(logits + shifts), softmax(logits), rtol=1e-12, atol=1e-15)


def test_backward_induction_refuses_terminal_values_of_the_wrong_shape():
    mdp = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"^terminal_values:"):
        backward_induction(mdp, [[1.0]], 2, terminal_values=[0.0, 1.0])
