"""Collecting rollout segments from a Gymnasium 1.x vector environment, in the contract of
:mod:`lineage.returns.segment` (time-major ``[T, B]``, B = number of sub-environments).

A vector environment resets a finished sub-environment by itself; *when* it does is its autoreset mode
(:class:`gymnasium.vector.AutoresetMode`), and the mode decides where the true final observation of a cut episode
is found:

* ``NEXT_STEP`` (Gymnasium 1.x's default): the step that ends an episode returns the final observation itself;
  the *next* call of ``step`` resets that sub-environment, ignores its action and returns the reset observation
  with reward 0. That call is no transition of the MDP: it is recorded as a padding step (``valid`` = False,
  ``terminated`` = True so that nothing is bootstrapped through it) and left out of every loss.
* ``SAME_STEP``: the step that ends an episode returns the reset observation and puts the final one in
  ``info["final_obs"]`` (mask ``info["_final_obs"]``); every step is a transition.
* ``DISABLED``: the caller would have to reset by hand; it is rejected with a ``ValueError`` naming the mode.

In both handled modes ``next_values[t]`` is V of the true next observation: the final observation when the
episode was cut by the time limit, so GAE bootstraps from it (Pardo et al. 2018 "Time Limits in Reinforcement
Learning"; claims STD-TT-1, STD-TT-2; notes §PPO).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from lineage._validation import check_positive_int

HANDLED_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
FIELDS = ("observations", "actions", "log_probs", "rewards", "values", "next_values", "terminated", "truncated")


def autoreset_mode(envs: gym.vector.VectorEnv) -> AutoresetMode:
    """The autoreset mode of a vector environment, checked to be one :class:`VectorRollout` handles.

        handled = {NEXT_STEP, SAME_STEP};   DISABLED (or anything else) → ValueError

    Gymnasium 1.x records the mode in ``envs.metadata["autoreset_mode"]`` (NEXT_STEP when absent, its default);
    the mode decides where the final observation of a cut episode is (Pardo et al. 2018 "Time Limits in
    Reinforcement Learning"). Claims STD-TT-1, STD-TT-2; notes §PPO.

    Args:
        envs: a Gymnasium vector environment.

    Returns:
        The mode; raises ``ValueError`` naming an unhandled mode.
    """
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if isinstance(mode, str):
        mode = AutoresetMode(mode)
    if mode not in HANDLED_MODES:
        handled = ", ".join(m.name for m in HANDLED_MODES)
        raise ValueError(f"autoreset_mode: {mode} is not handled (handled: {handled})")
    return mode


@dataclass
class Rollout:
    """One segment of T steps of B sub-environments, time-major; the fields of :mod:`lineage.returns.segment`
    (float64 ``rewards``, ``values``, ``next_values``; bool ``terminated``, ``truncated``) plus what PPO needs:
    ``observations`` ``[T, B, ...]``, ``actions``, ``log_probs`` (of the sampling policy) and ``valid`` (False on
    the padding steps of the NEXT_STEP mode)."""

    observations: np.ndarray
    actions: np.ndarray
    log_probs: np.ndarray
    rewards: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    episode_returns: list[float]

    def segment(self, *, bootstrap_truncation: bool = True) -> dict[str, np.ndarray]:
        """The five arrays of the segment contract, as keyword arguments of :func:`lineage.gae`. With
        ``bootstrap_truncation=False`` a time-limit cut is reported as a termination (terminated ∨ truncated, no
        bootstrap): the common mistake of Pardo et al. 2018, kept only to show what it costs (claim STD-TT-2)."""
        arrays = {k: getattr(self, k) for k in ("rewards", "values", "next_values", "terminated", "truncated")}
        if not bootstrap_truncation:
            arrays["terminated"] = self.terminated | self.truncated
            arrays["truncated"] = np.zeros_like(self.truncated)
        return arrays


class VectorRollout:
    """Collects consecutive segments from one vector environment, carrying the observations, the pending resets
    and the running episode returns from one segment to the next."""

    def __init__(self, envs: gym.vector.VectorEnv, *, seed: int | None = None):
        self.envs = envs
        self.mode = autoreset_mode(envs)
        self.observation, _ = envs.reset(seed=seed)
        self.pending_reset = np.zeros(envs.num_envs, dtype=bool)
        self.running_return = np.zeros(envs.num_envs)

    def collect(self, act: Callable, value: Callable, n_steps: int) -> Rollout:
        """The next segment of ``n_steps`` steps of every sub-environment.

            values[t] = V(s_t),   next_values[t] = V(s_{t+1}) of the true next observation (the final one on a cut)

        In the NEXT_STEP mode the step after an episode's end is a padding step: valid = False, reward 0,
        terminated = True, next value 0, so that GAE's recursion and bootstrap stop there (done_t stops the
        recursion, terminated_t the bootstrap: claim STD-TT-1) and no loss sees it. (Gymnasium step API; Pardo et
        al. 2018 "Time Limits in Reinforcement Learning".) Claims STD-TT-1, STD-TT-2, STD-GAE-7; notes §PPO.

        Args:
            act: observations ``[B, ...]`` → (actions ``[B]``, log-probabilities ``[B]``), numpy arrays.
            value: observations ``[N, ...]`` → V ``[N]``, a numpy array.
            n_steps: T ≥ 1.

        Returns:
            A :class:`Rollout`; ``episode_returns`` lists the undiscounted returns of the episodes that ended in it.
        """
        n_steps = check_positive_int("n_steps", n_steps)
        record = {name: [] for name in (*FIELDS, "valid")}
        finished: list[float] = []
        known_values = None  # V(s_t) from the previous step's V(s_{t+1}): one value call per step, not two
        for _ in range(n_steps):
            obs = self.observation
            actions, log_probs = act(obs)
            next_obs, rewards, terminated, truncated, info = self.envs.step(actions)
            rewards = np.asarray(rewards, dtype=np.float64)
            terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
            true_next, replaced = next_obs, np.zeros(len(next_obs), dtype=bool)
            if self.mode is AutoresetMode.SAME_STEP and "_final_obs" in info:
                true_next, replaced = next_obs.copy(), np.asarray(info["_final_obs"], dtype=bool)
                for i in np.flatnonzero(replaced):
                    true_next[i] = info["final_obs"][i]
            values = np.asarray(value(obs), dtype=np.float64) if known_values is None else known_values
            true_next_values = np.asarray(value(true_next), dtype=np.float64)
            # V of the observation the next step starts from: V(true next) unless a SAME_STEP reset replaced it.
            known_values = true_next_values.copy()
            if replaced.any():
                known_values[replaced] = np.asarray(value(next_obs[replaced]), dtype=np.float64)
            valid = ~self.pending_reset
            next_values = np.where(valid, true_next_values, 0.0)
            padding = ~valid
            step = {
                "observations": obs,
                "actions": actions,
                "log_probs": log_probs,
                "rewards": np.where(valid, rewards, 0.0),
                "values": values,
                "next_values": next_values,
                "terminated": terminated | padding,
                "truncated": truncated & valid,
                "valid": valid,
            }
            for name, item in step.items():
                record[name].append(item)
            self.running_return += np.where(valid, rewards, 0.0)
            done = (terminated | truncated) & valid
            finished.extend(self.running_return[done].tolist())
            self.running_return[done] = 0.0
            if self.mode is AutoresetMode.NEXT_STEP:
                self.pending_reset = done
            self.observation = next_obs
        arrays = {name: np.stack(items) for name, items in record.items()}
        for name in ("rewards", "values", "next_values"):
            arrays[name] = arrays[name].astype(np.float64)
        return Rollout(**arrays, episode_returns=finished)


def evaluate_policy(make_env: Callable[[], gym.Env], act: Callable, *, episodes: int, seed: int) -> np.ndarray:
    """The undiscounted return of each of ``episodes`` episodes, one per sub-environment of a vector environment.

        G_i = Σ_t r_t over the first episode of sub-environment i, seeded seed + i

    (the Monte-Carlo score of Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §6; claim PPO-5;
    notes §PPO).

    Args:
        make_env: () → a fresh single environment.
        act: observations ``[B, ...]`` → actions ``[B]`` (numpy).
        episodes: the number of episodes ≥ 1.
        seed: the seed of the first sub-environment.

    Returns:
        The returns, shape ``[episodes]``, float64.
    """
    episodes = check_positive_int("episodes", episodes)
    envs = gym.vector.SyncVectorEnv([make_env for _ in range(episodes)], autoreset_mode=AutoresetMode.SAME_STEP)
    try:
        obs, _ = envs.reset(seed=seed)
        returns, running = np.zeros(episodes), np.ones(episodes, dtype=bool)
        while running.any():
            obs, rewards, terminated, truncated, _ = envs.step(act(obs))
            returns += np.where(running, rewards, 0.0)
            running &= ~(terminated | truncated)
        return returns
    finally:
        envs.close()
