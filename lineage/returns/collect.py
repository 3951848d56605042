"""Collecting a rollout segment (:mod:`lineage.returns.segment`) from a Gymnasium environment."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from lineage._validation import check_positive_int


def collect_segment(
    env: gym.Env, act: Callable, value: Callable, n_steps: int, *, seed: int | None = None
) -> dict[str, np.ndarray]:
    """A rollout segment of ``n_steps`` transitions, in the layout of :mod:`lineage.returns.segment`.

        values[t] = V(s_t),   next_values[t] = V(s_{t+1}) of the true next observation, recorded before any reset

    The Gymnasium step API reports ``terminated`` and ``truncated`` separately and returns the true next
    observation; its value is recorded *before* resetting, so at a time-limit cut the bootstrap uses the final
    observation, never the observation the reset produces (Pardo et al. 2018 "Time Limits in Reinforcement
    Learning"). Single (non-vector) environments only: vector environments autoreset and move the final
    observation into ``info``.

    Claims STD-TT-1, STD-TT-2; notes §PPO.

    Args:
        env: a single Gymnasium environment.
        act: observation → action.
        value: observation → V(observation), a float.
        n_steps: T ≥ 1.
        seed: the seed of the first reset.

    Returns:
        ``rewards``, ``values``, ``next_values`` (float64) and ``terminated``, ``truncated`` (bool), numpy arrays of
        shape ``[T]``.
    """
    n_steps = check_positive_int("n_steps", n_steps)
    record = {name: [] for name in ("rewards", "values", "next_values", "terminated", "truncated")}
    observation, _ = env.reset(seed=seed)
    for _ in range(n_steps):
        next_observation, reward, terminated, truncated, _ = env.step(act(observation))
        for name, item in zip(
            record,
            (reward, value(observation), value(next_observation), terminated, truncated),
            strict=True,
        ):
            record[name].append(item)
        observation = env.reset()[0] if terminated or truncated else next_observation
    floats = {name: np.asarray(record[name], dtype=np.float64) for name in ("rewards", "values", "next_values")}
    flags = {name: np.asarray(record[name], dtype=bool) for name in ("terminated", "truncated")}
    return floats | flags
