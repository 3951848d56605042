"""PPO with a KL penalty instead of the clip — from the logits of categorical policies, or from per-sample
log-probabilities and exact KLs for any policy (a diagonal Gaussian's, say) — and the PPO paper's adaptive
coefficient."""

from __future__ import annotations

import math

import numpy as np

from lineage._validation import check_real, check_same_shape
from lineage.arrays import Backend, backend_of, per_sample_floats, to_numpy

KL_BAND = 1.5  # β is left alone while d_targ/1.5 ≤ d ≤ 1.5·d_targ
BETA_FACTOR = 2.0  # outside the band β is halved or doubled


def categorical_kl(logits_old, logits_new):
    """The exact KL divergence between two categorical policies, per state.

        KL(π_old ‖ π_new) = Σ_a π_old(a) (log π_old(a) − log π_new(a)),   π = softmax(logits) over the last axis

    the penalty of PPO-penalty (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4, eq. 8).

    Derivative: ∂KL/∂logits_new[a] = π_new(a) − π_old(a).

    Claims PPO-4, STD-PPO-1, STD-KL-2; notes §PPO (KL penalty).

    Args:
        logits_old: logits of the old policy, shape ``[..., K]`` (e.g. ``[N, K]``, a row per state).
        logits_new: logits of the new policy, same shape.

    Returns:
        The KL per row, shape ``[...]`` (``[N]``); numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in both arguments.
    """
    backend, (old, new) = per_sample_floats(logits_old=logits_old, logits_new=logits_new)
    if old.ndim == 0:
        raise ValueError("logits_old: expected logits over the actions along the last axis, got a scalar")
    return _kl(backend, old, new)


def penalized_surrogate(logits_new, logits_old, actions, advantages, *, beta: float):
    """The KL-penalised surrogate of each sample (to be maximised).

        L^KLPEN_i = ρ_i A_i − β KL(π_old(·|s_i) ‖ π_new(·|s_i)),   ρ_i = π_new(a_i|s_i) / π_old(a_i|s_i)

    with the KL exact over the actions, from the logits of both policies (Schulman et al. 2017 "Proximal Policy
    Optimization Algorithms", §4, eq. 8). At θ = θ_old the KL vanishes with its gradient, so there the gradient of
    L^KLPEN is the on-policy policy gradient.

    Derivative: ∂L^KLPEN_i/∂logits_new[i, b] = ρ_i A_i (1[b = a_i] − π_new(b|s_i)) − β (π_new(b|s_i) − π_old(b|s_i)).

    Claims PPO-4, STD-PPO-1; notes §PPO (KL penalty).

    Args:
        logits_new: logits of the new policy, shape ``[N, K]`` (a row of action logits per sample).
        logits_old: logits of the sampling policy, same shape.
        actions: the sampled action indices in [0, K), shape ``[N]`` (integers).
        advantages: A_i under the old policy, shape ``[N]``.
        beta: the penalty coefficient β ≥ 0 (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).

    Returns:
        L^KLPEN_i, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logits_new`` (and ``advantages``).
    """
    backend = backend_of(logits_new, logits_old, actions, advantages)
    new, old, adv = backend.floats(logits_new=logits_new, logits_old=logits_old, advantages=advantages)
    beta = check_real("beta", beta, minimum=0.0, symbolic=backend.is_symbolic)
    if new.ndim != 2 or math.prod(new.shape) == 0:
        raise ValueError(
            f"logits_new: expected shape [N, K] (a row of action logits per sample), N, K >= 1, got {tuple(new.shape)}"
        )
    check_same_shape("logits_new", new, logits_old=old)
    if tuple(adv.shape) != tuple(new.shape[:1]):
        raise ValueError(f"advantages: expected shape {tuple(new.shape[:1])}, one per row of logits_new")
    rows = backend.index_array(np.arange(new.shape[0]))
    taken = backend.index_array(_action_indices(actions, *new.shape))
    log_ratio = (backend.log_softmax(new) - backend.log_softmax(old))[rows, taken]
    return backend.xp.exp(log_ratio) * adv - beta * _kl(backend, old, new)


