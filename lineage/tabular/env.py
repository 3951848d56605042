"""A tabular MDP as a Gymnasium environment, so rollouts come from the real step API.

Observations and actions are ``Discrete``; ``reset`` draws s_0 ~ ν0, ``step`` draws s' ~ P(·|s, a),
pays the expected reward R(s, a) and reports ``terminated`` on entering one of ``terminal_states``.
Time limits come from Gymnasium's own ``TimeLimit`` wrapper, which reports ``truncated``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from lineage.tabular.mdp import TabularMDP


class TabularEnv(gym.Env):
    def __init__(self, mdp: TabularMDP, terminal_states: tuple[int, ...] = ()) -> None:
        for s in terminal_states:
            if not 0 <= s < mdp.n_states:
                raise ValueError(f"terminal_states: state {s} is not in range(0, {mdp.n_states})")
        self.mdp = mdp
        self.terminal_states = frozenset(terminal_states)
        self.observation_space = gym.spaces.Discrete(mdp.n_states)
        self.action_space = gym.spaces.Discrete(mdp.n_actions)
        self._state = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self._state = int(self.np_random.choice(self.mdp.n_states, p=self.mdp.nu0))
        return self._state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        reward = float(self.mdp.R[self._state, action])
        self._state = int(self.np_random.choice(self.mdp.n_states, p=self.mdp.P[self._state, action]))
        return self._state, reward, self._state in self.terminal_states, False, {}


def tabular_policy_actor(pi: np.ndarray, rng: np.random.Generator):
    """An action chooser a ~ π(·|s) for :func:`lineage.returns.collect.collect_segment`."""
    return lambda observation: int(rng.choice(pi.shape[1], p=pi[observation]))
