"""The conjugate-gradient method for a symmetric positive definite system, the solver inside TRPO's step."""

from __future__ import annotations

import math

from lineage._validation import check_positive_int, check_real
from lineage.arrays import backend_of


def conjugate_gradient(matvec, b, *, iters: int, tol: float):
    """Approximate x* = A⁻¹b for a symmetric positive definite A given only through v ↦ A·v.

        x_0 = 0,  r_0 = b,  p_0 = r_0;   for k = 0, 1, …:
            α_k = r_kᵀr_k / p_kᵀA p_k,   x_{k+1} = x_k + α_k p_k,   r_{k+1} = r_k − α_k A p_k,
            β_k = r_{k+1}ᵀr_{k+1} / r_kᵀr_k,   p_{k+1} = r_{k+1} + β_k p_k

    stopping before an iteration once ‖r_k‖² ≤ ``tol``, or after ``iters`` iterations (one product A·p each), or
    when p_kᵀA p_k is not positive (after convergence the products can underflow to 0).
    In exact arithmetic the residuals r_k = b − A x_k are mutually orthogonal, the directions p_k are
    A-conjugate, x_k minimises ‖x − x*‖_A over the Krylov space span{b, Ab, …, A^{k−1}b} (so the A-norm error
    never grows), x_n = x* for n × n systems and x_k = x* once k reaches the number of distinct eigenvalues of A
    (Nocedal & Wright 2006, "Numerical Optimization", ch. 5, Algorithm 5.2 and Theorems 5.2–5.4). TRPO runs about
    10 iterations on the damped Fisher-vector product (Schulman et al. 2015, "Trust Region Policy Optimization",
    Appendix C).

    Precondition: A is symmetric positive definite. That is the caller's responsibility and is not checked (only
    the products are available); for another A the iterates mean nothing, and p_kᵀA p_k ≤ 0 gives a meaningless
    or infinite step.

    Claims STD-CG-1, STD-NG-2; notes §TRPO.

    Args:
        matvec: callable v ↦ A·v taking and returning a vector of ``b``'s shape, in ``b``'s framework.
        b: right-hand side, shape ``[n]``, finite.
        iters: maximum number of iterations, an integer ≥ 1 (n suffices in exact arithmetic).
        tol: stop once ‖r_k‖² ≤ tol (a squared residual norm, ≥ 0; 0 runs all ``iters`` unless r_k = 0).

    Returns:
        x_k, shape ``[n]``; numpy or torch with ``b``'s float dtype (array rule of :mod:`lineage.arrays`),
        differentiable through ``b`` and whatever ``matvec`` depends on.
    """
    iters = check_positive_int("iters", iters)
    tol = check_real("tol", tol, minimum=0.0)
    backend = backend_of(b)
    (b,) = backend.floats(b=b)
    if b.ndim != 1 or math.prod(b.shape) == 0:
        raise ValueError(f"b: expected a non-empty vector of shape [n], got shape {tuple(b.shape)}")
    x = b * 0
    r = b
    p = r
    rr = (r * r).sum()
    for _ in range(iters):
        if float(rr) <= tol:
            break
        ap = _product(matvec, p)
        curvature = (p * ap).sum()
        if not float(curvature) > 0:  # A·p vanished in rounding (or A is not positive definite): stop
            break
        alpha = rr / curvature
        x = x + alpha * p
        r = r - alpha * ap
        rr_next = (r * r).sum()
        p = r + (rr_next / rr) * p
        rr = rr_next
    return x


def _product(matvec, p):
    """A·p, checked to be a vector of p's shape (a matvec returning [n, 1] would broadcast silently)."""
    ap = matvec(p)
    if tuple(getattr(ap, "shape", ())) != tuple(p.shape):
        raise ValueError(f"matvec: returned shape {tuple(getattr(ap, 'shape', ()))}, expected {tuple(p.shape)}")
    return ap
