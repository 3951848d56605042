"""The score functions of :mod:`lineage.pg` evaluated on SymPy symbols (notes §PG, §AC; PG-4, AC-6, STD-REINF-1).

For a softmax over three actions with symbolic logits t_0, t_1, t_2, lineage's score is compared with SymPy's own
derivative of log π: the log-derivative step ∂π_i/∂t_j = π_i ∂log π_i/∂t_j, the closed form 1[i = j] − π_j, and the
score identity Σ_i π_i ∂log π_i/∂t_j = 0 that makes any action-independent baseline unbiased. The Gaussian score is
compared with the derivative of the log density in μ and log σ.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lineage import pg

from .residual import assert_vanishes

LOGITS = sp.symbols("t_0:3", real=True)
ACTIONS = range(3)


def softmax(logits) -> list[sp.Expr]:
    total = sp.Add(*(sp.exp(t) for t in logits))
    return [sp.exp(t) / total for t in logits]


def lineage_scores() -> np.ndarray:
    """[3, 3]: row i is lineage's ∇_t log π(i) on the symbolic logits."""
    rows = np.array([list(LOGITS)] * 3, dtype=object)
    return pg.softmax_score(rows, np.arange(3))


@pytest.mark.claim("PG-4")
def test_log_derivative_step_and_closed_form():
    """PG-4: for each action i and logit j, lineage's score is SymPy's ∂log π_i/∂t_j, equals 1[i = j] − π_j, and
    π_i times it is ∂π_i/∂t_j (the step ∇π = π ∇log π of the policy-gradient theorem)."""
    pi, scores = softmax(LOGITS), lineage_scores()
    for i in ACTIONS:
        for j in ACTIONS:
            what = f"score[{i}, {j}]"
            assert_vanishes(scores[i, j] - sp.diff(sp.log(pi[i]), LOGITS[j]), f"{what} vs ∂log π_i/∂t_j")
            assert_vanishes(scores[i, j] - (int(i == j) - pi[j]), f"{what} vs 1[i = j] − π_j")
            assert_vanishes(sp.diff(pi[i], LOGITS[j]) - pi[i] * scores[i, j], f"∂π_{i}/∂t_{j} vs π_i · {what}")


@pytest.mark.claim("AC-6", "STD-REINF-1")
def test_score_has_mean_zero():
    """AC-6, STD-REINF-1: Σ_i π_i ∂log π_i/∂t_j = Σ_i ∂π_i/∂t_j = 0 for every j, on lineage's score; so for the
    tabular softmax, the score of a state's row has mean 0 under π(·|s) and the other rows are 0."""
    pi, scores = softmax(LOGITS), lineage_scores()
    for j in ACTIONS:
        assert_vanishes(sp.Add(*(pi[i] * scores[i, j] for i in ACTIONS)), f"Σ_i π_i score[i, {j}]")
    table = np.array([list(LOGITS), [sp.Integer(0)] * 3], dtype=object)
    tabular = pg.tabular_softmax_score(table, np.zeros(3, dtype=int), np.arange(3))
    for j in ACTIONS:
        assert_vanishes(sp.Add(*(pi[i] * tabular[i, 0, j] for i in ACTIONS)), f"Σ_i π_i tabular[i, s=0, {j}]")
        assert all(tabular[i, 1, j] == 0 for i in ACTIONS), tabular[:, 1]


@pytest.mark.claim("PG-4", "STD-REINF-1")
def test_gaussian_score_is_the_derivative_of_the_log_density():
    """PG-4 for a Gaussian policy: lineage's (∇_μ, ∇_{log σ}) log π equals SymPy's derivative of
    log N(a; μ, σ²) = −(a − μ)²/(2σ²) − log σ − ½ log 2π with σ = e^ℓ."""
    mean, log_std, action = sp.symbols("mu ell a", real=True)
    density = -((action - mean) ** 2) / (2 * sp.exp(2 * log_std)) - log_std - sp.log(2 * sp.pi) / 2
    by_mean, by_log_std = pg.gaussian_score(*(np.array([x], dtype=object) for x in (mean, log_std, action)))
    assert_vanishes(by_mean[0] - sp.diff(density, mean), "∂log π/∂μ")
    assert_vanishes(by_log_std[0] - sp.diff(density, log_std), "∂log π/∂log σ")
