"""Segments collected from real Gymnasium environments satisfy the canonical contract."""

import gymnasium as gym
import numpy as np
import pytest

import lineage
from lineage.returns.collect import collect_segment
from lineage.tabular import TabularMDP, random_mdp, state_values
from lineage.tabular.env import TabularEnv, tabular_policy_actor


def test_time_limit_cut_bootstraps_the_final_observation_tc17():
    """STD-TT-2 / TC-17 through Gymnasium's TimeLimit: M4 (one self-looping state, r = 1, γ = 0.9, V = 10)
    cut after every step. Bootstrapping gives δ = 1 + 0.9·10 − 10 = 0 = A; treating the cut as a
    termination would give −9."""
    m4 = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
    env = gym.wrappers.TimeLimit(TabularEnv(m4), max_episode_steps=1)
    seg = collect_segment(env, lambda obs: 0, lambda obs: 10.0, n_steps=3, seed=0)
    assert seg["truncated"].all() and not seg["terminated"].any(), seg
    np.testing.assert_allclose(lineage.gae(**seg, gamma=0.9, lam=0.95), 0.0, atol=1e-14)
    as_terminal = lineage.gae(**(seg | {"terminated": seg["truncated"]}), gamma=0.9, lam=0.95)
    np.testing.assert_allclose(as_terminal, -9.0, atol=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_collected_segment_follows_the_contract(seed):
    """next_values[t] is V(s_{t+1}) of the true next observation: equal to values[t + 1] inside an episode,
    and the final observation's value (not the reset observation's) at every cut or termination."""
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, n_states=4, n_actions=2, gamma=0.9)
    pi = rng.dirichlet(np.ones(2), size=4)
    env = gym.wrappers.TimeLimit(TabularEnv(mdp, terminal_states=(3,)), max_episode_steps=5)
    observations = []

    def value(obs):
        observations.append(obs)
        return float(state_values(mdp, pi)[obs])

    seg = collect_segment(env, tabular_policy_actor(pi, rng), value, n_steps=40, seed=seed)
    done = seg["terminated"] | seg["truncated"]
    inside = ~done[:-1]
    np.testing.assert_array_equal(seg["next_values"][:-1][inside], seg["values"][1:][inside])
    next_states = np.array(observations[1::2])
    np.testing.assert_array_equal(seg["terminated"], next_states == 3)
    assert seg["truncated"].any() and seg["terminated"].any(), "both kinds of episode end occur"


def test_terminal_states_outside_the_mdp_are_refused():
    mdp = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
    with pytest.raises(ValueError, match="terminal_states"):
        TabularEnv(mdp, terminal_states=(1,))
