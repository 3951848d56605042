"""Laws of TRPO's optimisation contracts (notes §TRPO): the conjugate gradient on symmetric positive definite systems
(STD-CG-1; Nocedal & Wright 2006, ch. 5), the Fisher-vector product of a linear-softmax policy (STD-NG-1; Schulman
et al. 2015, Appendix C) and the backtracking line search of the KL-constrained step (STD-NG-2, TRPO-13).

Precondition of ``conjugate_gradient``: A is symmetric positive definite. The strategies draw only such systems
(A = Q diag(λ) Qᵀ with λ > 0); what a solver does with another A is not part of the contract.

Floating point: CG's finite termination (x_n = x*, or x_k = x* with k distinct eigenvalues) holds in exact
arithmetic. Rounding makes the computed residuals lose orthogonality, which delays convergence (Greenbaum & Strakoš
1992): this law's own search met a κ ≈ 2·10³, n = 9 system whose float64 iterate x_9 still has a relative A-norm
error 4·10⁻⁴, reached 10⁻¹⁴ by x_18. So the laws state what survives rounding: 2n iterations reach the attainable
accuracy ~ κ·eps (Greenbaum 1997), the A-norm error never grows by more than that, the residuals are orthogonal to
within κ·eps, and with k distinct eigenvalues x_k is exact to within eps·κ^{k−1} (rounding widens each eigenvalue
into a cluster, and a degree-k polynomial vanishing at k clusters is small there only to that order), which for
k ≤ 2 is sharp.
"""

from __future__ import annotations

import numpy as np

from lineage.laws import exact_optim
from lineage.laws.cases.optim import (
    TIANSHOU_FAILED_SEARCH,
    FisherCase,
    LinearSystem,
    LineSearchCase,
    distinct_eigenvalue_systems,
    failing_line_search_cases,
    fisher_cases,
    line_search_cases,
    spd_systems,
)
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import LawViolation, expect_close, law, significant
from lineage.laws.tolerance import ROUNDING_FACTOR, scaled_tolerance, smallest_normal

CG = CONTRACTS["conjugate_gradient"]
FVP = CONTRACTS["fisher_vector_product"]
LINE_SEARCH = CONTRACTS["trpo_line_search"]


# --------------------------------------------------------------------------------------------------
# Conjugate gradient
# --------------------------------------------------------------------------------------------------
def attainable_error(case: LinearSystem, eps: float, power: float = 1.0) -> float:
    """C·n·κ^power·eps·‖x*‖_A plus the underflow floor of b in the target's dtype (‖δb‖/√λ_min)."""
    floor = ROUNDING_FACTOR * case.n**1.5 * smallest_normal(eps) / np.sqrt(case.eigenvalues()[0])
    return ROUNDING_FACTOR * case.n * case.condition() ** power * eps * case.a_norm(case.solution()) + floor


def a_norm_errors(case: LinearSystem, target, iterations) -> tuple[list[float], float]:
    """‖x_k − x*‖_A of the target's iterates (one call per k, ``tol`` = 0) and the machine epsilon they came in."""
    errors, eps = [], 0.0
    for k in iterations:
        got, eps = call(CG, target, case.with_iters(k))
        errors.append(case.a_norm(got - case.solution()))
    return errors, eps


@law("conjugate_gradient", claims=("STD-CG-1",), section="§TRPO", cases=spd_systems())
def solves_spd_systems(target, case: LinearSystem):
    """On A x = b with A symmetric positive definite (n ≤ 12, κ ≤ 1e4), x_k → x* = A⁻¹b: exactly at k = n in exact
    arithmetic; in floating point 2n iterations reach ‖x_2n − x*‖_A ≤ C·n·κ·eps·‖x*‖_A (the attainable accuracy)."""
    (error,), eps = a_norm_errors(case, target, [2 * case.n])
    allowed = attainable_error(case, eps)
    if error > allowed:
        got, _ = call(CG, target, case.with_iters(2 * case.n))
        raise LawViolation(
            f"x after {2 * case.n} iterations: ‖x − x*‖_A = {error:.3g} > allowed {allowed:.3g} "
            f"(κ = {case.condition():.3g})\n  expected x*: {significant(case.solution())}\n  got:         "
            f"{significant(got)}",
            expected=case.solution(),
            got=got,
        )


