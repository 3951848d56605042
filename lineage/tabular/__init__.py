"""Exact toolkit for small tabular MDPs: values, visitation, occupancy, gradients, enumeration, TRPO surrogate.

Shapes use S states and A actions: P is [S, A, S], R is [S, A], ν0 is [S] and a policy is an [S, A] array whose
rows lie on the simplex. Each function's docstring gives its formula, its source and the claims it serves.
"""

from lineage.tabular.evaluation import (
    action_values,
    advantages,
    objective,
    policy_rewards,
    policy_transitions,
    state_values,
)
from lineage.tabular.finite_horizon import FiniteHorizonValues, backward_induction
from lineage.tabular.fisher import categorical_fisher, natural_policy_gradient, npg_update, softmax_fisher
from lineage.tabular.gradient import (
    finite_horizon_softmax_gradient,
    linear_softmax_policy_gradient,
    softmax_policy_gradient,
)
from lineage.tabular.mdp import TabularMDP, random_mdp
from lineage.tabular.optimal import optimal_values
from lineage.tabular.policy import LinearSoftmaxPolicy, softmax
from lineage.tabular.trajectories import Trajectories, enumerate_trajectories
from lineage.tabular.trust_region import (
    PerformanceBounds,
    importance_sampled_surrogate,
    mixture_lower_bound,
    performance_lower_bounds,
    surrogate,
    trpo_penalty_coefficient,
    trust_region_degradation_bound,
)
from lineage.tabular.visitation import discounted_visitation, occupancy, state_visitation

__all__ = [
    "FiniteHorizonValues",
    "LinearSoftmaxPolicy",
    "PerformanceBounds",
    "TabularMDP",
    "Trajectories",
    "action_values",
    "advantages",
    "backward_induction",
    "categorical_fisher",
    "discounted_visitation",
    "enumerate_trajectories",
    "finite_horizon_softmax_gradient",
    "importance_sampled_surrogate",
    "linear_softmax_policy_gradient",
    "mixture_lower_bound",
    "natural_policy_gradient",
    "npg_update",
    "objective",
    "occupancy",
    "optimal_values",
    "performance_lower_bounds",
    "policy_rewards",
    "policy_transitions",
    "random_mdp",
    "softmax",
    "softmax_fisher",
    "softmax_policy_gradient",
    "state_values",
    "state_visitation",
    "surrogate",
    "trpo_penalty_coefficient",
    "trust_region_degradation_bound",
]
