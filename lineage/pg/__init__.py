"""Policy-gradient estimators (notes §PG, §AC, §VAR, §IS): score functions ∇_θ log π, the REINFORCE family of
per-trajectory estimators Σ_t w_t ψ_t ∇_θ log π(a_t|s_t) in both discounting conventions, variance-optimal
baselines and the exact variance of an estimator, and importance-sampling estimators from behaviour-policy data.
Every function follows the array rule of :mod:`lineage.arrays`."""

from lineage.pg.baselines import estimator_variance, optimal_baseline, per_parameter_optimal_baseline
from lineage.pg.importance import (
    cumulative_ratios,
    per_decision_importance_sampling,
    trajectory_importance_sampling,
    weighted_importance_sampling,
)
from lineage.pg.reinforce import (
    gradient_estimate,
    reinforce_gradient,
    reward_to_go,
    reward_to_go_minus_baseline,
    td_error_weights,
    total_return,
)
from lineage.pg.score import gaussian_score, linear_softmax_score, softmax_score, tabular_softmax_score

__all__ = [
    "cumulative_ratios",
    "estimator_variance",
    "gaussian_score",
    "gradient_estimate",
    "linear_softmax_score",
    "optimal_baseline",
    "per_decision_importance_sampling",
    "per_parameter_optimal_baseline",
    "reinforce_gradient",
    "reward_to_go",
    "reward_to_go_minus_baseline",
    "softmax_score",
    "tabular_softmax_score",
    "td_error_weights",
    "total_return",
    "trajectory_importance_sampling",
    "weighted_importance_sampling",
]
