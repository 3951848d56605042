"""Exact policy gradients ∇_θ J on a tabular MDP, in closed form from the policy-gradient theorem."""

from __future__ import annotations

import numpy as np

from lineage.tabular.evaluation import advantages
from lineage.tabular.finite_horizon import backward_induction
from lineage.tabular.mdp import TabularMDP
from lineage.tabular.policy import LinearSoftmaxPolicy, softmax
from lineage.tabular.visitation import discounted_visitation


def softmax_policy_gradient(mdp: TabularMDP, logits) -> np.ndarray:
    """∂J/∂θ[s, a] = d^π(s) π(a|s) A^π(s, a) for the tabular softmax policy π = softmax(θ) (needs γ < 1).

        ∇_θ J = Σ_s d^π(s) Σ_a π(a|s) A^π(s, a) ∇_θ log π(a|s)                (policy-gradient theorem)
        ∂J/∂θ_{s,a} = d^π(s) π(a|s) A^π(s, a) = ν^π(s) π(a|s) A^π(s, a) / (1 − γ)

    The second line is the first with the tabular softmax score ∂ log π(b|s')/∂θ_{s,a} = 1[s' = s](1[b = a] −
    π(a|s)) and Σ_b π(b|s) A^π(s, b) = 0 (BASE-1). d^π is the unnormalised discounted visitation; written with
    the normalised ν^π the constant is exactly 1/(1 − γ) (PG-3). No derivative of the visitation appears.

    See Sutton et al. (2000), "Policy Gradient Methods for Reinforcement Learning with Function
    Approximation", Theorem 1, and for the tabular softmax form Agarwal, Kakade, Lee & Mahajan (2021), "On the
    Theory of Policy Gradient Methods: Optimality, Approximation, and Distribution Shift". Serves STD-PG-1 and
    PG-3 (notes §PG).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        logits: [S, A] finite logits θ[s, a].

    Returns:
        [S, A] array, ∂J/∂θ_{s,a} at θ = ``logits``.

    Raises:
        ValueError: if γ = 1, if ``logits`` has a non-finite entry, or if it is not of shape [S, A] (the message
            names ``pi``, the softmax of the logits).
    """
    pi = softmax(logits)
    return discounted_visitation(mdp, pi)[:, None] * pi * advantages(mdp, pi)


def linear_softmax_policy_gradient(mdp: TabularMDP, policy: LinearSoftmaxPolicy, theta) -> np.ndarray:
    """∇_θ J for a linear-feature softmax policy π_θ(a|s) ∝ exp(φ(s, a)ᵀθ) with θ shared by all states.

        ∇_θ J = Σ_s d^π(s) Σ_a π_θ(a|s) A^π(s, a) ∇_θ log π_θ(a|s),   ∇_θ log π_θ(a|s) = φ(s, a) − Σ_b π_θ(b|s) φ(s, b)

    The policy-gradient theorem with the score of :meth:`LinearSoftmaxPolicy.score`, d^π the unnormalised
    discounted visitation (needs γ < 1). Using A^π rather than Q^π changes nothing, since the score has mean
    zero under π_θ(·|s).

    See Sutton et al. (2000), "Policy Gradient Methods for Reinforcement Learning with Function
    Approximation", Theorem 1, and Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed.,
    §13.2 and Exercise 13.3. Serves STD-PG-1 with parameters shared across states (notes §PG).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        policy: the policy, features of shape [S, A, K].
        theta: [K] parameters θ.

    Returns:
        [K] array, ∇_θ J at ``theta``.

    Raises:
        ValueError: if γ = 1, if ``theta`` has a non-finite entry or a length other than K, or if the features
            are not of shape [S, A, K] (the message names ``pi``).
    """
    pi = policy.probabilities(theta)
    weights = discounted_visitation(mdp, pi)[:, None] * pi * advantages(mdp, pi)
    return np.einsum("sa,sak->k", weights, policy.score(theta))


def finite_horizon_softmax_gradient(mdp: TabularMDP, logits, horizon: int) -> np.ndarray:
    """∂J_H/∂θ[s, a] of the H-step objective J_H = E[Σ_{t<H} γ^t r_t] for π = softmax(θ), any γ in [0, 1].

        ∇_θ J_H = Σ_{t<H} γ^t E[A_t(s_t, a_t) ∇_θ log π(a_t|s_t)]
        ∂J_H/∂θ_{s,a} = Σ_{t<H} γ^t Pr(s_t = s) π(a|s) A_t(s, a),   A_t = Q_t − V_t,   Pr(s_t = ·) = ν0ᵀ P_π^t

    with the time-indexed Q_t, V_t of :func:`lineage.tabular.backward_induction` (V_H = 0). No linear solve, so
    γ = 1 is allowed: on an absorbing MDP whose episodes end within H steps this is the exact ∇J of the episodic
    objective, the gradient the REINFORCE estimators must average to (equal to :func:`softmax_policy_gradient`
    there when γ < 1).

    See Sutton et al. (2000), "Policy Gradient Methods for Reinforcement Learning with Function Approximation",
    Theorem 1, and Williams (1992) for the episodic form. Serves PG-7, PG-8, AC-3, STD-REINF-1 (notes §PG, §AC).

    Args:
        mdp: the MDP, any γ in [0, 1].
        logits: [S, A] finite logits θ[s, a].
        horizon: H ≥ 1.

    Returns:
        [S, A] array, ∂J_H/∂θ_{s,a} at θ = ``logits``.

    Raises:
        ValueError: if ``logits`` is not a finite [S, A] array (the message names ``pi``) or ``horizon`` is not an
            integer ≥ 1.
    """
    pi = mdp.check_policy(softmax(logits))
    values = backward_induction(mdp, pi, horizon)
    transitions = np.einsum("sa,sat->st", pi, mdp.P)
    gradient, reach = np.zeros_like(pi), mdp.nu0.copy()
    for t in range(horizon):
        gradient += mdp.gamma**t * reach[:, None] * pi * (values.Q[t] - values.V[t][:, None])
        reach = reach @ transitions
    return gradient
