"""Segments collected from a Gymnasium environment (``lineage.returns.collect_segment``) record what happened:
the true next observation's value at every episode end, and the two kinds of end kept apart (STD-TT-1,
STD-TT-2; notes §PPO and §GAE on truncation).

The environment is a random tabular MDP behind Gymnasium's API (``lineage.tabular.env.TabularEnv``) wrapped in
``TimeLimit``; the actor and the critic record every observation they are shown, so each recorded entry is
checked against the step it came from, exactly.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lineage
from lineage.returns.collect import collect_segment
from lineage.tabular import TabularMDP, random_mdp
from lineage.tabular.env import TabularEnv


class Recorder:
    """An actor a ~ π(·|s) and a critic V(s) = s + 0.5 (distinct per state, a numpy float32 scalar as a float32
    model would return it) that remember what they were shown."""

    def __init__(self, pi: np.ndarray, seed: int) -> None:
        self.pi, self.rng = pi, np.random.default_rng(seed)
        self.acted: list[tuple[int, int]] = []  # (observation, action)
        self.valued: list[int] = []

    def act(self, observation: int) -> int:
        action = int(self.rng.choice(self.pi.shape[1], p=self.pi[observation]))
        self.acted.append((observation, action))
        return action

    def value(self, observation: int) -> np.float32:
        self.valued.append(observation)
        return np.float32(observation + 0.5)


@st.composite
def rollouts(draw):
    """A random MDP (S ∈ [1, 5], A ∈ [1, 3]) with some terminal states, a time limit H ∈ [1, 6] and T ∈ [1, 25]
    steps: one-step episodes, no terminal state, every state terminal and T = 1 are all reachable."""
    n_states, n_actions = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng, n_states=n_states, n_actions=n_actions, gamma=0.9)
    terminal = tuple(draw(st.sets(st.integers(0, n_states - 1))))
    pi = rng.dirichlet(np.ones(n_actions), size=n_states)
    return mdp, terminal, pi, draw(st.integers(1, 6)), draw(st.integers(1, 25)), seed


def collect(mdp, terminal, pi, limit, n_steps, seed):
    recorder = Recorder(pi, seed)
    env = gym.wrappers.TimeLimit(TabularEnv(mdp, terminal_states=terminal), max_episode_steps=limit)
    return collect_segment(env, recorder.act, recorder.value, n_steps, seed=seed), recorder


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@given(rollouts())
def test_a_collected_segment_records_each_step_and_the_true_next_observation(rollout):
    """For every step t, with s_t the observation the actor saw and s'_t the step's next observation: rewards[t] =
    R(s_t, a_t), values[t] = V(s_t), next_values[t] = V(s'_t) (the final observation at a cut, never the reset's),
    terminated[t] ⇔ s'_t is terminal, truncated[t] ⇔ the episode reached the time limit H, and s_{t+1} = s'_t
    unless the episode ended. Arrays are [T], float64 and bool."""
    mdp, terminal, _, limit, n_steps, _ = rollout
    seg, recorder = collect(*rollout)
    assert sorted(seg) == ["next_values", "rewards", "terminated", "truncated", "values"], sorted(seg)
    for name in ("rewards", "values", "next_values"):
        assert seg[name].shape == (n_steps,) and seg[name].dtype == np.float64, (name, seg[name])
    for name in ("terminated", "truncated"):
        assert seg[name].shape == (n_steps,) and seg[name].dtype == bool, (name, seg[name])
    states = np.array([s for s, _ in recorder.acted])
    actions = np.array([a for _, a in recorder.acted])
    shown, next_states = np.array(recorder.valued[0::2]), np.array(recorder.valued[1::2])
    assert len(states) == n_steps and np.array_equal(shown, states), (states, recorder.valued)
    np.testing.assert_array_equal(seg["rewards"], mdp.R[states, actions], err_msg="rewards[t] = R(s_t, a_t)")
    np.testing.assert_array_equal(seg["values"], states + 0.5, err_msg="values[t] = V(s_t)")
    np.testing.assert_array_equal(seg["next_values"], next_states + 0.5, err_msg="next_values[t] = V(s'_t)")
    assert np.all(mdp.P[states, actions, next_states] > 0), (states, actions, next_states)
    np.testing.assert_array_equal(seg["terminated"], np.isin(next_states, terminal), err_msg="terminated")
    age, ended = 0, seg["terminated"] | seg["truncated"]
    for t in range(n_steps):
        age += 1
        assert seg["truncated"][t] == (age == limit), f"step {t}: episode age {age}, limit {limit}, {seg}"
        if t + 1 < n_steps and not ended[t]:
            assert states[t + 1] == next_states[t], f"step {t}: the episode went on from s'_t = {next_states[t]}"
        age = 0 if ended[t] else age


@pytest.mark.claim("STD-TT-1")
@given(rollouts())
def test_the_same_seed_collects_the_same_segment(rollout):
    """Reproducibility: the first reset takes the seed, so two collections with equal seeds (environment and actor)
    record equal segments."""
    first, _ = collect(*rollout)
    second, _ = collect(*rollout)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


@pytest.mark.claim("STD-TT-2")
def test_time_limit_cut_bootstraps_the_final_observation_tc17():
    """STD-TT-2 / TC-17 through Gymnasium's TimeLimit: M4 (one self-looping state, r = 1, γ = 0.9, V = 10)
    cut after every step. Bootstrapping gives δ = 1 + 0.9·10 − 10 = 0 = A; treating the cut as a
    termination would give −9."""
    m4 = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
    env = gym.wrappers.TimeLimit(TabularEnv(m4), max_episode_steps=1)
    seg = collect_segment(env, lambda obs: 0, lambda obs: 10.0, n_steps=3, seed=0)
    assert seg["truncated"].all() and not seg["terminated"].any(), seg
    np.testing.assert_array_equal(lineage.gae(**seg, gamma=0.9, lam=0.95), 0.0)
    as_terminal = lineage.gae(**(seg | {"terminated": seg["truncated"]}), gamma=0.9, lam=0.95)
    np.testing.assert_array_equal(as_terminal, -9.0)


@pytest.mark.parametrize("n_steps", [0, -1, 2.5])
def test_a_bad_step_count_is_refused_by_name(n_steps):
    m4 = TabularMDP(P=[[[1.0]]], R=[[1.0]], nu0=[1.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"^n_steps:"):
        collect_segment(TabularEnv(m4), lambda obs: 0, lambda obs: 0.0, n_steps)
