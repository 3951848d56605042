"""Inputs of the ``reinforce_gradient`` contract: batches of episodes (per-step scores and rewards), and episodic
MDPs with a tabular softmax policy, whose every episode the expectation law enumerates.

The per-step scores of an enumerated episode are written here from their definition, ∂ log π(a|s)/∂θ[s', b] =
1[s' = s](1[a = b] − π(b|s)), independently of :mod:`lineage.pg.score`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import episodic_mdps, softmax_logits
from lineage.laws.cases.segments import unit_interval
from lineage.tabular import TabularMDP, Trajectories, enumerate_trajectories, softmax


@dataclass(frozen=True)
class ReinforceBatch:
    """N episodes of T steps: per-step scores ∇_θ log π(a_t|s_t) [N, T, d], rewards [N, T], and γ."""

    scores: list
    rewards: list
    gamma: float

    def inputs(self) -> dict[str, np.ndarray]:
        return {name: np.array(getattr(self, name), dtype=np.float64) for name in ("scores", "rewards")}


@dataclass(frozen=True)
class RewardMix:
    """A batch, other rewards r' of its shape and a weight c: the target at r + c·r' against r and r'."""

    batch: ReinforceBatch
    other_rewards: list
    weight: float

    def mixed(self) -> ReinforceBatch:
        rewards = np.array(self.batch.rewards) + self.weight * np.array(self.other_rewards)
        return ReinforceBatch(self.batch.scores, rewards.tolist(), self.batch.gamma)

    def other(self) -> ReinforceBatch:
        return ReinforceBatch(self.batch.scores, self.other_rewards, self.batch.gamma)


@dataclass(frozen=True)
class EpisodicPolicy:
    """An absorbing MDP (episodes end within S − 1 steps) and the tabular softmax logits θ[S, A] of the policy."""

    mdp: TabularMDP
    logits: np.ndarray

    def __repr__(self) -> str:
        return f"EpisodicPolicy(logits={self.logits.tolist()!r},\n  mdp={self.mdp!r})"

    def policy(self) -> np.ndarray:
        return softmax(self.logits)

    def paths(self) -> Trajectories:
        """Every episode with its probability under the policy (S − 1 steps, padded in the absorbing state)."""
        return enumerate_trajectories(self.mdp, self.policy(), self.mdp.n_states - 1)

    def path_scores(self, paths: Trajectories) -> np.ndarray:
        """[N, T, S·A]: the score of the tabular softmax at every step of every path, written out entry by entry."""
        pi = self.policy()
        n_paths, horizon = paths.actions.shape
        scores = np.zeros((n_paths, horizon, *pi.shape))
        for n in range(n_paths):
            for t in range(horizon):
                s, a = paths.states[n, t], paths.actions[n, t]
                scores[n, t, s] = -pi[s]
                scores[n, t, s, a] += 1.0
        return scores.reshape(n_paths, horizon, -1)

    def weighted_batch(self) -> tuple[ReinforceBatch, Trajectories]:
        """All N paths as one batch, path n's rewards scaled by N·p(τ_n): the batch mean of an estimator linear in
        the rewards is then the exact expectation Σ_n p(τ_n) ĝ(τ_n)."""
        paths = self.paths()
        weights = len(paths.probabilities) * paths.probabilities
        rewards = paths.rewards(self.mdp) * weights[:, None]
        return ReinforceBatch(self.path_scores(paths).tolist(), rewards.tolist(), self.mdp.gamma), paths


# TC-1 (M1, the two-step chain): s0 → s1 whatever the action (reward 0), s1's actions pay (1, 0) and end the episode,
# γ = 0.5, θ = 0. ∂J/∂θ[s1, 0] = γ π0 (1 − π0) = 0.125; reward-to-go without γ^t gives 0.25.
M1 = EpisodicPolicy(
    TabularMDP(
        P=[[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]], [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]],
        R=[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]],
        nu0=[1.0, 0.0, 0.0],
        gamma=0.5,
    ),
    np.zeros((3, 2)),
)
TRIVIAL_BATCH = ReinforceBatch(scores=[[[1.0, -0.5], [0.5, 0.25]]], rewards=[[1.0, 2.0]], gamma=0.5)


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------
@cache
def _entries(low: float, high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.floats(low, high, allow_nan=False, allow_subnormal=False))


@cache
def tables(shape: tuple[int, ...], bound: float = 5.0) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of ``shape`` with entries in [−bound, bound], 0 drawn on purpose (baselines, rewards, scores).
    Built once per shape: Hypothesis validates every new strategy object, which would dominate."""
    return arrays(np.float64, shape, elements=_entries(-bound, bound))


@st.composite
def reinforce_batches(draw, max_episodes: int = 3, max_steps: int = 3, max_parameters: int = 2) -> ReinforceBatch:
    """N ∈ [1, 3] episodes of T ∈ [1, 3] steps, d ∈ [1, 2] parameters; scores in [−2, 2], rewards in [−5, 5] (0
    drawn on purpose), γ from :func:`unit_interval` (0 and 1 included)."""
    n = draw(st.integers(1, max_episodes), label="N")
    t = draw(st.integers(1, max_steps), label="T")
    d = draw(st.integers(1, max_parameters), label="d")
    scores = draw(tables((n, t, d), 2.0))
    rewards = draw(tables((n, t)))
    return ReinforceBatch(scores.tolist(), rewards.tolist(), draw(unit_interval(), label="gamma"))


@st.composite
def reward_mixes(draw) -> RewardMix:
    """A batch, other rewards of its shape (or its own, with c = −1: zero rewards) and a weight c."""
    batch = draw(reinforce_batches())
    shape = np.shape(batch.rewards)
    if draw(st.booleans(), label="cancel"):  # r + (−1)·r = 0: the estimate of zero rewards is 0
        return RewardMix(batch, batch.rewards, -1.0)
    other = draw(tables(shape))
    weight = draw(st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, -3.0]))
    return RewardMix(batch, other.tolist(), weight)


@st.composite
def episodic_policies(draw) -> EpisodicPolicy:
    """Absorbing MDPs with S ∈ [2, 4], A = 2, γ ∈ [0, 0.95] (the exact ∇J is a linear solve), logits in [−4, 4]."""
    mdp = draw(episodic_mdps(max_states=4, max_actions=2))
    return EpisodicPolicy(mdp, draw(softmax_logits(mdp)))
