"""A tabular MDP as a Gymnasium environment, so rollouts of the suite come from the real step API; a one-hot
observation wrapper lets the training algorithms' MLP policies run on it (:mod:`lineage.tabular.gym_envs` registers
the instances)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from lineage._validation import check_real
from lineage.tabular.mdp import TabularMDP


class TabularEnv(gym.Env):
    """A :class:`TabularMDP` behind Gymnasium's ``reset``/``step`` API, with optional terminal states.

        reset: s_0 ~ ν0;   step(a): r = R(s, a) + σ z,  z ~ N(0, 1),  s' ~ P(·|s, a),
               terminated = s' ∈ terminal_states,  truncated = False

    Observations and actions are ``Discrete(S)`` and ``Discrete(A)``. By default (σ = ``reward_noise`` = 0) the
    reward paid is the mean R(s, a), so the only randomness of a rollout is in actions and transitions; with σ > 0
    the reward is drawn around that mean, which leaves every expectation of the MDP (values, J, gradients) unchanged
    since they depend on the reward law through its mean alone. Start states and transitions are drawn by
    :func:`sample_outcome`, each from one uniform number of the environment's generator (then, if σ > 0, one
    normal number for the reward), so the seed given to ``reset`` fixes them. Termination is reported on entering a
    terminal state; a time limit comes from wrapping the environment in ``gymnasium.wrappers.TimeLimit``, which
    reports ``truncated`` instead, so the two kinds of episode end stay apart: a cut must be bootstrapped with V of
    the final observation, a termination must not.

    See Towers et al. (2024), "Gymnasium: A Standard Interface for Reinforcement Learning Environments" (the
    API), and Pardo et al. (2018), "Time Limits in Reinforcement Learning" (why truncation is not termination).
    Drives the Gymnasium collection tests of STD-TT-1 and STD-TT-2 (notes §PPO).

    Args:
        mdp: the MDP to simulate.
        terminal_states: states whose entry ends an episode with ``terminated = True``; default none.
        reward_noise: σ ≥ 0, the standard deviation of the Gaussian noise added to R(s, a); default 0 (mean reward).

    Raises:
        ValueError: if a terminal state is not in range(0, S), or naming ``reward_noise`` if it is not a finite
            real ≥ 0.
    """

    def __init__(self, mdp: TabularMDP, terminal_states: tuple[int, ...] = (), reward_noise: float = 0.0) -> None:
        for s in terminal_states:
            if not 0 <= s < mdp.n_states:
                raise ValueError(f"terminal_states: state {s} is not in range(0, {mdp.n_states})")
        self.reward_noise = check_real("reward_noise", reward_noise, minimum=0.0)
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
        """Take ``action`` in the current state s: pay R(s, a) (plus σ z) and move to s' ~ P(·|s, a).

            r = R(s, a) + σ z with z = np_random.standard_normal() (drawn only if σ > 0),
            s' = sample_outcome(P(·|s, a), u) with u = np_random.random(),
            terminated = s' ∈ terminal_states,   truncated = False

        Each step draws exactly one uniform number from the environment's generator (then one normal number if
        σ > 0), so ``reset(seed=...)`` fixes the whole rollout for a given sequence of actions. Stepping on after
        ``terminated`` continues from the terminal state; callers reset instead, as Gymnasium expects.

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
        if self.reward_noise > 0.0:
            reward += self.reward_noise * float(self.np_random.standard_normal())
        return self._state, reward, self._state in self.terminal_states, False, {}


class OneHotObservation(gym.ObservationWrapper):
    """The observation s ∈ {0, …, S−1} of a ``Discrete(S)`` environment as the one-hot vector e_s, float32.

        observation(s) = e_s ∈ {0, 1}^S,   (e_s)_i = 1 if i = s else 0,   space Box(0, 1, (S,), float32)

    The training algorithms' MLP policies need a flat ``Box`` observation; on e_s a softmax MLP can represent any
    tabular policy π(·|s), so the exact J of the policy it has learned is read off its outputs at the S rows of the
    identity matrix (:func:`lineage.algorithms.exact.policy_table`).

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §9.5.4 (tabular methods as
    linear function approximation with one-hot features). Serves the whole-algorithm laws of issue 12 (STD-TT-2,
    PG-2; notes §PPO, §PG).

    Args:
        env: an environment with a ``Discrete`` observation space.

    Raises:
        ValueError: naming ``env`` if its observation space is not ``Discrete``.
    """

    def __init__(self, env: gym.Env) -> None:
        if not isinstance(env.observation_space, gym.spaces.Discrete):
            raise ValueError(f"env: expected a Discrete observation space, got {env.observation_space}")
        super().__init__(env)
        self.n = int(env.observation_space.n)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.n,), np.float32)

    def observation(self, observation: int) -> np.ndarray:
        """e_s, the float32 one-hot vector of the state ``observation``: (e_s)_i = [i = s]. See
        :class:`OneHotObservation` (Sutton & Barto 2018, §9.5.4); STD-TT-2, notes §PPO.

        Args:
            observation: the state s, an int in [0, S).

        Returns:
            [S] float32 array.
        """
        one_hot = np.zeros(self.n, dtype=np.float32)
        one_hot[int(observation)] = 1.0
        return one_hot


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
