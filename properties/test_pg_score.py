"""lineage's score functions against torch autograd of log π (notes §PG; PG-4, STD-REINF-1), and the array rule of every
building block of :mod:`lineage.pg` (numpy in → numpy out; torch in → torch out with its graph). The finite-horizon
policy gradient is checked against autograd in test_pg_reinforce.py, on the draws of the enumeration property."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lineage import pg
from lineage.laws.cases.pg import tables
from properties.assertions import assert_identity

EPS = float(np.finfo(np.float64).eps)


pytestmark = pytest.mark.usefixtures("single_threaded_torch")


@st.composite
def score_cases(draw):
    """Tabular logits θ[S, A] (S ≤ 3, A ≤ 4), features φ[S, A, K] (K ≤ 2) with θ_lin[K], a visited (s, a), and a
    diagonal Gaussian (μ, log σ, a) of K dimensions."""
    n_states, n_actions, k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 2))
    return (
        draw(tables((n_states, n_actions), 4.0)),
        draw(tables((n_states, n_actions, k), 2.0)),
        draw(tables((k,), 2.0)),
        (draw(st.integers(0, n_states - 1)), draw(st.integers(0, n_actions - 1))),
        draw(tables((3, k), 2.0)),
    )


def jacobian(function, x: np.ndarray) -> np.ndarray:
    """∂ function(x) / ∂x by torch reverse mode (function returns a scalar tensor)."""
    leaf = torch.tensor(x, requires_grad=True)
    (grad,) = torch.autograd.grad(function(leaf), leaf)
    return grad.numpy()


@pytest.mark.claim("PG-4", "STD-REINF-1", "AC-6")
@given(case=score_cases())
def test_scores_are_gradients_of_log_pi(case):
    """∇ log π by autograd equals lineage's score for the tabular softmax (the row e_a − π(·|s) of the visited state,
    0 elsewhere), the categorical softmax, the linear-feature softmax φ(s, a) − E_π φ(s, ·), and the diagonal Gaussian
    ((a − μ)/σ², (a − μ)²/σ² − 1); and the softmax score has mean 0 under π (Σ_a π(a) ∇log π(a) = 0)."""
    logits, features, theta, (s, a), gaussian = case
    atol = 16 * EPS * (1.0 + float(np.abs(features).max()))
    tabular = jacobian(lambda z: torch.log_softmax(z, -1)[s, a], logits)
    assert_identity(pg.tabular_softmax_score(logits, s, a), tabular, atol=atol, what="tabular score")
    assert_identity(pg.softmax_score(logits[s], a), tabular[s], atol=atol, what="categorical score")
    phi = torch.tensor(features)
    linear = jacobian(lambda th: torch.log_softmax(phi @ th, -1)[s, a], theta)
    assert_identity(pg.linear_softmax_score(features, theta, s, a), linear, atol=atol, what="linear-feature score")
    mean, log_std, action = gaussian
    normal = np.stack([mean, log_std])
    a_t = torch.tensor(action)
    density = jacobian(lambda x: (-((a_t - x[0]) ** 2) / (2 * (2 * x[1]).exp()) - x[1]).sum(), normal)
    scale = 1.0 + float(np.abs(action - mean).max() * np.exp(-log_std).max()) ** 2
    assert_identity(np.stack(pg.gaussian_score(mean, log_std, action)), density, atol=16 * EPS * scale, what="Gaussian")
    every = np.arange(logits.shape[1])
    scores = pg.softmax_score(np.tile(logits[s], (len(every), 1)), every)
    mean_score = torch.softmax(torch.tensor(logits[s]), -1).numpy() @ scores
    assert_identity(mean_score, 0 * mean_score, atol=atol, what="Σ_a π(a) ∇log π(a)")


ARRAY_RULE_CALLS = {
    "softmax_score": (pg.softmax_score, [[0.1, -0.2, 0.3]], {"actions": [2]}),
    "tabular_softmax_score": (pg.tabular_softmax_score, [[0.1, -0.2], [0.3, 0.0]], {"states": [1], "actions": [0]}),
    "linear_softmax_score": (
        pg.linear_softmax_score,
        [[[0.5], [-1.0]]],
        {"theta": [0.3], "states": [0], "actions": [1]},
    ),
    "gaussian_score": (pg.gaussian_score, [0.5, -0.5], {"log_std": [0.1, 0.2], "actions": [1.0, 0.0]}),
    "reward_to_go": (pg.reward_to_go, [[1.0, 2.0]], {"gamma": 0.5}),
    "total_return": (pg.total_return, [[1.0, 2.0]], {"gamma": 0.5}),
    "reward_to_go_minus_baseline": (
        pg.reward_to_go_minus_baseline,
        [[1.0, 2.0]],
        {"baselines": [[0.5, 0.5]], "gamma": 0.5},
    ),
    "td_error_weights": (pg.td_error_weights, [[1.0, 2.0]], {"values": [[0.5, 0.5, 0.0]], "gamma": 0.5}),
    "gradient_estimate": (pg.gradient_estimate, [[[1.0], [2.0]]], {"psi": [[0.5, 1.0]], "gamma": 0.5}),
    "reinforce_gradient": (pg.reinforce_gradient, [[[1.0], [2.0]]], {"rewards": [[0.5, 1.0]], "gamma": 0.5}),
    "estimator_variance": (pg.estimator_variance, [0.25, 0.75], {"samples": [1.0, 2.0]}),
    "optimal_baseline": (pg.optimal_baseline, [0.25, 0.75], {"scores": [[1.0], [-0.5]], "returns": [1.0, 2.0]}),
    "per_parameter_optimal_baseline": (
        pg.per_parameter_optimal_baseline,
        [0.25, 0.75],
        {"scores": [[1.0], [-0.5]], "returns": [1.0, 2.0]},
    ),
    "cumulative_ratios": (pg.cumulative_ratios, [[0.5, 0.5]], {"behaviour_probs": [[0.25, 1.0]]}),
    "trajectory_importance_sampling": (
        pg.trajectory_importance_sampling,
        [[0.5, 0.5]],
        {"behaviour_probs": [[0.25, 1.0]], "values": [2.0]},
    ),
    "per_decision_importance_sampling": (
        pg.per_decision_importance_sampling,
        [[0.5, 0.5]],
        {"behaviour_probs": [[0.25, 1.0]], "rewards": [[1.0, 1.0]], "gamma": 0.9},
    ),
    "weighted_importance_sampling": (
        pg.weighted_importance_sampling,
        [[0.5], [0.5]],
        {"behaviour_probs": [[0.25], [0.75]], "values": [1.0, 0.0]},
    ),
}


@pytest.mark.claim("PG-4", "PG-7", "AC-7", "IS-1")
@pytest.mark.parametrize("name", sorted(ARRAY_RULE_CALLS))
def test_array_rule(name):
    """numpy in → numpy out; the same call with a torch tensor that requires grad gives torch out, equal numbers, and a
    graph back to that tensor (the first argument)."""
    function, first, keywords = ARRAY_RULE_CALLS[name]
    numpy_out = function(np.array(first), **keywords)
    leaf = torch.tensor(first, dtype=torch.float64, requires_grad=True)
    torch_out = function(leaf, **keywords)
    outs = zip(*(o if isinstance(o, tuple) else (o,) for o in (numpy_out, torch_out)), strict=True)
    for numbers, tensor in outs:
        assert isinstance(numbers, np.ndarray) and isinstance(tensor, torch.Tensor), (type(numbers), type(tensor))
        assert_identity(tensor.detach().numpy(), numbers, atol=1e-15, what=f"{name}: torch vs numpy")
        if tensor.requires_grad:
            (grad,) = torch.autograd.grad(tensor.sum(), leaf, allow_unused=True, retain_graph=True)
            assert grad is not None, f"{name}: no graph back to the input"
