"""Two laws of the tabular toolkit that the objective and gradient properties cannot see:

* the score of the linear-feature softmax, ∇_θ log π_θ(a|s) = φ(s, a) − Σ_b π_θ(b|s) φ(s, b), checked against
  torch autograd entry by entry (STD-PG-1, PG-3; notes §PG). The policy gradient Σ ν π A · score alone cannot
  check it: Σ_a π(a|s) A(s, a) = 0 cancels any per-state shift of the score;
* the enumeration of paths keeps exactly the paths of positive probability, and refuses a horizon with more than
  MAX_PATHS = (S·A)^H·S paths before enumerating — at the bound itself it enumerates (PG-1; notes §PG).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.autograd import forward_ad

from lineage.tabular import TabularMDP, enumerate_trajectories
from lineage.tabular.policy import LinearSoftmaxPolicy
from lineage.tabular.trajectories import MAX_PATHS

FLOAT64_EPS = float(np.finfo(np.float64).eps)


@st.composite
def featured_policies(draw):
    """Features φ ∈ [−4, 4]^{S×A×K} and θ ∈ [−3, 3]^K, S ∈ [1, 4], A ∈ [1, 4], K ∈ [1, 3]: one action (score 0),
    equal features (score 0) and saturated softmaxes are all reachable."""
    n_states, n_actions, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    values = st.floats(-4, 4, allow_nan=False, allow_subnormal=False)
    features = draw(arrays(np.float64, (n_states, n_actions, k), elements=values))
    theta = draw(arrays(np.float64, (k,), elements=st.floats(-3, 3, allow_nan=False, allow_subnormal=False)))
    return features, theta


@pytest.mark.claim("STD-PG-1", "PG-3")
@given(featured_policies())
def test_linear_softmax_score_is_the_gradient_of_log_pi(case):
    """score(θ)[s, a, :] = ∇_θ log π_θ(a|s), by torch's forward-mode autodiff of log_softmax(φθ) for every (s, a);
    both are sums of at most A products of size ≤ max|φ|, so they agree to 8·A·eps·max|φ| (torch also in float64)."""
    features, theta = case
    policy = LinearSoftmaxPolicy(features)
    phi, directions = torch.tensor(features), torch.eye(len(theta), dtype=torch.float64)
    columns = []
    for direction in directions:  # forward mode: one pass per parameter, K ≤ 3
        with forward_ad.dual_level():
            log_pi = torch.log_softmax(phi @ forward_ad.make_dual(torch.tensor(theta), direction), dim=-1)
            columns.append(forward_ad.unpack_dual(log_pi).tangent)
    expected = torch.stack(columns, dim=-1)
    n_actions = features.shape[1]
    atol = 8 * n_actions * FLOAT64_EPS * max(1.0, float(np.abs(features).max()))
    np.testing.assert_allclose(policy.score(theta), expected.numpy(), rtol=0, atol=atol, err_msg=f"θ = {theta}")


@st.composite
def sparse_mdps(draw):
    """MDPs whose transitions, start law and policy have zeros (rows still distributions), S ∈ [1, 3], A ∈ [1, 2]."""
    n_states, n_actions = draw(st.integers(1, 3)), draw(st.integers(1, 2))

    def distribution(size):
        weights = draw(arrays(np.float64, (size,), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])))
        weights[draw(st.integers(0, size - 1))] = 1.0  # at least one positive weight
        return weights / weights.sum()

    P = np.array([[distribution(n_states) for _ in range(n_actions)] for _ in range(n_states)])
    pi = np.array([distribution(n_actions) for _ in range(n_states)])
    mdp = TabularMDP(P=P, R=np.zeros((n_states, n_actions)), nu0=distribution(n_states), gamma=0.5)
    return mdp, pi, draw(st.integers(1, 3))


@pytest.mark.claim("PG-1")
@given(sparse_mdps())
def test_enumeration_keeps_exactly_the_paths_of_positive_probability(case):
    """Every enumerated path has p(τ) > 0 and equals ν0(s_0) Π π(a_t|s_t) P(s_{t+1}|s_t, a_t); the paths are distinct
    and their number is the number of positive-probability paths (counted by a forward pass over the supports)."""
    mdp, pi, horizon = case
    paths = enumerate_trajectories(mdp, pi, horizon)
    s, a = paths.states, paths.actions
    product = mdp.nu0[s[:, 0]] * np.prod(pi[s[:, :-1], a] * mdp.P[s[:, :-1], a, s[:, 1:]], axis=1)
    assert np.all(paths.probabilities > 0), paths.probabilities
    np.testing.assert_allclose(paths.probabilities, product, rtol=4 * (2 * horizon + 1) * FLOAT64_EPS, atol=0)
    keys = {tuple(row) for row in np.concatenate([s, a], axis=1)}
    assert len(keys) == len(paths.probabilities), "paths repeat"
    count = (mdp.nu0 > 0).astype(int)  # count[s] = number of positive prefixes ending in s
    for _ in range(horizon):
        count = np.einsum("s,sa,sat->t", count, (pi > 0).astype(int), (mdp.P > 0).astype(int))
    assert len(keys) == count.sum(), (len(keys), count)


def one_step_mdp(n_states: int, n_actions: int) -> tuple[TabularMDP, np.ndarray]:
    P = np.full((n_states, n_actions, n_states), 1.0 / n_states)
    mdp = TabularMDP(P=P, R=np.zeros((n_states, n_actions)), nu0=np.full(n_states, 1.0 / n_states), gamma=0.5)
    return mdp, np.full((n_states, n_actions), 1.0 / n_actions)


@pytest.mark.claim("PG-1")
@pytest.mark.parametrize(
    ("n_states", "n_actions", "horizon", "paths"),
    [(2, 50_000, 1, MAX_PATHS), (2, 50_001, 1, MAX_PATHS + 4), (2, 224, 2, 401_408)],
)
def test_enumeration_refuses_more_than_max_paths_and_only_those(n_states, n_actions, horizon, paths):
    """(S·A)^H·S paths are enumerated when at most MAX_PATHS = 200 000, refused (naming the horizon) above it."""
    assert (n_states * n_actions) ** horizon * n_states == paths
    mdp, pi = one_step_mdp(n_states, n_actions)
    if paths > MAX_PATHS:
        with pytest.raises(ValueError, match=r"^horizon:"):
            enumerate_trajectories(mdp, pi, horizon)
    else:
        assert len(enumerate_trajectories(mdp, pi, horizon).probabilities) == paths
