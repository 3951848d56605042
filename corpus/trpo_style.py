"""TRPO's optimisation pieces as users write them (numpy and torch, the styles of modular_rl / Spinning Up / the
TRPO tutorials): conjugate gradients, a Fisher-vector product by double backward, a backtracking line search."""

from __future__ import annotations

import numpy as np
import torch


def cg(matvec, b, *, iters, tol):
    """modular_rl-style CG: the stopping test after each update."""
    p = b.copy()
    r = b.copy()
    x = np.zeros_like(b)
    rdotr = r.dot(r)
    for _ in range(iters):
        if rdotr <= tol:
            break
        z = matvec(p)
        v = rdotr / p.dot(z)
        x += v * p
        r -= v * z
        newrdotr = r.dot(r)
        mu = newrdotr / rdotr
        p = r + mu * p
        rdotr = newrdotr
        if rdotr < tol:
            break
    return x


def cg_torch(matvec, b, *, iters, tol):
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = torch.dot(r, r)
    for _ in range(iters):
        if rr <= tol:
            break
        ap = matvec(p)
        alpha = rr / torch.dot(p, ap)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = torch.dot(r, r)
        p = r + rr_new / rr * p
        rr = rr_new
    return x


def cg_restarts_direction(matvec, b, *, iters, tol):
    """p = r each step (steepest descent with exact line search), the β·p term forgotten."""
    x = np.zeros_like(b)
    r = b.copy()
    for _ in range(iters):
        rr = r.dot(r)
        if rr <= tol:
            break
        ar = matvec(r)
        alpha = rr / r.dot(ar)
        x = x + alpha * r
        r = r - alpha * ar
    return x


def fvp(features, theta, v, *, damping):
    """Double backward through the mean KL(old ‖ new) of a linear-softmax policy."""
    params = theta.detach().clone().requires_grad_(True)
    with torch.no_grad():
        old_logp = torch.log_softmax(features @ theta, dim=-1)
    new_logp = torch.log_softmax(features @ params, dim=-1)
    kl = (old_logp.exp() * (old_logp - new_logp)).sum(-1).mean()
    (grads,) = torch.autograd.grad(kl, params, create_graph=True)
    (hvp,) = torch.autograd.grad((grads * v).sum(), params)
    return hvp + damping * v


def fvp_damping_squared(features, theta, v, *, damping):
    """Damping applied as damping² (the 'cg_damping' read as a standard deviation)."""
    params = theta.detach().clone().requires_grad_(True)
    with torch.no_grad():
        old_logp = torch.log_softmax(features @ theta, dim=-1)
    new_logp = torch.log_softmax(features @ params, dim=-1)
    kl = (old_logp.exp() * (old_logp - new_logp)).sum(-1).mean()
    (grads,) = torch.autograd.grad(kl, params, create_graph=True)
    (hvp,) = torch.autograd.grad((grads * v).sum(), params)
    return hvp + damping**2 * v


def linesearch(surrogate, kl, theta_old, full_step, *, max_kl, max_backtracks, backtrack_ratio):
    fval = surrogate(theta_old)
    for stepfrac in backtrack_ratio ** np.arange(max_backtracks):
        xnew = theta_old + stepfrac * full_step
        if kl(xnew) <= max_kl and surrogate(xnew) - fval > 0:
            return xnew
    return theta_old.copy()


def linesearch_kl_only(surrogate, kl, theta_old, full_step, *, max_kl, max_backtracks, backtrack_ratio):
    """Backtracks on the KL constraint only; the surrogate's improvement is never checked."""
    for stepfrac in backtrack_ratio ** np.arange(max_backtracks):
        xnew = theta_old + stepfrac * full_step
        if kl(xnew) <= max_kl:
            return xnew
    return theta_old.copy()
