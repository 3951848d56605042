"""Hypothesis strategies for small tabular MDPs and softmax policies.

The strategies are constructive: every draw is valid by construction (positive weights normalised into
distributions, upper-triangular transitions for episodic MDPs), so nothing is filtered with ``assume``.
Arrays stay tiny (S ≤ 5, A ≤ 4) because every oracle is an exact solve, series or enumeration.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.tabular import LinearSoftmaxPolicy, TabularMDP, softmax

LOGIT_BOUND = 4.0  # logits in [-4, 4]: no saturation, importance ratios below |A|·e^8
MAX_STEP_SCALE = 3.0  # new logits = old logits + scale·noise with scale in [0, 3]


# --------------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------------


# Strategy objects are built once per (shape, bounds) and reused: Hypothesis validates every new strategy
# object, and with S, A drawn afresh for every example that validation would otherwise dominate the run.


@cache
def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@cache
def _ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@cache
def _with_ends(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats in [low, high] that draw both ends on purpose."""
    return st.one_of(st.sampled_from([low, high]), _floats(low, high))


@cache
def _array(shape: tuple[int, ...], low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=_floats(low, high))


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum(axis=-1, keepdims=True)


@cache
def positive_distributions(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Distributions along the last axis with every entry ≥ 1e-3 / n: positive weights in [1e-3, 1]."""
    return _array(shape, 1e-3, 1.0).map(_normalised)


@cache
def distributions(n: int) -> st.SearchStrategy[np.ndarray]:
    """Any distribution over n outcomes, zeros allowed (a drawn outcome keeps weight ≥ 1)."""

    def with_one_heavy_outcome(weights: np.ndarray, heavy: int) -> np.ndarray:
        weights = weights.copy()
        weights[heavy] += 1.0
        return weights / weights.sum()

    return st.builds(with_one_heavy_outcome, _array((n,), 0.0, 1.0), _ints(0, n - 1))


def gammas(max_gamma: float = 0.95) -> st.SearchStrategy[float]:
    """Discounts in [0, max_gamma], with both boundaries drawn on purpose."""
    return _with_ends(0.0, max_gamma)


@st.composite
def tabular_mdps(
    draw,
    min_states: int = 1,
    max_states: int = 5,
    min_actions: int = 2,
    max_actions: int = 4,
    max_gamma: float = 0.95,
    reward_range: tuple[float, float] = (-1.0, 1.0),
) -> TabularMDP:
    """Dense MDPs: P(·|s, a) and ν0 from positive weights in [1e-3, 1], R uniform in ``reward_range``."""
    n_states = draw(_ints(min_states, max_states))
    n_actions = draw(_ints(min_actions, max_actions))
    P = draw(positive_distributions((n_states, n_actions, n_states)))
    R = draw(_array((n_states, n_actions), *reward_range))
    nu0 = draw(positive_distributions((n_states,)))
    return TabularMDP(P, R, nu0, draw(gammas(max_gamma)))


@st.composite
def episodic_mdps(
    draw,
    max_states: int = 4,
    max_actions: int = 3,
    max_gamma: float = 0.95,
    reward_range: tuple[float, float] = (-1.0, 1.0),
) -> TabularMDP:
    """MDPs whose last state is absorbing with zero reward and is reached surely within S − 1 steps.

    State i < S − 1 moves only to states j > i (strictly upper-triangular P), so every path is absorbed
    after at most S − 1 steps and ``episodes`` enumerates every reward the discounted return can collect.
    """
    n_states = draw(_ints(2, max_states))
    n_actions = draw(_ints(2, max_actions))
    later = np.triu(np.ones((n_states, n_states)), k=1)[:, None, :]  # [s, ·, s'] = 1 iff s' > s
    P = draw(_array((n_states, n_actions, n_states), 1e-3, 1.0)) * later
    P[-1, :, -1] = 1.0
    R = draw(_array((n_states, n_actions), *reward_range))
    R[-1] = 0.0
    nu0 = draw(positive_distributions((n_states,)))
    return TabularMDP(_normalised(P), R, nu0, draw(gammas(max_gamma)))


def softmax_logits(mdp: TabularMDP) -> st.SearchStrategy[np.ndarray]:
    """Tabular logits θ[s, a] in [-4, 4]."""
    return _array((mdp.n_states, mdp.n_actions), -LOGIT_BOUND, LOGIT_BOUND)


def policies(mdp: TabularMDP) -> st.SearchStrategy[np.ndarray]:
    """Tabular softmax policies π[s, a] = softmax(θ)[s, a]."""
    return _softmax_policies((mdp.n_states, mdp.n_actions))


@cache
def _softmax_policies(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    return _array(shape, -LOGIT_BOUND, LOGIT_BOUND).map(softmax)


def policy_pairs(mdp: TabularMDP) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """(old, new) policies: new logits = old logits + scale·noise, noise in [-1, 1], scale in [0, 3]."""
    return _policy_pairs((mdp.n_states, mdp.n_actions))


@cache
def _policy_pairs(shape: tuple[int, int]) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    def softmax_of_old_and_moved_logits(old_logits, noise, scale) -> tuple[np.ndarray, np.ndarray]:
        return softmax(old_logits), softmax(old_logits + scale * noise)

    logits = _array(shape, -LOGIT_BOUND, LOGIT_BOUND)
    moves = (_array(shape, -1.0, 1.0), _with_ends(0.0, MAX_STEP_SCALE))
    return st.builds(softmax_of_old_and_moved_logits, logits, *moves)


def linear_softmax_policies(mdp: TabularMDP, n_features: int = 2) -> st.SearchStrategy[LinearSoftmaxPolicy]:
    """Shared-parameter softmax policies π_θ(a|s) ∝ exp(φ(s, a)ᵀθ) with random features φ ∈ [-2, 2]^K."""
    return _linear_softmax_policies((mdp.n_states, mdp.n_actions, n_features))


@cache
def _linear_softmax_policies(shape: tuple[int, int, int]) -> st.SearchStrategy[LinearSoftmaxPolicy]:
    return _array(shape, -2.0, 2.0).map(LinearSoftmaxPolicy)


def parameter_vectors(n_features: int = 2) -> st.SearchStrategy[np.ndarray]:
    """Parameters θ ∈ [-2, 2]^K of a linear-feature policy: with φ ∈ [-2, 2]^K the logits stay within ±4K."""
    return _array((n_features,), -2.0, 2.0)


def state_distributions(mdp: TabularMDP) -> st.SearchStrategy[np.ndarray]:
    """Arbitrary distributions over the states of ``mdp`` (zeros allowed)."""
    return distributions(mdp.n_states)


def value_functions(mdp: TabularMDP, bound: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    """Arbitrary state functions V[s] (critics, value errors) with entries in [-bound, bound]."""
    return _array((mdp.n_states,), -bound, bound)


@dataclass(frozen=True, eq=False)
class RewardDistributions:
    """A reward law per transition: r ∈ ``values[s, a, s', :]`` with ``probabilities[s, a, s', :]``."""

    values: np.ndarray  # [S, A, S, K]
    probabilities: np.ndarray  # [S, A, S, K], sums to one over K

    def expected_rewards(self, P: np.ndarray) -> np.ndarray:
        """R(s, a) = Σ_{s'} P(s'|s, a) Σ_k q_k(s, a, s') r_k(s, a, s')."""
        return np.einsum("sat,satk,satk->sa", P, self.probabilities, self.values)

    def __repr__(self) -> str:
        return (
            f"RewardDistributions(\n  values={self.values.tolist()!r},\n"
            f"  probabilities={self.probabilities.tolist()!r})"
        )


@cache
def reward_distributions(
    n_states: int, n_actions: int, reward_range: tuple[float, float] = (-1.0, 1.0)
) -> st.SearchStrategy[RewardDistributions]:
    """A finite reward distribution with 2 or 3 support points for every (s, a, s')."""

    def with_support(k: int) -> st.SearchStrategy[RewardDistributions]:
        shape = (n_states, n_actions, n_states, k)
        return st.builds(RewardDistributions, _array(shape, *reward_range), positive_distributions(shape))

    return st.one_of(with_support(2), with_support(3))
