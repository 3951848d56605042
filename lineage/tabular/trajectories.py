"""Exact expectations over the paths of a tabular MDP, by listing every path with its probability (no sampling)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from lineage._validation import check_positive_int
from lineage.tabular.mdp import TabularMDP

MAX_PATHS = 200_000


@dataclass(frozen=True)
class Trajectories:
    """Every path of positive probability over a horizon H, with its probability: a finite law over paths.

        τ = (s_0, a_0, s_1, a_1, …, s_{H−1}, a_{H−1}, s_H),   p(τ) = ν0(s_0) Π_{t<H} π(a_t|s_t) P(s_{t+1}|s_t, a_t)

    Path n is (``states[n]``, ``actions[n]``) with probability ``probabilities[n]``; the probabilities sum to 1
    up to rounding. When the paths were enumerated from a given s_0 (and a_0), ν0(s_0) (and π(a_0|s_0)) is
    replaced by 1, so p is the conditional law given the start. Built by :func:`enumerate_trajectories`.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., ch. 3 (the agent-environment
    loop that generates s_0, a_0, s_1, …). The exact expectations of PG-1, TRPO-3, TRPO-5 (episodes of an
    absorbing MDP), BASE-3 (finite horizon), GAE-2, GAE-4, STD-GAE-2, STD-GAE-5 and STD-TT-2 (paths from a
    fixed (s_0, a_0)) are sums over these paths (notes §PG, §TRPO, §VAR, §GAE, §PPO).

    Attributes:
        states: [N, H + 1] int array, s_0 … s_H of every path.
        actions: [N, H] int array, a_0 … a_{H−1} of every path.
        probabilities: [N] float array, p(τ_n) > 0.
    """

    states: np.ndarray  # [N, H + 1] int
    actions: np.ndarray  # [N, H] int
    probabilities: np.ndarray  # [N], sums to one

    def rewards(self, mdp: TabularMDP) -> np.ndarray:
        """The expected rewards R(s_t, a_t) along every path.

            rewards[n, t] = R(s_t, a_t) = E[r_t | s_t, a_t]   on path n

        These are mean rewards, so Σ_n p(τ_n) f(rewards[n]) is the exact E[f(r_0, …, r_{H−1})] for f linear in
        the rewards (e.g. a discounted return Σ_t γ^t r_t, or a TD error), not for non-linear f such as a
        return's variance when rewards are random given (s, a).

        See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §3.1 (r(s, a) as the
        expected reward). Supplies the rewards of PG-1, TRPO-3 and BASE-3 (notes §PG, §TRPO, §VAR).

        Args:
            mdp: the MDP the paths were enumerated on, R of shape [S, A].

        Returns:
            [N, H] array, entry [n, t] = R(s_t, a_t) on path n.
        """
        return mdp.R[self.states[:, :-1], self.actions]

    def expectation(self, per_path) -> np.ndarray:
        """The exact expectation E_τ[f(τ)] = Σ_n p(τ_n) f(τ_n) of a quantity given per path.

            E_τ[f(τ)] = Σ_n probabilities[n] · per_path[n]

        The probability-weighted sum over the first axis; trailing axes are kept, so a vector or table per path
        gives its expectation entry by entry.

        A finite sum over the law of :class:`Trajectories` (Sutton & Barto 2018, *Reinforcement Learning: An
        Introduction*, 2nd ed., ch. 3). Computes the path expectations of PG-1, TRPO-3, TRPO-5, GAE-2, GAE-4,
        STD-GAE-2, STD-GAE-5 and STD-TT-2 (notes §PG, §TRPO, §GAE, §PPO).

        Args:
            per_path: [N, ...] array-like, f(τ_n) in row n.

        Returns:
            [...] array (0-d for one number per path), the expectation.
        """
        return np.tensordot(self.probabilities, np.asarray(per_path), axes=1)


def enumerate_trajectories(
    mdp: TabularMDP, pi, horizon: int, *, start_state: int | None = None, start_action: int | None = None
) -> Trajectories:
    """All paths of ``horizon`` steps with positive probability under π, from ν0 or from a given (s_0, a_0).

        p(τ) = μ(s_0) κ(a_0|s_0) P(s_1|s_0, a_0) Π_{1≤t<H} π(a_t|s_t) P(s_{t+1}|s_t, a_t)
        μ = ν0, or the point mass at ``start_state``;   κ = π, or the point mass at ``start_action``

    Paths grow one step at a time; a branch whose probability is exactly 0 is dropped, so only paths with
    p(τ) > 0 are listed and there are at most (S·A)^H·S of them. Conditioning on (s_0, a_0) gives the exact
    E[· | s_0 = s, a_0 = a] behind Q^π-type targets; ``start_action`` alone forces a_0 in every start state
    drawn from ν0. For an absorbing MDP whose episodes end within H steps, these are all its episodes.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., ch. 3 (the trajectory
    s_0, a_0, s_1, … of an MDP under a policy). Enumerates the paths of PG-1, TRPO-3, TRPO-5 (notes §PG,
    §TRPO), BASE-3 (notes §VAR) and of the GAE expectation laws GAE-2, GAE-4, STD-GAE-2, STD-GAE-5, STD-TT-2
    (notes §GAE, §PPO).

    Args:
        mdp: the MDP (γ is not used, so γ = 1 is fine).
        pi: [S, A] policy, rows on the simplex.
        horizon: H ≥ 1, the number of actions on every path.
        start_state: None to draw s_0 ~ ν0, or an int in [0, S) to start there.
        start_action: None to draw a_0 ~ π(·|s_0), or an int in [0, A) to take it first.

    Returns:
        :class:`Trajectories` with N paths: states [N, H + 1], actions [N, H], probabilities [N] summing to 1.

    Raises:
        ValueError: if ``pi`` is not an [S, A] array of distributions, if ``horizon`` is not an integer ≥ 1,
            if ``start_state`` or ``start_action`` is not None or an integer in range (negative indices
            included), or if (S·A)^H·S exceeds ``MAX_PATHS`` = 200 000, which is checked before enumerating,
            whatever the start.
    """
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
    """Refuse (``ValueError``) anything but ``None`` or an integer in [0, size): a negative index would wrap."""
    if index is None:
        return
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < size:
        raise ValueError(f"{name}: expected an integer in [0, {size}), got {index!r}")
