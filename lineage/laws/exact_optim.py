"""Exact (float64 closed-form) quantities of TRPO's optimisation contracts (notes §TRPO), written from their
definitions rather than from the algorithms under test: the conjugate-gradient iterate as the minimiser of the
A-norm error over the Krylov space, the Fisher matrix as the explicit matrix (1/B) Σ_b J_bᵀ(diag p_b − p_b p_bᵀ)J_b,
and the line search's outcome from the trial steps' float64 KL and surrogate."""

from __future__ import annotations

import numpy as np

from lineage.laws.cases.optim import FisherCase, LinearSystem, LineSearchCase, softmax_rows
from lineage.laws.tolerance import scaled_tolerance


def krylov_basis(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """An orthonormal basis of span{b, Ab, …, A^{k−1}b} (Arnoldi with Gram–Schmidt applied twice); fewer columns
    once the space stops growing (b lies in an invariant subspace)."""
    columns: list[np.ndarray] = []
    vector, floor = b.copy(), 0.0
    for _ in range(k):
        for _ in range(2):
            for q in columns:
                vector = vector - (q @ vector) * q
        norm = float(np.linalg.norm(vector))
        if norm <= floor:
            break
        floor = 1e-10 * float(np.linalg.norm(a, 2))
        columns.append(vector / norm)
        vector = a @ columns[-1]
    return np.array(columns).T if columns else np.zeros((len(b), 0))


def conjugate_gradient_iterate(case: LinearSystem) -> np.ndarray:
    """x_k = argmin over x ∈ span{b, …, A^{k−1}b} of ‖x − x*‖_A = V (VᵀAV)⁻¹ Vᵀb (k = ``iters``; Nocedal & Wright
    2006, Theorem 5.2), which CG from x_0 = 0 computes in exact arithmetic (``tol`` = 0)."""
    a, b = case.a(), np.array(case.b, dtype=np.float64)
    basis = krylov_basis(a, b, case.iters)
    if basis.shape[1] == 0:
        return np.zeros_like(b)
    return basis @ np.linalg.solve(basis.T @ a @ basis, basis.T @ b)


def fisher_matrix(features, theta) -> np.ndarray:
    """F = (1/B) Σ_b J_bᵀ (diag p_b − p_b p_bᵀ) J_b for z_b = x_bᵀθ, θ flattened row-major ([d·K]):
    J_b = x_bᵀ ⊗ I_K, p_b = softmax(z_b) (STD-NG-1)."""
    x, th = np.asarray(features, dtype=np.float64), np.asarray(theta, dtype=np.float64)
    k = th.shape[1]
    p = softmax_rows(x @ th)
    f = np.zeros((x.shape[1] * k, x.shape[1] * k))
    for row, probs in zip(x, p, strict=True):
        jacobian = np.kron(row[None, :], np.eye(k))
        f += jacobian.T @ (np.diag(probs) - np.outer(probs, probs)) @ jacobian
    return f / x.shape[0]


def fisher_vector_product(case: FisherCase) -> np.ndarray:
    """(F + c·I)·v, shaped like v ([d, K])."""
    v = np.array(case.v, dtype=np.float64)
    return ((fisher_matrix(case.features, case.theta) @ v.reshape(-1)) + case.damping * v.reshape(-1)).reshape(v.shape)


def line_search_tolerances(case: LineSearchCase, eps: float, theta: np.ndarray) -> tuple[float, float]:
    """Allowances (KL, surrogate) for evaluating KL̄(θ) and L(θ) in a dtype with machine epsilon ``eps``: the
    log-probabilities round with the logits' size, the trial θ itself with |θ_old| + |Δ|, and the surrogate sums B
    terms |r_b A_b|."""
    logits = case.logit_scale() * (1 + np.abs(case.features).max() * len(case.features[0]))
    terms = len(case.features) * case.num_actions
    kl = scaled_tolerance(eps, 4 * logits, terms)
    surrogate = scaled_tolerance(
        eps, 4 * logits * max(case.surrogate_scale(theta), case.surrogate_scale(case.old())), terms
    )
    return kl, surrogate


def line_search_outcomes(case: LineSearchCase, eps: float) -> list[np.ndarray]:
    """The parameters a correct search may return when each trial's KL and surrogate are computed with machine
    epsilon ``eps``: walking the trials θ_0, θ_1, … in order, a trial within rounding of δ or of no improvement may
    go either way (kept, and the walk goes on), the first trial that clearly passes both conditions ends the walk,
    and θ_old is a possible outcome if the walk reaches the end."""
    baseline, allowed = case.surrogate(case.old()), []
    for trial in case.candidates():
        kl_atol, surrogate_atol = line_search_tolerances(case, eps, trial)
        kl, gain = case.kl(trial), case.surrogate(trial) - baseline
        passes = kl <= case.max_kl - kl_atol and gain > 2 * surrogate_atol
        fails = kl > case.max_kl + kl_atol or gain < -2 * surrogate_atol
        if passes:
            return [*allowed, trial]
        if not fails:
            allowed.append(trial)
    return [*allowed, case.old()]


def line_search_result(case: LineSearchCase) -> np.ndarray:
    """The parameters the search returns with exact (float64) evaluations: the first trial with KL̄ ≤ δ and
    L(θ_i) > L(θ_old), else θ_old."""
    baseline = case.surrogate(case.old())
    for trial in case.candidates():
        if case.kl(trial) <= case.max_kl and case.surrogate(trial) - baseline > 0:
            return trial
    return case.old()