def ppo_penalty_loss(logits_new, logits_old, actions, advantages, *, beta: float):
    """PPO-penalty's loss, the quantity a descent step minimises.

        ppo_penalty_loss = −(1/N) Σ_i [ρ_i A_i − β KL(π_old(·|s_i) ‖ π_new(·|s_i))]

    the negated mean of :func:`penalized_surrogate` (Schulman et al. 2017 "Proximal Policy Optimization
    Algorithms", §4, eq. 8).

    Derivative: ∂loss/∂logits_new[i, b] = −(1/N) [ρ_i A_i (1[b = a_i] − π_new(b|s_i))
    − β (π_new(b|s_i) − π_old(b|s_i))].

    Claims PPO-4, STD-PPO-1; notes §PPO (KL penalty).

    Args:
        logits_new: logits of the new policy, shape ``[N, K]``.
        logits_old: logits of the sampling policy, same shape.
        actions: the sampled action indices, shape ``[N]`` (integers).
        advantages: A_i, shape ``[N]``.
        beta: β ≥ 0.

    Returns:
        The loss, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logits_new``.
    """
    surrogate = penalized_surrogate(logits_new, logits_old, actions, advantages, beta=beta)
    return backend_of(surrogate).scalar(-surrogate.mean())


def penalized_surrogate_from_kl(logp_new, logp_old, advantages, kl, *, beta: float):
    """The KL-penalised surrogate of each sample (to be maximised), for any policy family, from its per-sample
    log-probabilities and its per-sample exact KL.

        L^KLPEN_i = ρ_i A_i − β KL_i,   ρ_i = exp(log π_new(a_i|s_i) − log π_old(a_i|s_i)),
        KL_i = KL(π_old(·|s_i) ‖ π_new(·|s_i))

    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4, eq. 8). The KL is the caller's exact
    divergence between the two policies at s_i — :func:`categorical_kl` of the logits, or
    :func:`lineage.ppo.gaussian.diagonal_gaussian_kl` of a Gaussian's means and log σ — not a sample estimate; on
    a categorical policy this is :func:`penalized_surrogate`. ``logp_old`` and ``advantages`` are constants of the
    loss (no gradient flows into them, as in :func:`lineage.ppo.clipped_surrogate`); ``kl`` keeps its graph.

    Derivative: ∂L^KLPEN_i/∂log π_new(a_i|s_i) = ρ_i A_i,   ∂L^KLPEN_i/∂KL_i = −β.

    Claims PPO-4, PPO-13, STD-PPO-1; notes §PPO (KL penalty).

    Args:
        logp_new: log π_new(a_i|s_i), shape ``[N]`` (or any shape, one entry per sample).
        logp_old: log π_old(a_i|s_i) of the sampling policy, same shape.
        advantages: A_i under the old policy, same shape.
        kl: KL(π_old(·|s_i) ‖ π_new(·|s_i)) per sample, same shape.
        beta: the penalty coefficient β ≥ 0 (a SymPy expression too in a symbolic call, :mod:`lineage.arrays`).

    Returns:
        L^KLPEN_i, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logp_new`` and ``kl``.
    """
    backend, (new, old, adv, kl) = per_sample_floats(logp_new=logp_new, logp_old=logp_old, advantages=advantages, kl=kl)
    beta = check_real("beta", beta, minimum=0.0, symbolic=backend.is_symbolic)
    old, adv = backend.no_gradient(old), backend.no_gradient(adv)
    return backend.xp.exp(new - old) * adv - beta * kl


