"""Wrong conjugate gradients, Fisher-vector products and TRPO line searches (the contracts' signatures of
``lineage.laws.contracts``), each one flaw away from a correct implementation."""

from __future__ import annotations

import numpy as np

from lineage.bugzoo import bug
from lineage.laws.cases.optim import TIANSHOU_FAILED_SEARCH, FisherCase, LinearSystem


@bug(
    "cg_residual_sign_flipped",
    contract="conjugate_gradient",
    caught_by="conjugate_gradient.solves_spd_systems",
    source="classic mistake (residual updated as r + αAp: r = Ax − b, the gradient, mixed with r = b − Ax)",
    counterexample=LinearSystem([[2.0, 1.0], [1.0, 3.0]], [1.0, -1.0], iters=2),
)
def cg_residual_sign_flipped(matvec, b, *, iters, tol):
    """r_{k+1} = r_k + α_k A p_k instead of r_k − α_k A p_k."""
    x = np.zeros_like(b)
    r = np.array(b, dtype=np.float64)
    p = r.copy()
    rr = r @ r
    for _ in range(iters):
        if rr <= tol:
            break
        ap = matvec(p)
        alpha = rr / (p @ ap)
        x = x + alpha * p
        r = r + alpha * ap
        rr, rr_old = r @ r, rr
        p = r + rr / rr_old * p
    return x


@bug(
    "fvp_sum_over_batch",
    contract="fisher_vector_product",
    caught_by="fisher_vector_product.equals_hessian_of_mean_kl_times_v",
    source="classic mistake (the KL summed over the batch's states instead of averaged: F is B times too large)",
    counterexample=FisherCase([[1.0], [1.0]], [[0.0, 0.0]], [[1.0, -1.0]], damping=0.0),
)  # p = (½, ½): F·v = (½, −½); summed over B = 2 states: (1, −1)
def fvp_sum_over_batch(features, theta, v, *, damping):
    """F·v = Σ_b J_bᵀ(diag p_b − p_b p_bᵀ)J_b v (no 1/B) + c·v."""
    x, th, vec = (np.asarray(a, dtype=np.float64) for a in (features, theta, v))
    z = x @ th
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = x @ vec
    return x.T @ (p * u - p * (p * u).sum(axis=1, keepdims=True)) + damping * vec


@bug(
    "fvp_old_policy_not_detached",
    contract="fisher_vector_product",
    caught_by="fisher_vector_product.equals_hessian_of_mean_kl_times_v",
    source="classic mistake (KL(π_θ ‖ π_θ) with the old distribution not detached: identically 0, so F·v = 0)",
    counterexample=FisherCase([[1.0]], [[0.0, 0.0]], [[1.0, -1.0]], damping=0.1),
)  # F·v + c·v = (0.5 + 0.1, −0.5 − 0.1); the bug gives c·v = (0.1, −0.1)
def fvp_old_policy_not_detached(features, theta, v, *, damping):
    """The double-backward product of KL(π_θ ‖ π_θ), the 'old' probabilities computed from the same θ with the graph
    kept: the KL is 0 for every θ and its Hessian is 0, leaving only c·v."""
    import torch

    x, vec = torch.as_tensor(features, dtype=torch.float64), torch.as_tensor(v, dtype=torch.float64)
    th = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
    log_new = torch.log_softmax(x @ th, dim=1)
    log_old = torch.log_softmax(x @ th, dim=1)  # should be detached
    kl = (log_old.exp() * (log_old - log_new)).sum(dim=1).mean()
    (grad,) = torch.autograd.grad(kl, th, create_graph=True)
    (product,) = torch.autograd.grad((grad * vec).sum(), th, allow_unused=True)
    product = torch.zeros_like(vec) if product is None else product
    return (product + damping * vec).numpy()


@bug(
    "tianshou_line_search_keeps_rejected_step",
    contract="trpo_line_search",
    caught_by="trpo_line_search.failed_search_returns_old_parameters",
    source="Tianshou PR #1287 (commit af0d1912): TRPO's failure branch set the parameters to the last trial",
    counterexample=TIANSHOU_FAILED_SEARCH,
)  # one trial, KL(π_old ‖ π_trial) ≈ 1.4 > δ = 0.01: θ must stay (0, 0); the bug returns (2, −2)
def tianshou_line_search_keeps_rejected_step(
    surrogate, kl, theta_old, full_step, *, max_kl, max_backtracks, backtrack_ratio
):
    """Backtracking as TRPO does, but when the last trial is rejected the parameters are set to that trial (the
    failure branch wrote ``new_flat_params`` instead of restoring ``flat_params``)."""
    old, step = np.asarray(theta_old, dtype=np.float64), np.asarray(full_step, dtype=np.float64)
    baseline, size = float(surrogate(old)), 1.0
    for _ in range(max_backtracks):
        trial = old + size * step
        if float(kl(trial)) < max_kl and float(surrogate(trial)) > baseline:
            return trial
        size *= backtrack_ratio
    return trial
