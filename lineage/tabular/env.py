"""A tabular MDP as a Gymnasium environment, so rollouts of the suite come from the real step API."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from lineage.tabular.mdp import TabularMDP


class TabularEnv(gym.Env):
    """A :class:`TabularMDP` behind Gymnasium's ``reset``/``step`` API, with optional terminal states.

        reset: s_0 ~ ν0;   step(a): r = R(s, a),  s' ~ P(·|s, a),  terminated = s' ∈ terminal_states,  truncated = False

    Observations and actions are ``Discrete(S)`` and ``Discrete(A)``. The reward paid is the mean R(s, a), so
    the only randomness of a rollout is in actions and transitions. Start states and transitions are drawn by
    :func:`sample_outcome`, each from one uniform number of the environment's generator, so the seed given to
    ``reset`` fixes them. Termination is reported on entering a terminal state; a time limit comes from wrapping
    the environment in ``gymnasium.wrappers.TimeLimit``, which reports ``truncated`` instead, so the two kinds of
    episode end stay apart: a cut must be bootstrapped with V of the final observation, a termination must not.

    See Towers et al. (2024), "Gymnasium: A Standard Interface for Reinforcement Learning Environments" (the
    API), and Pardo et al. (2018), "Time Limits in Reinforcement Learning" (why truncation is not termination).
    Drives the Gymnasium collection tests of STD-TT-1 and STD-TT-2 (notes §PPO).

    Args:
        mdp: the MDP to simulate.
        terminal_states: states whose entry ends an episode with ``terminated = True``; default none.

    Raises:
        ValueError: if a terminal state is not in range(0, S).
    """

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
        """Start an episode in s_0 ~ ν0.

            s_0 = sample_outcome(ν0, u),   u = np_random.random()

        See Towers et al. (2024), "Gymnasium: A Standard Interface for Reinforcement Learning Environments"
        (``Env.reset``). Part of the rollouts of the STD-TT-1 and STD-TT-2 collection tests (notes §PPO).

        Args:
            seed: an int to reseed the environment's generator, or None to keep it (created unseeded on first
                use), as in Gymnasium.
            options: ignored.

        Returns:
            (s_0, {}): the start state as an int in [0, S) and an empty info dict.
        """
        super().reset(seed=seed)
        self._state = sample_outcome(self.mdp.nu0, self.np_random.random())
        return self._state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        """Take ``action`` in the current state s: pay R(s, a) and move to s' ~ P(·|s, a).

            r = R(s, a),   s' = sample_outcome(P(·|s, a), u) with u = np_random.random(),
            terminated = s' ∈ terminal_states,   truncated = False

        Each step draws exactly one uniform number from the environment's generator, so ``reset(seed=...)`` fixes
        the whole rollout for a given sequence of actions. Stepping on after ``terminated`` continues from the
        terminal state; callers reset instead, as Gymnasium expects.

        See Towers et al. (2024), "Gymnasium: A Standard Interface for Reinforcement Learning Environments"
        (``Env.step``), and Pardo et al. (2018), "Time Limits in Reinforcement Learning". Reports the
        ``terminated`` flag of STD-TT-1 and STD-TT-2 (notes §PPO).

        Args:
            action: an int in [0, A); not checked, and a negative index would wrap to another action.

        Returns:
            (s', r, terminated, truncated, {}): next state as an int, reward as a float, the two flags, empty info.
        """
        reward = float(self.mdp.R[self._state, action])
        self._state = sample_outcome(self.mdp.P[self._state, action], self.np_random.random())
        return self._state, reward, self._state in self.terminal_states, False, {}


def sample_outcome(probabilities: np.ndarray, u: float) -> int:
    """The outcome of a categorical distribution at the uniform number u ∈ [0, 1), by inversion of its CDF.

        sample_outcome(p, u) = i   such that   F_{i−1} ≤ u·F_{n−1} < F_i,   F_i = p_0 + … + p_i,  F_{−1} = 0

    For u ~ Uniform[0, 1) outcome i comes up with probability (F_i − F_{i−1})/F_{n−1} = p_i / Σ_j p_j, the
    running sums F computed in floating point. An outcome of probability 0 has an empty interval and is never
    returned, trailing ones included: u < 1 makes u·F_{n−1} < F_{n−1}.

    See Devroye (1986), *Non-Uniform Random Variate Generation*, ch. III (the inversion method for discrete
    laws). The transition and start-state sampler of :class:`TabularEnv`, behind the Gymnasium collection tests
    of STD-TT-1 and STD-TT-2 (notes §PPO).

    Args:
        probabilities: [n] non-negative weights with a positive sum (a row of P, or ν0).
        u: a number in [0, 1), e.g. ``Generator.random()``.

    Returns:
        The outcome i as an int in [0, n).
    """
    cumulative = np.cumsum(probabilities)
    return int(np.searchsorted(cumulative[:-1], u * cumulative[-1], side="right"))


def tabular_policy_actor(pi: np.ndarray, rng: np.random.Generator):
    """An action chooser observation ↦ a ~ π(·|s) for :func:`lineage.returns.collect.collect_segment`.

        a ~ π(·|s),   s = the observation

    Draws from ``rng``, separate from the environment's own generator. ``pi`` is not validated here.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §3.5 (a stochastic policy
    π(a|s)). Acts in the Gymnasium collection tests of the segment contract behind STD-TT-1 and STD-TT-2
    (notes §PPO).

    Args:
        pi: [S, A] policy, rows on the simplex.
        rng: NumPy random generator the actions are drawn from.

    Returns:
        A function taking an int observation s in [0, S) and returning an int action in [0, A).
    """
    return lambda observation: int(rng.choice(pi.shape[1], p=pi[observation]))