def ppo_penalty_loss_from_kl(logp_new, logp_old, advantages, kl, *, beta: float):
    """PPO-penalty's loss for any policy family, the quantity a descent step minimises.

        ppo_penalty_loss_from_kl = −(1/N) Σ_i [ρ_i A_i − β KL_i]

    the negated mean of :func:`penalized_surrogate_from_kl` (Schulman et al. 2017 "Proximal Policy Optimization
    Algorithms", §4, eq. 8); on a categorical policy, with KL_i = :func:`categorical_kl`, it is
    :func:`ppo_penalty_loss`.

    Derivative: ∂loss/∂log π_new(a_i|s_i) = −ρ_i A_i / N,   ∂loss/∂KL_i = β / N.

    Claims PPO-4, STD-PPO-1; notes §PPO (KL penalty).

    Args:
        logp_new: log π_new(a_i|s_i), shape ``[N]``.
        logp_old: log π_old(a_i|s_i) of the sampling policy, same shape.
        advantages: A_i, same shape.
        kl: KL(π_old(·|s_i) ‖ π_new(·|s_i)) per sample, same shape.
        beta: β ≥ 0.

    Returns:
        The loss, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logp_new`` and ``kl``.
    """
    surrogate = penalized_surrogate_from_kl(logp_new, logp_old, advantages, kl, beta=beta)
    return backend_of(surrogate).scalar(-surrogate.mean())


def adapt_kl_coef(beta: float, kl: float, *, kl_target: float) -> float:
    """The next penalty coefficient β after measuring the mean KL, by the PPO paper's ×2 / ÷2 rule.

        β ← β/2   if d < d_targ/1.5
        β ← 2β    if d > 1.5 d_targ
        β         otherwise (d in [d_targ/1.5, 1.5 d_targ])

    with d the measured KL(π_old ‖ π_new) (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §4;
    1.5 and 2 are the paper's heuristic constants, RLlib uses others). The direction is right because the KL of
    the maximiser of E[ρA] − β KL does not increase with β. The notes' reason for lowering β (the policy "found a
    shortcut" optimising only the KL) is not: a small KL means the penalty is too strong and the policy barely
    moves.

    Claims PPO-3, STD-PPO-1; notes §PPO (KL penalty).

    Args:
        beta: the current β ≥ 0 (a number, or a 0-d array or tensor).
        kl: the measured mean KL, any finite number (a k1 estimate can be negative); a 0-d array or tensor is
            accepted, as a batch mean usually is.
        kl_target: d_targ > 0.

    Returns:
        The next β, a Python float whatever the framework of the inputs (it steers training, it is not part of a
        loss).
    """
    beta = check_real("beta", _item(beta), minimum=0.0)
    kl = check_real("kl", _item(kl))
    kl_target = check_real("kl_target", kl_target, minimum=0.0, inclusive=False)
    if kl < kl_target / KL_BAND:
        return beta / BETA_FACTOR
    if kl > KL_BAND * kl_target:
        return beta * BETA_FACTOR
    return beta


def _kl(backend: Backend, old, new):
    log_old, log_new = backend.log_softmax(old), backend.log_softmax(new)
    return (backend.xp.exp(log_old) * (log_old - log_new)).sum(axis=-1)


def _item(x):
    """A 0-d numpy array or tensor as its Python number; anything else unchanged (and checked by the caller)."""
    x = to_numpy(x)
    return x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _action_indices(actions, n_samples: int, n_actions: int) -> np.ndarray:
    """``actions`` as ``n_samples`` integer indices in [0, n_actions)."""
    a = np.asarray(to_numpy(actions))
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"actions: expected integer action indices, got dtype {a.dtype}")
    if a.shape != (n_samples,):
        raise ValueError(f"actions: expected shape ({n_samples},), one per row of logits_new, got {a.shape}")
    if a.min() < 0 or a.max() >= n_actions:
        raise ValueError(f"actions: indices must lie in [0, {n_actions}), got {a.min()}..{a.max()}")
    return a.astype(np.int64)