@law("conjugate_gradient", claims=("STD-CG-1",), section="§TRPO", cases=spd_systems())
def a_norm_error_never_grows(target, case: LinearSystem):
    """x_k minimises ‖x − x*‖_A over the growing Krylov spaces span{b, …, A^{k−1}b}, so the A-norm error is
    non-increasing in k = 1 … n (each call with iters = k, tol = 0; rounding allowed C·n·κ·eps·‖x*‖_A)."""
    errors, eps = a_norm_errors(case, target, range(1, case.n + 1))
    allowed = attainable_error(case, eps)
    for k in range(1, len(errors)):
        if errors[k] > errors[k - 1] + allowed:
            raise LawViolation(
                f"‖x_k − x*‖_A grows from k = {k} to k = {k + 1}: {errors[k - 1]:.6g} → {errors[k]:.6g} "
                f"(allowed growth {allowed:.3g}); errors for k = 1 … {case.n}: {significant(errors)}",
                expected=np.array(errors[:k]),
                got=np.array(errors),
                index=k,
            )


@law("conjugate_gradient", claims=("STD-CG-1",), section="§TRPO", cases=spd_systems())
def residuals_are_orthogonal(target, case: LinearSystem):
    """Successive residuals r_k = b − A x_k (r_0 = b) are orthogonal, r_{k+1}ᵀr_k = 0 for k + 1 ≤ n − 1: in floating
    point |r_{k+1}ᵀr_k| ≤ c‖r_{k+1}‖‖r_k‖ + ε(‖r_{k+1}‖ + ‖r_k‖) + ε², c = C·n·κ·eps, ε = C·n²·κ·eps·‖b‖ (the
    rounding of a computed residual). In exact arithmetic *all* residuals are mutually orthogonal; rounding keeps only
    this local orthogonality (Paige 1976): as the iteration converges on eigenvalues, distant residuals lose it (the
    search met a correct float64 CG with |r_1ᵀr_7| = 1.8e-6‖r_1‖‖r_7‖ at κ ≤ 1e4), so that is not a floating-point
    law."""
    a, b = case.a(), np.array(case.b, dtype=np.float64)
    residuals, eps = [b], 0.0
    for k in range(1, case.n):
        got, eps = call(CG, target, case.with_iters(k))
        residuals.append(b - a @ got)
    if len(residuals) < 2:
        return
    c = ROUNDING_FACTOR * case.n * case.condition() * eps
    floor = case.n * c * float(np.linalg.norm(b)) + ROUNDING_FACTOR * case.n * smallest_normal(eps)
    norms = [float(np.linalg.norm(r)) for r in residuals]
    for i in range(1, len(residuals)):
        for j in (i - 1,):
            inner = float(residuals[i] @ residuals[j])
            allowed = c * norms[i] * norms[j] + floor * (norms[i] + norms[j]) + floor**2
            if abs(inner) > allowed:
                raise LawViolation(
                    f"residuals r_{j} and r_{i} are not orthogonal: r_{j}ᵀr_{i} = {inner:.6g}, allowed {allowed:.3g} "
                    f"(‖r_{j}‖ = {norms[j]:.6g}, ‖r_{i}‖ = {norms[i]:.6g})",
                    expected=np.array([0.0]),
                    got=np.array([inner]),
                )


@law("conjugate_gradient", claims=("STD-CG-1",), section="§TRPO", cases=distinct_eigenvalue_systems())
def k_distinct_eigenvalues_take_k_steps(target, case: LinearSystem):
    """If A has k distinct eigenvalues, x_k = x* (the Krylov space is A-invariant after k steps): with iters = k the
    A-norm error is at most C·n·κ^{k−1}·eps·‖x*‖_A (rounding widens each eigenvalue into a cluster)."""
    (error,), eps = a_norm_errors(case, target, [case.iters])
    allowed = attainable_error(case, eps, power=max(case.iters - 1, 1))
    if error > allowed:
        got, _ = call(CG, target, case)
        raise LawViolation(
            f"x after k = {case.iters} iterations ({case.iters} distinct eigenvalues): ‖x − x*‖_A = {error:.3g} > "
            f"allowed {allowed:.3g}\n  expected x*: {significant(case.solution())}\n  got:         {significant(got)}",
            expected=case.solution(),
            got=got,
        )


# --------------------------------------------------------------------------------------------------
# Fisher-vector product
# --------------------------------------------------------------------------------------------------
@law("fisher_vector_product", claims=("STD-NG-1",), section="§TRPO", cases=fisher_cases())
def equals_hessian_of_mean_kl_times_v(target, case: FisherCase):
    """(F + c·I)·v with F = ∇²_θ' mean_b KL(π_θ(·|s_b) ‖ π_θ'(·|s_b)) at θ' = θ, the Fisher matrix
    (1/B) Σ_b J_bᵀ(diag p_b − p_b p_bᵀ)J_b of the linear-softmax policy (explicit matrix, float64)."""
    got, eps = call(FVP, target, case)
    a = case.inputs()
    x, v, theta = np.abs(a["features"]), np.abs(a["v"]), np.abs(a["theta"])
    logits = 1 + float(np.max(x @ theta))
    magnitude = logits * (float(np.max(x)) ** 2 * float(v.sum()) + case.damping * float(v.max()))
    atol = scaled_tolerance(eps, magnitude, x.shape[0] * v.size)
    expect_close("(F + c·I)·v", got, exact_optim.fisher_vector_product(case), atol)


