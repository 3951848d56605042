"""Exact expectations over trajectories by enumeration, with no sampling (spec §0.2).

Every path (s_0, a_0, …, s_{H−1}, a_{H−1}, s_H) of positive probability is listed with its
probability ν0(s_0) Π_t π(a_t|s_t) P(s_{t+1}|s_t, a_t), so E[f(τ)] = Σ_τ p(τ) f(τ) exactly.
Conditioning on (s_0, a_0) fixes the first state and action with probability one.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from lineage._validation import check_positive_int
from lineage.tabular.mdp import TabularMDP

MAX_PATHS = 200_000


@dataclass(frozen=True)
class Trajectories:
    states: np.ndarray  # [N, H + 1] int
    actions: np.ndarray  # [N, H] int
    probabilities: np.ndarray  # [N], sums to one

    def rewards(self, mdp: TabularMDP) -> np.ndarray:
        """Expected rewards R(s_t, a_t) along every path, [N, H]."""
        return mdp.R[self.states[:, :-1], self.actions]

    def expectation(self, per_path) -> np.ndarray:
        """Σ_τ p(τ) f(τ) for f given per path along the first axis."""
        return np.tensordot(self.probabilities, np.asarray(per_path), axes=1)


def enumerate_trajectories(
    mdp: TabularMDP, pi, horizon: int, *, start_state: int | None = None, start_action: int | None = None
) -> Trajectories:
    """All paths of ``horizon`` steps from ν0 (or from ``start_state``, then ``start_action``)."""
    pi = mdp.check_policy(pi)
    horizon = check_positive_int("horizon", horizon)
    check_index("start_state", start_state, mdp.n_states)
    check_index("start_action", start_action, mdp.n_actions)
    if (mdp.n_states * mdp.n_actions) ** horizon * mdp.n_states > MAX_PATHS:
        raise ValueError(f"horizon: (S·A)^H·S exceeds {MAX_PATHS} paths; use a smaller MDP or horizon")
    if start_state is None:
        states, probs = np.arange(mdp.n_states)[:, None], mdp.nu0.copy()
    else:
        states, probs = np.array([[start_state]]), np.ones(1)
    actions = np.zeros((len(states), 0), dtype=int)
    for t in range(horizon):
        s = states[:, -1]
        choices = np.arange(mdp.n_actions) if t > 0 or start_action is None else np.array([start_action])
        p_action = pi[s][:, choices] if t > 0 or start_action is None else np.ones((len(s), 1))
        p = probs[:, None, None] * p_action[:, :, None] * mdp.P[s[:, None], choices[None, :], :]
        path, choice, nxt = np.nonzero(p > 0)
        states = np.concatenate([states[path], nxt[:, None]], axis=1)
        actions = np.concatenate([actions[path], choices[choice][:, None]], axis=1)
        probs = p[path, choice, nxt]
    return Trajectories(states, actions, probs)


def check_index(name: str, index: int | None, size: int) -> None:
    """``None`` or an integer in [0, size): a negative index would silently wrap to another state or action."""
    if index is None:
        return
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < size:
        raise ValueError(f"{name}: expected an integer in [0, {size}), got {index!r}")
