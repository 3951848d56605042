"""The policy-gradient theorem against automatic differentiation of the exact objective
(notes §PG; claims STD-PG-1, PG-3).

J(θ) = ν0ᵀ(I − γP_{π_θ})⁻¹ r_{π_θ} is rebuilt in torch (float64, ``torch.linalg.solve``) and differentiated
by autograd, so ∇J carries the derivative of the visitation that the theorem says drops out. Two
parametrisations: tabular softmax logits θ[s, a], and a shared-parameter linear-feature softmax with
logits φ(s, a)ᵀθ, θ ∈ R^2, so the check does not rest on the tabular closed form.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lineage.laws.cases.mdps import linear_softmax_policies, parameter_vectors, softmax_logits, tabular_mdps
from lineage.tabular import (
    TabularMDP,
    action_values,
    linear_softmax_policy_gradient,
    softmax_policy_gradient,
    state_visitation,
)
from properties.assertions import assert_identity, solve_tolerance

N_FEATURES = 2
Logits = Callable[[torch.Tensor], torch.Tensor]


def exact_objective(mdp: TabularMDP, pi: torch.Tensor) -> torch.Tensor:
    """J = ν0ᵀ(I − γP_π)⁻¹ r_π as a differentiable function of the policy table."""
    P, R, nu0 = (torch.from_numpy(x) for x in (mdp.P, mdp.R, mdp.nu0))
    P_pi = torch.einsum("sa,sat->st", pi, P)
    r_pi = (pi * R).sum(dim=1)
    V = torch.linalg.solve(torch.eye(mdp.n_states, dtype=torch.float64) - mdp.gamma * P_pi, r_pi)
    return nu0 @ V


def autograd_gradient(mdp: TabularMDP, logits: Logits, theta: np.ndarray) -> np.ndarray:
    """∇_θ J(θ) for π_θ = softmax(logits(θ)), by reverse-mode autodiff through the solve."""
    theta_t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(exact_objective(mdp, torch.softmax(logits(theta_t), dim=-1)), theta_t)
    return grad.numpy()


def policy_gradient_with_frozen_weights(logits: Logits, theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_{s,a} w(s, a) ∇_θ π_θ(a|s) for fixed weights w, by autodiff of the softmax alone."""
    theta_t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    weighted = (torch.from_numpy(weights) * torch.softmax(logits(theta_t), dim=-1)).sum()
    (grad,) = torch.autograd.grad(weighted, theta_t)
    return grad.numpy()


pytestmark = pytest.mark.usefixtures("single_threaded_torch")


@pytest.mark.claim("STD-PG-1")
@given(data=st.data(), mdp=tabular_mdps())
def test_tabular_softmax_gradient_matches_autodiff(data, mdp):
    """STD-PG-1 (notes §PG): ∂J/∂θ_{s,a} = d^π(s) π(a|s) A^π(s, a), d^π = Σ_t γ^t P_t unnormalised."""
    theta = data.draw(softmax_logits(mdp), label="theta")
    expected = autograd_gradient(mdp, lambda th: th, theta)
    closed_form = softmax_policy_gradient(mdp, theta)
    assert_identity(closed_form, expected, **solve_tolerance(mdp), what="∇J closed form (tabular θ)")


@pytest.mark.claim("STD-PG-1")
@given(data=st.data(), mdp=tabular_mdps())
def test_linear_feature_softmax_gradient_matches_autodiff(data, mdp):
    """STD-PG-1 (notes §PG): ∇_θ J = Σ_s d^π(s) Σ_a π(a|s) A^π(s, a) ∇_θ log π(a|s) with parameters shared
    across states."""
    policy = data.draw(linear_softmax_policies(mdp, N_FEATURES), label="policy")
    theta = data.draw(parameter_vectors(N_FEATURES), label="theta")
    features = torch.from_numpy(policy.features)
    expected = autograd_gradient(mdp, lambda th: features @ th, theta)
    closed_form = linear_softmax_policy_gradient(mdp, policy, theta)
    assert_identity(closed_form, expected, **solve_tolerance(mdp), what="∇J closed form (shared θ)")


@pytest.mark.claim("PG-3")
@pytest.mark.parametrize("parametrisation", ["tabular logits", "linear features"])
@given(data=st.data(), mdp=tabular_mdps())
def test_gradient_is_visitation_weighted_q_times_policy_gradient(data, mdp, parametrisation):
    """PG-3 (notes §PG): ∇J = 1/(1 − γ) Σ_s ν^π(s) Σ_a Q^π(s, a) ∇π(a|s) with the normalised discounted ν:
    the proportionality constant is exactly 1/(1 − γ) and no derivative of ν appears."""
    if parametrisation == "tabular logits":
        theta = data.draw(softmax_logits(mdp), label="theta").ravel()

        def logits(th: torch.Tensor) -> torch.Tensor:
            return th.reshape(mdp.n_states, mdp.n_actions)
    else:
        policy = data.draw(linear_softmax_policies(mdp, N_FEATURES), label="policy")
        features = torch.from_numpy(policy.features)
        theta = data.draw(parameter_vectors(N_FEATURES), label="theta")

        def logits(th: torch.Tensor) -> torch.Tensor:
            return features @ th

    pi = torch.softmax(logits(torch.from_numpy(theta)), dim=-1).numpy()
    weights = state_visitation(mdp, pi)[:, None] * action_values(mdp, pi) / (1.0 - mdp.gamma)
    by_theorem = policy_gradient_with_frozen_weights(logits, theta, weights)
    expected = autograd_gradient(mdp, logits, theta)
    assert_identity(by_theorem, expected, **solve_tolerance(mdp), what="Σ_s ν Σ_a Q ∇π / (1 − γ) vs ∇J")
