"""Exact policy gradients of J on a tabular MDP (policy-gradient theorem; claims PG-3, STD-PG-1).

    ∇_θ J = Σ_s d^π(s) Σ_a π(a|s) A^π(s, a) ∇_θ log π(a|s)

For tabular softmax logits this is ∂J/∂θ_{s,a} = ν^π(s) π(a|s) A^π(s, a) / (1 − γ).
"""

from __future__ import annotations

import numpy as np

from lineage.tabular.evaluation import advantages
from lineage.tabular.mdp import TabularMDP
from lineage.tabular.policy import LinearSoftmaxPolicy, softmax
from lineage.tabular.visitation import discounted_visitation


def softmax_policy_gradient(mdp: TabularMDP, logits) -> np.ndarray:
    """∂J/∂θ[s, a] for the tabular softmax policy π = softmax(θ)."""
    pi = softmax(logits)
    return discounted_visitation(mdp, pi)[:, None] * pi * advantages(mdp, pi)


def linear_softmax_policy_gradient(mdp: TabularMDP, policy: LinearSoftmaxPolicy, theta) -> np.ndarray:
    """∇_θ J for a linear-feature softmax policy with shared parameters θ."""
    pi = policy.probabilities(theta)
    weights = discounted_visitation(mdp, pi)[:, None] * pi * advantages(mdp, pi)
    return np.einsum("sa,sak->k", weights, policy.score(theta))
