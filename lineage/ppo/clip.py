"""PPO's clipped surrogate (PPO paper eq. 7; notes §PPO, §IS; claims PPO-5, PPO-6, PPO-7, PPO-11, IS-3,
STD-PPO-2, STD-PPO-3).

    ρ_i = π_new(a_i|s_i) / π_old(a_i|s_i) = exp(log π_new − log π_old)
    L^CLIP_i = min(ρ_i A_i, clip(ρ_i, 1 − ε, 1 + ε) A_i)
             = A_i·min(ρ_i, 1 + ε) if A_i ≥ 0,   A_i·max(ρ_i, 1 − ε) if A_i < 0
    ppo_clip_loss = −mean_i L^CLIP_i          (the loss minimised by SB3, CleanRL, baselines, rlax, Spinning Up)

The clip binds on the side that would improve the objective, (A > 0 ∧ ρ > 1 + ε) or (A < 0 ∧ ρ < 1 − ε). There the
term is the constant (1 ± ε)A with gradient 0 (STD-PPO-3); everywhere else it is the unclipped ρA, so
L^CLIP ≤ L^CPI = ρA, with equality off that set, and the two match to first order at ρ = 1 (STD-PPO-2). The clip
removes the incentive to push ρ out of the band; it does not keep ρ in the band (PPO-6, PPO-7), the band is relative
to the old sampling policy, not to a reference model (PPO-11), and for A < 0 the weight ρ is not truncated at all
(IS-3): PPO's clip is a pessimistic surrogate, not a truncated importance-sampling estimator.

The term is computed by choosing the branch on that condition. Rounding is monotone, so the value equals
min(ρA, clip(ρ)A) bit for bit; and the gradient is 0 exactly on the set and ρA/N off it, also at ρ = 1 ± ε and
where the two products round to the same number (``torch.minimum`` would split the gradient there).
"""

from __future__ import annotations

import torch

from lineage.ppo._tensors import check_ratio_clip, per_sample_tensors


def probability_ratio(logp_new, logp_old) -> torch.Tensor:
    """ρ = exp(log π_new − log π_old) per sample, differentiable in ``logp_new``."""
    new, old = per_sample_tensors(logp_new=logp_new, logp_old=logp_old)
    return torch.exp(new - old)


def clipped_surrogate(logp_new, logp_old, advantages, *, clip_eps: float) -> torch.Tensor:
    """min(ρA, clip(ρ, 1 − ε, 1 + ε)A) per sample (to be maximised), differentiable in ``logp_new``."""
    ratio, adv, clip_eps = _ratio_and_advantages(logp_new, logp_old, advantages, clip_eps)
    binds = _clip_binds(ratio, adv, clip_eps)
    return torch.where(binds, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * adv, ratio * adv)


def ppo_clip_loss(logp_new, logp_old, advantages, *, clip_eps: float) -> torch.Tensor:
    """−mean(min(ρA, clip(ρ, 1 − ε, 1 + ε)A)): the scalar loss to minimise."""
    return -clipped_surrogate(logp_new, logp_old, advantages, clip_eps=clip_eps).mean()


def clip_fraction(logp_new, logp_old, advantages, *, clip_eps: float) -> float:
    """The fraction of samples whose gradient the clip zeroes: (A > 0 ∧ ρ > 1 + ε) or (A < 0 ∧ ρ < 1 − ε).

    This is lm-human-preferences' ``pg_losses2 > pg_losses``. baselines ppo2 counts |ρ − 1| > ε instead, which
    also counts samples whose unclipped term is active (A > 0 ∧ ρ < 1 − ε, A < 0 ∧ ρ > 1 + ε) and those with A = 0.
    """
    ratio, adv, clip_eps = _ratio_and_advantages(logp_new, logp_old, advantages, clip_eps)
    return float(_clip_binds(ratio.detach(), adv.detach(), clip_eps).double().mean())


def _ratio_and_advantages(logp_new, logp_old, advantages, clip_eps) -> tuple[torch.Tensor, torch.Tensor, float]:
    clip_eps = check_ratio_clip("clip_eps", clip_eps)
    new, old, adv = per_sample_tensors(logp_new=logp_new, logp_old=logp_old, advantages=advantages)
    # log π_old and A are constants of the loss (fixed before the update): no gradient flows into them.
    return torch.exp(new - old.detach()), adv.detach(), clip_eps


def _clip_binds(ratio: torch.Tensor, adv: torch.Tensor, clip_eps: float) -> torch.Tensor:
    return ((adv > 0) & (ratio > 1 + clip_eps)) | ((adv < 0) & (ratio < 1 - clip_eps))
