"""The Fisher matrix of the tabular softmax policy and the natural policy gradient it gives, in closed form."""

from __future__ import annotations

import numpy as np

from lineage._validation import check_real
from lineage.arrays import backend_of, to_numpy
from lineage.tabular.evaluation import advantages
from lineage.tabular.mdp import TabularMDP, check_distributions
from lineage.tabular.policy import softmax
from lineage.tabular.visitation import state_visitation


def categorical_fisher(probabilities):
    """The Fisher matrix of a softmax distribution in its logits, F(p) = diag(p) − ppᵀ, per distribution.

        F(p) = E_{a~p}[∇_z log p_a ∇_z log p_aᵀ] = diag(p) − ppᵀ,   ∇_z log p_a = e_a − p,   p = softmax(z)
        F(p) = ∇²_z KL(p ‖ softmax(z))|_{softmax(z) = p} = ∇²_z KL(softmax(z) ‖ p)|_{softmax(z) = p}

    Both directions of the KL have this Hessian where the two distributions meet, and there their gradient
    is zero, so KL ≈ ½ΔᵀF(p)Δ for a small move Δ of the logits. F(p)·1 = 0: adding a constant to every logit
    leaves the distribution unchanged, so F(p) is singular; its rank is the number of positive entries of p
    minus one.

    See Amari (1998), "Natural Gradient Works Efficiently in Learning", Kakade (2001), "A Natural Policy
    Gradient", and Schulman et al. (2015), "Trust Region Policy Optimization", Appendix C (the Fisher matrix
    as the Hessian of the KL). Serves STD-NG-1 and, per state, STD-NG-3 (notes §TRPO).

    Args:
        probabilities: [..., A] distributions over the last axis (a numpy object array of SymPy expressions
            makes the call exact and skips the check that they are distributions).

    Returns:
        [..., A, A] array, F(p) of each distribution; numpy or torch with the input's float dtype (array rule
        of :mod:`lineage.arrays`), or SymPy expressions for an object array.

    Raises:
        ValueError: if ``probabilities`` is a scalar, has a non-finite entry, or (for numbers) has a slice with
            a negative entry or a sum differing from 1 by more than 1e-9.
    """
    backend = backend_of(probabilities)
    (p,) = backend.floats(probabilities=probabilities)
    if p.ndim == 0:
        raise ValueError("probabilities: expected distributions over the last axis, got a scalar")
    if not backend.is_symbolic:
        check_distributions("probabilities", to_numpy(p))
    n_actions = p.shape[-1]
    on_diagonal = backend.index_array(np.eye(n_actions, dtype=bool))
    column, row = p[..., :, None], p[..., None, :]
    broadcast_row = row + backend.xp.zeros_like(column)  # p_b in every entry [a, b]
    return backend.xp.where(on_diagonal, broadcast_row, backend.xp.zeros_like(broadcast_row)) - column * row


def softmax_fisher(mdp: TabularMDP, logits) -> np.ndarray:
    """The Fisher matrix of the tabular softmax policy, F = Σ_s ν^π(s) (diag π_s − π_s π_sᵀ), as [S·A, S·A].

        F = E_{s~ν^π, a~π(·|s)}[∇_θ log π(a|s) ∇_θ log π(a|s)ᵀ] = ⊕_s ν^π(s) (diag π(·|s) − π(·|s) π(·|s)ᵀ)
        F w = ∇_θ J   for   w(s, a) = A^π(s, a) / (1 − γ)

    Rows and columns are indexed by s·A + a (θ flattened row-major). ν^π is the normalised discounted
    visitation of :func:`lineage.tabular.state_visitation`, a distribution, so F is the Fisher matrix of the
    state-action law ν^π(s)π(a|s); with this weighting the natural gradient F⁻¹∇J is A^π / (1 − γ) (with the
    unnormalised d^π it would be A^π). The blocks are those of :func:`categorical_fisher`: F is block-diagonal,
    each state's all-ones direction is in its null space, and rank F = S(A − 1) when every ν^π(s) > 0.

    See Kakade (2001), "A Natural Policy Gradient", and Agarwal, Kakade, Lee & Mahajan (2021), "On the Theory
    of Policy Gradient Methods: Optimality, Approximation, and Distribution Shift", §5.3 (the Fisher matrix
    of the softmax policy under d_ρ^π). Serves STD-NG-1 and STD-NG-3 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        logits: [S, A] finite logits θ[s, a].

    Returns:
        [S·A, S·A] symmetric positive semi-definite array, F.

    Raises:
        ValueError: if γ = 1, if ``logits`` has a non-finite entry, or if it is not of shape [S, A] (the message
            names ``pi``, the softmax of the logits).
    """
    pi = softmax(logits)
    blocks = state_visitation(mdp, pi)[:, None, None] * categorical_fisher(pi)
    n_states, n_actions = pi.shape
    return np.einsum("st,sab->satb", np.eye(n_states), blocks).reshape(n_states * n_actions, -1)


