"""Collecting a rollout segment (:mod:`lineage.returns.segment`) from a Gymnasium environment.

The step API reports ``terminated`` and ``truncated`` separately and returns the *true* next
observation; lineage records V of that observation as ``next_values[t]`` *before* resetting, so at a
time-limit cut the bootstrap uses the final observation, never the observation the reset produces
(Pardo et al. 2018; claims STD-TT-1, STD-TT-2). Single (non-vector) environments only: vector
environments autoreset and move the final observation into ``info``.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from lineage._validation import check_positive_int


def collect_segment(
    env: gym.Env, act: Callable, value: Callable, n_steps: int, *, seed: int | None = None
) -> dict[str, np.ndarray]:
    """Run ``n_steps`` transitions with actions ``act(observation)``, scoring observations with ``value``;
    return ``rewards``, ``values``, ``next_values``, ``terminated``, ``truncated`` (shape [n_steps])."""
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