# --------------------------------------------------------------------------------------------------
# Line search
# --------------------------------------------------------------------------------------------------
def _step_atol(case: LineSearchCase, eps: float) -> float:
    return scaled_tolerance(eps, float(np.max(np.abs(case.old()) + np.abs(case.step()))), 2)


def _describe_outcome(case: LineSearchCase, theta: np.ndarray, eps: float) -> str:
    for i, trial in enumerate(case.candidates()):
        if np.all(np.abs(theta - trial) <= _step_atol(case, eps)):
            return f"trial {i} (θ_old + {case.backtrack_ratio:.6g}^{i}·Δ)"
    if np.all(np.abs(theta - case.old()) <= _step_atol(case, eps)):
        return "θ_old"
    return "a point that is neither θ_old nor a trial step"


@law(
    "trpo_line_search",
    claims=("STD-NG-2", "TRPO-13"),
    section="§TRPO",
    cases=line_search_cases(),
    examples=(TIANSHOU_FAILED_SEARCH,),
)
def accepted_step_is_in_the_trust_region_and_improves(target, case: LineSearchCase):
    """Whatever the search returns other than θ_old satisfies both conditions of TRPO's problem: mean KL(π_old ‖ π_θ)
    ≤ δ and L(θ) > L(θ_old) (strict improvement of the surrogate; both within the rounding of their evaluation)."""
    got, eps = call(LINE_SEARCH, target, case)
    atol = _step_atol(case, eps)
    if np.all(np.abs(got - case.old()) <= atol):
        return
    kl_atol, surrogate_atol = exact_optim.line_search_tolerances(case, eps, got)
    kl, gain = case.kl(got), case.surrogate(got) - case.surrogate(case.old())
    if kl > case.max_kl + kl_atol or gain <= -2 * surrogate_atol:
        raise LawViolation(
            f"the search returned {_describe_outcome(case, got, eps)} with mean KL {kl:.6g} "
            f"(δ = {case.max_kl:.6g}) and "
            f"surrogate improvement {gain:.6g}: an accepted step must have KL ≤ δ and improvement > 0\n"
            f"  θ_old: {significant(case.old())}\n  got:   {significant(got)}",
            expected=case.old(),
            got=got,
        )


@law(
    "trpo_line_search",
    claims=("STD-NG-2",),
    section="§TRPO",
    cases=failing_line_search_cases(),
    examples=(TIANSHOU_FAILED_SEARCH,),
)
def failed_search_returns_old_parameters(target, case: LineSearchCase):
    """When no trial step θ_old + ratio^i·Δ passes (every one breaks KL ≤ δ or lowers the surrogate), the search
    changes nothing: it returns θ_old, not the last rejected trial."""
    got, eps = call(LINE_SEARCH, target, case)
    if not np.all(np.abs(got - case.old()) <= _step_atol(case, eps)):
        raise LawViolation(
            f"no trial step passes, yet the search returned {_describe_outcome(case, got, eps)} instead of θ_old\n"
            f"  expected θ_old: {significant(case.old())}\n  got:            {significant(got)}",
            expected=case.old(),
            got=got,
        )


@law("trpo_line_search", claims=("STD-NG-2", "TRPO-13"), section="§TRPO", cases=line_search_cases())
def backtracks_to_the_first_step_that_passes(target, case: LineSearchCase):
    """The search tries θ_old + ratio^i·Δ for i = 0, 1, … and returns the first trial with KL ≤ δ and L(θ) > L(θ_old),
    θ_old if none passes (a trial within rounding of a condition's boundary may go either way)."""
    got, eps = call(LINE_SEARCH, target, case)
    atol = _step_atol(case, eps)
    allowed = exact_optim.line_search_outcomes(case, eps)
    if any(np.all(np.abs(got - theta) <= atol) for theta in allowed):
        return
    expected = exact_optim.line_search_result(case)
    raise LawViolation(
        f"the search returned {_describe_outcome(case, got, eps)}; the first trial that passes is "
        f"{_describe_outcome(case, expected, 0.0)}\n  expected: {significant(expected)}\n  got:      "
        f"{significant(got)}",
        expected=expected,
        got=got,
    )
