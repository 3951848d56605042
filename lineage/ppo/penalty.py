"""PPO-penalty for categorical policies and the PPO paper's adaptive coefficient (PPO paper eq. 8 and §4; notes
§PPO; claims PPO-3, PPO-4, STD-PPO-1).

    L^KLPEN_i = ρ_i A_i − β·KL(π_old(·|s_i) ‖ π_new(·|s_i)),   ρ_i = π_new(a_i|s_i) / π_old(a_i|s_i)
    ppo_penalty_loss = −mean_i L^KLPEN_i

The KL is exact over the actions, from the logits of both policies. At θ = θ_old it vanishes with its gradient, so
the gradient of L^KLPEN there is the on-policy policy gradient (PPO-4).

The coefficient follows the paper's rule with d the measured KL(π_old ‖ π_new):

    β ← β/2 if d < d_targ/1.5,   β ← 2β if d > 1.5·d_targ,   β unchanged on [d_targ/1.5, 1.5·d_targ]

1.5 and 2 are the paper's heuristic constants (RLlib uses others). The rule's direction is right because the KL of
the maximiser of E[ρA] − β·KL does not increase with β; the notes' reason for lowering β (the policy "found a
shortcut" optimising only the KL) is not: a small KL means the penalty is too strong and the policy barely moves
(PPO-3).
"""

from __future__ import annotations

import numpy as np
import torch

from lineage._validation import check_real
from lineage.arrays import to_numpy
from lineage.ppo._tensors import as_tensor, per_sample_tensors

KL_BAND = 1.5  # β is left alone while d_targ/1.5 ≤ d ≤ 1.5·d_targ
BETA_FACTOR = 2.0  # outside the band β is halved or doubled


def categorical_kl(logits_old, logits_new) -> torch.Tensor:
    """KL(π_old ‖ π_new) = Σ_a π_old(a)(log π_old(a) − log π_new(a)) per row of ``[..., K]`` logits."""
    old, new = per_sample_tensors(logits_old=logits_old, logits_new=logits_new)
    if old.ndim == 0:
        raise ValueError("logits_old: expected logits over the actions along the last axis, got a scalar")
    log_old, log_new = torch.log_softmax(old, dim=-1), torch.log_softmax(new, dim=-1)
    return (log_old.exp() * (log_old - log_new)).sum(dim=-1)


def penalized_surrogate(logits_new, logits_old, actions, advantages, *, beta: float) -> torch.Tensor:
    """ρ_i A_i − β·KL(π_old(·|s_i) ‖ π_new(·|s_i)) per sample (to be maximised), differentiable in ``logits_new``.

    ``logits_new`` and ``logits_old`` are ``[N, K]`` (one row per sample's state), ``actions`` are the ``N``
    sampled action indices and ``advantages`` their ``N`` advantages under the old policy.
    """
    beta = check_real("beta", beta, minimum=0.0)
    new = as_tensor("logits_new", logits_new)
    if new.ndim != 2:
        raise ValueError(
            f"logits_new: expected shape [N, K] (a row of action logits per sample), got {tuple(new.shape)}"
        )
    new, old = per_sample_tensors(logits_new=new, logits_old=logits_old)
    (adv,) = per_sample_tensors(advantages=advantages)
    if adv.shape != new.shape[:1]:
        raise ValueError(f"advantages: expected shape {tuple(new.shape[:1])}, one per row of logits_new")
    taken = torch.as_tensor(_action_indices(actions, *new.shape), device=new.device)[:, None]
    log_ratio = (torch.log_softmax(new, dim=-1) - torch.log_softmax(old, dim=-1)).gather(1, taken)[:, 0]
    return torch.exp(log_ratio) * adv.to(new.device) - beta * categorical_kl(old, new)


def ppo_penalty_loss(logits_new, logits_old, actions, advantages, *, beta: float) -> torch.Tensor:
    """−mean(ρA − β·KL(π_old ‖ π_new)): the scalar loss to minimise."""
    return -penalized_surrogate(logits_new, logits_old, actions, advantages, beta=beta).mean()


def adapt_kl_coef(beta: float, kl: float, *, kl_target: float) -> float:
    """The next β after measuring the mean KL(π_old ‖ π_new) ``kl`` (the PPO paper's ×2 / ÷2 rule).

    β ≥ 0 and d_targ > 0; ``kl`` may be any finite number (a k1 estimate can be negative). Both may also be
    0-d arrays or tensors, as a batch mean usually is.
    """
    beta = check_real("beta", _item(beta), minimum=0.0)
    kl = check_real("kl", _item(kl))
    kl_target = check_real("kl_target", kl_target, minimum=0.0, inclusive=False)
    if kl < kl_target / KL_BAND:
        return beta / BETA_FACTOR
    if kl > KL_BAND * kl_target:
        return beta * BETA_FACTOR
    return beta


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