def natural_policy_gradient(mdp: TabularMDP, logits) -> np.ndarray:
    """The natural policy gradient of the tabular softmax policy, w = A^π / (1 − γ), a solution of F w = ∇_θ J.

        w(s, a) = A^π(s, a) / (1 − γ),   F w = ∇_θ J,   F = Σ_s ν^π(s) (diag π_s − π_s π_sᵀ)

    Per state, ν(s)(diag π_s − π_s π_sᵀ) w_s = ν(s) π_s ⊙ A_s / (1 − γ) because Σ_a π(a|s) A^π(s, a) = 0, and
    that is ∂J/∂θ_{s,·} (:func:`lineage.tabular.softmax_policy_gradient`). F is singular, so w is one
    solution among w + Σ_s c_s 1_s: this one is the canonical solution, centred under π (Σ_a π(a|s) w(s, a) =
    0), not the minimum-norm solution F⁺∇J, which is centred by the plain mean over actions (w − mean_a w
    where every ν^π(s) > 0). The two differ by a constant per state, which the softmax ignores, so they give
    the same policy update (:func:`npg_update`).

    See Kakade (2001), "A Natural Policy Gradient" (the compatible-features result), and Agarwal, Kakade,
    Lee & Mahajan (2021), "On the Theory of Policy Gradient Methods: Optimality, Approximation, and
    Distribution Shift", §5.3 (NPG for the softmax parametrisation). Serves STD-NG-3 and STD-PG-2 (notes §TRPO, §PG).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        logits: [S, A] finite logits θ[s, a].

    Returns:
        [S, A] array, w(s, a), in the layout of ``logits``.

    Raises:
        ValueError: if γ = 1, if ``logits`` has a non-finite entry, or if it is not of shape [S, A] (the message
            names ``pi``, the softmax of the logits).
    """
    return advantages(mdp, softmax(logits)) / (1.0 - mdp.gamma)


def npg_update(mdp: TabularMDP, pi, eta: float) -> np.ndarray:
    """One natural policy gradient step of the tabular softmax policy, in closed form in the policy.

        π'(a|s) = π(a|s) exp(η A^π(s, a) / (1 − γ)) / Z_s,   Z_s = Σ_b π(b|s) exp(η A^π(s, b) / (1 − γ))
        π' = softmax(θ + η w)   for π = softmax(θ), w = A^π / (1 − γ)

    θ ← θ + η F⁺∇J moves the logits by η A^π/(1 − γ) up to a constant per state (:func:`natural_policy_gradient`),
    a multiplicative-weights update of each state's distribution. It needs no logits, so it also applies to a
    policy with zeros (a zero stays zero). For rewards in [0, 1], η > 0 and π₀ uniform, V^{π_t} is
    non-decreasing in every state and V^{π_T}(ρ) ≥ V*(ρ) − log|A|/(ηT) − 1/((1 − γ)²T).

    See Kakade (2001), "A Natural Policy Gradient", and Agarwal, Kakade, Lee & Mahajan (2021), "On the Theory
    of Policy Gradient Methods: Optimality, Approximation, and Distribution Shift", §5.3 (the update and its
    global convergence rate). Serves STD-NG-3 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.
        eta: step size η ≥ 0 (η = 0 returns π).

    Returns:
        [S, A] policy π', rows on the simplex.

    Raises:
        ValueError: if γ = 1, if ``pi`` is not an [S, A] array of distributions, or if ``eta`` is not a real
            ≥ 0.
    """
    eta = check_real("eta", eta, minimum=0.0)
    pi = mdp.check_policy(pi)
    step = eta * advantages(mdp, pi) / (1.0 - mdp.gamma)
    shift = np.where(pi > 0, step, -np.inf).max(axis=1, keepdims=True)  # the largest exponent on the support
    weights = pi * np.exp(np.minimum(step - shift, 0.0))
    return weights / weights.sum(axis=1, keepdims=True)
