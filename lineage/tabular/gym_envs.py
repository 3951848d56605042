"""Seeded tabular MDPs registered with Gymnasium, so that the training algorithms run on them by id
(``gym.make("lineage/RandomMDP-0-v0")``) and the whole-algorithm laws compare what they learn with the exact optimum.

Each id names one instance (:class:`TabularTask`): the MDP (P, R, ν0, γ), the time limit H and the reward noise σ.
``gym.make(id)`` gives :class:`~lineage.tabular.env.TabularEnv` (s_0 ~ ν0, s' ~ P(·|s, a), r = R(s, a) + σz) behind
:class:`~lineage.tabular.env.OneHotObservation` (float32 one-hot observations) and Gymnasium's ``TimeLimit`` (H
steps, then ``truncated = True``; no state is terminal). The laws score a policy by the exact discounted J of the
MDP, so a time limit is a cut of an infinite-horizon task: the target a cut must be bootstrapped towards (Pardo et al.
2018, "Time Limits in Reinforcement Learning").

Registration is explicit: nothing is registered on import; :func:`register_tabular_envs` registers every id (and is
idempotent). ``lineage.learn`` and :mod:`lineage.algorithms.exact` call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from lineage.tabular.env import OneHotObservation, TabularEnv
from lineage.tabular.mdp import TabularMDP, random_mdp

RANDOM_MDP_GAMMA = 0.9
RANDOM_MDP_HORIZON = 100


@dataclass(frozen=True)
class TabularTask:
    """One registered instance: ``env_id``, the ``mdp``, the time limit ``horizon`` (H steps) and the standard
    deviation ``reward_noise`` (σ) of the reward around R(s, a); ``note`` says what it is for."""

    env_id: str
    mdp: TabularMDP
    horizon: int
    reward_noise: float
    note: str


def late_reward_mdp(length: int = 4, grab: float = 1.0, bonus: float = 10.0, gamma: float = 0.9) -> TabularMDP:
    """A chain whose reward arrives late: ``length`` states, action 0 "grab" pays ``grab`` now and returns to state 0,
    action 1 "advance" pays nothing and moves one state on, except in the last state, where it pays ``bonus`` and
    returns to state 0; ν0 is uniform.

        P(0|s, 0) = 1, R(s, 0) = g;   P(s+1|s, 1) = 1, R(s, 1) = 0 (s < L−1);   P(0|L−1, 1) = 1, R(L−1, 1) = B

    With the defaults (L = 4, g = 1, B = 10, γ = 0.9) advancing everywhere is optimal, J* = 25, while a time limit
    of H = 3 steps never lets an episode started in state 0 reach the bonus: an agent that treats the cut as a
    termination sees "advance" in state 0 as a dead end and learns to grab there (the best stationary policy for the
    3-step return grabs in state 0, and has J = 15.37); one that bootstraps from V at the cut sees the discounted
    infinite-horizon value. The teaching MDP of the truncation counterexample, built for it (Pardo et al. 2018,
    "Time Limits in Reinforcement Learning", make the same point on their own tasks). Claim STD-TT-2; notes §PPO.

    Args:
        length: L ≥ 2 states.
        grab: g, the immediate reward of grabbing.
        bonus: B, the reward of advancing from the last state.
        gamma: γ in [0, 1].

    Returns:
        The :class:`TabularMDP` with [L, 2, L] P, [L, 2] R, uniform ν0 and discount γ.
    """
    if length < 2:
        raise ValueError(f"length: expected at least 2 states, got {length}")
    P, R = np.zeros((length, 2, length)), np.zeros((length, 2))
    for s in range(length):
        P[s, 0, 0], R[s, 0] = 1.0, grab
        if s < length - 1:
            P[s, 1, s + 1] = 1.0
        else:
            P[s, 1, 0], R[s, 1] = 1.0, bonus
    return TabularMDP(P, R, np.full(length, 1.0 / length), gamma)


def _random_task(k: int) -> TabularTask:
    """RandomMDP-k: random_mdp(default_rng(k), S = 3 + k mod 4, A = 2 + k mod 2, γ = 0.9), H = 100, σ = 0."""
    n_states, n_actions = 3 + k % 4, 2 + k % 2
    mdp = random_mdp(np.random.default_rng(k), n_states, n_actions, RANDOM_MDP_GAMMA)
    note = f"random_mdp(default_rng({k}), S={n_states}, A={n_actions}, gamma={RANDOM_MDP_GAMMA})"
    return TabularTask(f"lineage/RandomMDP-{k}-v0", mdp, RANDOM_MDP_HORIZON, 0.0, note)


def _tasks() -> dict[str, TabularTask]:
    tasks = [_random_task(k) for k in range(5)]
    tasks.append(
        TabularTask(
            "lineage/NoisyRandomMDP-0-v0",
            _random_task(0).mdp,
            RANDOM_MDP_HORIZON,
            0.5,
            "RandomMDP-0 with rewards R(s, a) + 0.5 z, z ~ N(0, 1)",
        )
    )
    tasks.append(TabularTask("lineage/LateReward-v0", late_reward_mdp(), 3, 0.0, "late_reward_mdp(), H = 3"))
    return {task.env_id: task for task in tasks}


TASKS: dict[str, TabularTask] = _tasks()
RANDOM_MDP_IDS = tuple(f"lineage/RandomMDP-{k}-v0" for k in range(5))
LATE_REWARD_ID = "lineage/LateReward-v0"


def tabular_task(env_id: str) -> TabularTask:
    """The :class:`TabularTask` registered as ``env_id``; raises ``ValueError`` naming ``env_id`` if there is none."""
    if env_id not in TASKS:
        raise ValueError(f"env_id: {env_id!r} is not a tabular task (known: {', '.join(sorted(TASKS))})")
    return TASKS[env_id]


def make_env(task: str) -> gym.Env:
    """The environment of ``task`` (an id of :data:`TASKS`) without its time limit: one-hot observations of a
    :class:`TabularEnv` with the task's reward noise. ``gym.make`` adds the ``TimeLimit`` the registration asks for."""
    spec = tabular_task(task)
    return OneHotObservation(TabularEnv(spec.mdp, reward_noise=spec.reward_noise))


def register_tabular_envs() -> tuple[str, ...]:
    """Registers every task of :data:`TASKS` with Gymnasium (idempotent: an id already registered is left alone), each
    with ``max_episode_steps`` = its horizon, so ``gym.make(id)`` ends episodes with ``truncated`` after H steps.

    Returns:
        The registered ids.
    """
    for env_id, task in TASKS.items():
        if env_id not in gym.registry:
            gym.register(
                env_id,
                entry_point="lineage.tabular.gym_envs:make_env",
                max_episode_steps=task.horizon,
                kwargs={"task": env_id},
            )
    return tuple(TASKS)
