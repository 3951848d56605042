"""The Hessian-vector product of a scalar function of a flat parameter vector by double backward: TRPO's
Fisher-vector product for any differentiable policy (a neural network's), where the mean KL is that function."""

from __future__ import annotations

import math

from lineage._validation import check_real


def hessian_vector_product(function, theta, v, *, damping: float):
    """(∇²f(θ) + c·I)·v for a scalar function f of a flat parameter vector θ, by two backward passes.

        H·v = ∇_θ [(∇_θ f(θ))ᵀ v],   result = H·v + c·v

    Never forms H. With f(θ') = (1/B) Σ_b KL(π_θ(·|s_b) ‖ π_θ'(·|s_b)), the old policy π_θ held constant, and the
    product taken at θ' = θ, H is the Fisher matrix F of the policy (the KL's gradient vanishes there), so this is
    TRPO's Fisher-vector product for any differentiable policy — a neural categorical or Gaussian one — where
    :func:`lineage.optim.fisher_vector_product` covers the linear softmax policy (Schulman et al. 2015, "Trust Region
    Policy Optimization", Appendix C; Pearlmutter 1994, "Fast Exact Multiplication by the Hessian"). The damping
    c·I keeps the system of the conjugate gradient positive definite where F is singular.

    Torch only: the product is automatic differentiation's (a numpy ``theta`` raises ``ValueError``). ``function``
    is evaluated afresh at a detached copy of θ on every call.

    Claims STD-NG-1, STD-NG-2; notes §TRPO.

    Args:
        function: callable θ ↦ f(θ), a 0-d tensor twice differentiable in θ (e.g. the mean KL of the batch, with
            the old policy's outputs detached).
        theta: the point θ, a torch floating tensor of shape ``[n]`` (the flat parameters), finite.
        v: the vector, shape ``[n]``, same dtype.
        damping: c ≥ 0.

    Returns:
        (H + c·I)·v, shape ``[n]``, ``theta``'s dtype and device, without a graph (a constant for the caller).
    """
    import torch

    damping = check_real("damping", damping, minimum=0.0)
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point():
        raise ValueError(f"theta: expected a floating torch tensor (autograd forms the product), got {type(theta)}")
    if theta.ndim != 1 or math.prod(theta.shape) == 0:
        raise ValueError(f"theta: expected a non-empty vector of shape [n], got shape {tuple(theta.shape)}")
    if not isinstance(v, torch.Tensor) or tuple(v.shape) != tuple(theta.shape) or v.dtype != theta.dtype:
        raise ValueError(f"v: expected a torch tensor of shape {tuple(theta.shape)} and dtype {theta.dtype}")
    if not bool(torch.isfinite(theta).all()):
        raise ValueError("theta: expected finite entries")
    v = v.detach()
    with torch.enable_grad():
        point = theta.detach().clone().requires_grad_(True)
        value = function(point)
        if not isinstance(value, torch.Tensor) or value.ndim != 0:
            raise ValueError(
                f"function: expected a 0-d tensor f(θ), got {type(value).__name__} {getattr(value, 'shape', '')}"
            )
        (gradient,) = torch.autograd.grad(value, point, create_graph=True)
        if not gradient.requires_grad:  # f is linear in θ: the Hessian is 0
            return damping * v
        (product,) = torch.autograd.grad((gradient * v).sum(), point, allow_unused=True)
    if product is None:
        product = torch.zeros_like(v)
    return product.detach() + damping * v
