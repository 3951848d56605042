"""The Fisher-vector product of a categorical policy with linear logits, as TRPO's conjugate gradient uses it."""

from __future__ import annotations

from lineage._validation import check_real
from lineage.arrays import backend_of
from lineage.tabular.policy import softmax


def fisher_vector_product(features, theta, v, *, damping: float):
    """(F + c·I)·v for the policy π_θ(·|s_b) = softmax(x_bᵀθ), F the Fisher matrix at θ_old = θ.

        F = ∇²_θ' (1/B) Σ_b KL(π_θ(·|s_b) ‖ π_θ'(·|s_b)) |_{θ'=θ} = (1/B) Σ_b J_bᵀ (diag p_b − p_b p_bᵀ) J_b,
        result = F·v + c·v

    with p_b = softmax(z_b), z_b = x_bᵀθ and J_b = ∂z_b/∂θ. The Hessian of the mean KL at the old parameters
    equals the Fisher matrix E[∇log π ∇log πᵀ] (and the Hessian of the reverse KL there too), because the KL's
    gradient vanishes at θ' = θ; so ½ΔᵀFΔ approximates the mean KL of a step Δ, and TRPO never forms F, only these
    products (Schulman et al. 2015, "Trust Region Policy Optimization", Appendix C; Kakade 2001). The damping
    c·I keeps the system positive definite: F itself is singular (shifting every logit of a state by the same
    amount leaves π unchanged).

    torch input: the product is computed by automatic differentiation, the gradient of (∇_θ' KL)ᵀv with the old
    probabilities held constant (a double backward pass), as TRPO implementations do. numpy input: the closed form
    above, F·v = (1/B) Xᵀ W with U = X V and W_b = p_b ⊙ u_b − p_b (p_bᵀu_b).

    Claims STD-NG-1, STD-NG-2; notes §TRPO.

    Args:
        features: x_b, shape ``[B, d]`` (one row per state), finite.
        theta: θ, shape ``[d, K]`` (logits z_b = x_bᵀθ over K ≥ 1 actions), finite; both the old parameters and
            the point of expansion.
        v: the vector, shape ``[d, K]`` or flattened row-major to ``[d·K]``.
        damping: c ≥ 0.

    Returns:
        (F + c·I)·v with ``v``'s shape; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`); in torch differentiable in ``v`` (and ``features``).
    """
    damping = check_real("damping", damping, minimum=0.0)
    backend = backend_of(features, theta, v)
    x, th, vec = backend.floats(features=features, theta=theta, v=v)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"features: expected shape [B, d] with B, d ≥ 1, got {tuple(x.shape)}")
    if th.ndim != 2 or th.shape[0] != x.shape[1] or th.shape[1] == 0:
        raise ValueError(f"theta: expected shape [d, K] = [{x.shape[1]}, K] with K ≥ 1, got {tuple(th.shape)}")
    if tuple(vec.shape) not in (tuple(th.shape), (th.shape[0] * th.shape[1],)):
        raise ValueError(
            f"v: expected shape {tuple(th.shape)} or ({th.shape[0] * th.shape[1]},) like theta, got {tuple(vec.shape)}"
        )
    matrix = vec.reshape(th.shape)
    product = _autograd_product(x, th, matrix) if backend.is_torch else _closed_form_product(x, th, matrix)
    return (product + damping * matrix).reshape(vec.shape)


def _closed_form_product(x, theta, v):
    """F·v = (1/B) Xᵀ W, W_b = p_b ⊙ u_b − p_b (p_bᵀu_b), U = X V (see :func:`fisher_vector_product`: Schulman et
    al. 2015; claim STD-NG-1; notes §TRPO).

    Args:
        x: features ``[B, d]``; theta: ``[d, K]``; v: ``[d, K]`` (numpy).

    Returns:
        F·v, shape ``[d, K]``.
    """
    logits = x @ theta
    p = softmax(logits)
    u = x @ v
    w = p * u - p * (p * u).sum(axis=1, keepdims=True)
    return x.T @ w / x.shape[0]


def _autograd_product(x, theta, v):
    """F·v = ∇_θ'[(∇_θ' KL(π_θ ‖ π_θ'))ᵀ v] at θ' = θ by a double backward pass (see
    :func:`fisher_vector_product`: Schulman et al. 2015; claim STD-NG-1; notes §TRPO).

    Args:
        x: features ``[B, d]``; theta: ``[d, K]``; v: ``[d, K]`` (torch).

    Returns:
        F·v, shape ``[d, K]``, differentiable in ``v`` and ``x`` when they require grad.
    """
    import torch

    keep_graph = torch.is_grad_enabled() and (v.requires_grad or x.requires_grad)
    with torch.enable_grad():
        point = theta.detach().clone().requires_grad_(True)
        log_old = torch.log_softmax(x.detach() @ theta.detach(), dim=1)
        log_new = torch.log_softmax(x @ point, dim=1)
        kl = (log_old.exp() * (log_old - log_new)).sum(dim=1).mean()
        (gradient,) = torch.autograd.grad(kl, point, create_graph=True)
        (product,) = torch.autograd.grad((gradient * v).sum(), point, create_graph=keep_graph)
    return product
