"""The entropy bonus of a categorical policy and the sign convention of PPO's combined loss (PPO paper eq. 9;
notes §PPO; claim STD-PPO-4).

    H[π](s) = −Σ_a π(a|s) log π(a|s),      ∂H/∂θ = −π ⊙ (log π + H) for softmax logits θ

PPO maximises L^CLIP − c1·L^VF + c2·S with S the entropy bonus; implementations minimise the negation,

    loss = −L^CLIP + c1·L^VF − c2·mean H = ppo_clip_loss + c1·value_loss − c2·mean H

so a descent step raises the entropy (baselines ppo2's sign; SB3 once had it flipped, PR #130).
"""

from __future__ import annotations

import torch

from lineage._validation import check_real
from lineage.ppo._tensors import as_tensor, per_sample_tensors


def categorical_entropy(logits) -> torch.Tensor:
    """H = −Σ_a π log π per row of ``[..., K]`` logits (π = softmax over the last axis), differentiable."""
    (z,) = per_sample_tensors(logits=logits)
    if z.ndim == 0:
        raise ValueError("logits: expected logits over the actions along the last axis, got a scalar")
    log_pi = torch.log_softmax(z, dim=-1)
    return -(log_pi.exp() * log_pi).sum(dim=-1)


def combined_loss(clip_loss, value_loss, entropy, *, vf_coef: float, ent_coef: float) -> torch.Tensor:
    """clip_loss + c1·value_loss − c2·mean(entropy): the loss whose descent maximises L^CLIP − c1·L^VF + c2·S.

    ``clip_loss`` and ``value_loss`` are the scalar losses of :func:`~lineage.ppo.ppo_clip_loss` and
    :func:`~lineage.ppo.value_loss`; ``entropy`` holds the per-state entropies H (c1, c2 ≥ 0).
    """
    vf_coef = check_real("vf_coef", vf_coef, minimum=0.0)
    ent_coef = check_real("ent_coef", ent_coef, minimum=0.0)
    terms = {"clip_loss": as_tensor("clip_loss", clip_loss), "value_loss": as_tensor("value_loss", value_loss)}
    for name, term in terms.items():
        if term.ndim != 0:
            raise ValueError(f"{name}: expected a scalar loss, got shape {tuple(term.shape)}")
    (h,) = per_sample_tensors(entropy=entropy)
    return terms["clip_loss"] + vf_coef * terms["value_loss"] - ent_coef * h.mean()
