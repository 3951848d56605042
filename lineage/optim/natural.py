"""The natural-gradient (TRPO) step: the search direction x ≈ F⁻¹g scaled onto the KL trust region ½ΔᵀFΔ = δ."""

from __future__ import annotations

from lineage._validation import check_real
from lineage.arrays import per_sample_floats


def natural_step(x, fx, *, max_kl):
    """The step of TRPO along a search direction x, scaled so that the quadratic model of the KL equals δ.

        Δ = √(2δ / xᵀFx) · x,   so   ½ ΔᵀFΔ = δ
        with x = F⁻¹g:   Δ = argmax { gᵀΔ : ½ ΔᵀFΔ ≤ δ },   gᵀΔ = √(2δ · gᵀF⁻¹g)

    x is the (conjugate-gradient) solution of Fx = g for the policy gradient g, and ``fx`` is F·x, the
    Fisher-vector product TRPO evaluates anyway; F is the Fisher matrix, the Hessian of the mean KL at the old
    parameters, so ½ΔᵀFΔ is the second-order model of the KL. By Cauchy–Schwarz in the F-metric no Δ with
    ½ΔᵀFΔ ≤ δ has a larger gᵀΔ. TRPO then backtracks along Δ until the surrogate improves and the actual KL
    is at most δ; this function gives only the full step.

    See Schulman, Levine, Moritz, Jordan & Abbeel (2015), "Trust Region Policy Optimization", §6 and
    Appendix C, and Kakade (2001), "A Natural Policy Gradient". Serves STD-NG-2 (and STD-NG-1, the F it
    scales with; notes §TRPO).

    Args:
        x: search direction, shape ``[n]`` (the flat parameter vector's shape).
        fx: F·x, the Fisher matrix applied to ``x``, shape ``[n]``.
        max_kl: δ > 0, the trust-region radius in KL.

    Returns:
        Δ, shape ``[n]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``x`` and ``fx``.

    Raises:
        ValueError: if ``x`` or ``fx`` is empty, not one-dimensional, non-finite or of another shape than ``x``,
            if ``max_kl`` is not a real > 0, or if xᵀFx ≤ 0 (F is positive semi-definite, and xᵀFx = 0 puts x
            in its null space, along which the model of the KL gives no scale; the message names ``fx``).
    """
    backend, (x, fx) = per_sample_floats(x=x, fx=fx)
    if x.ndim != 1:
        raise ValueError(f"x: expected a flat parameter vector of shape [n], got shape {tuple(x.shape)}")
    delta = check_real("max_kl", max_kl, minimum=0.0, inclusive=False, symbolic=backend.is_symbolic)
    curvature = (x * fx).sum()
    if backend.is_symbolic:
        known_not_positive = curvature.is_positive is False
    else:
        known_not_positive = not float(backend.no_gradient(curvature)) > 0.0
    if known_not_positive:
        raise ValueError(f"fx: the curvature xᵀ(Fx) must be > 0 (F positive definite along x), got {curvature}")
    return backend.xp.sqrt(2 * delta / curvature) * x
