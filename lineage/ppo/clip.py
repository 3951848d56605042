"""PPO's clipped surrogate objective: the probability ratio, the per-sample clipped term, its loss and how often the
clip binds."""

from __future__ import annotations

import math

from lineage._validation import check_ratio_clip
from lineage.arrays import backend_of, per_sample_floats

CLIP_EPS = 0.2  # the PPO paper's ε, the default of Stable-Baselines3, CleanRL, OpenAI baselines and Spinning Up


def probability_ratio(logp_new, logp_old):
    """The importance weight of each sample under the new policy.

        ρ_i = π_new(a_i|s_i) / π_old(a_i|s_i) = exp(log π_new(a_i|s_i) − log π_old(a_i|s_i))

    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §3, r_t(θ); Kakade & Langford 2002 for the
    surrogate it weights.) Derivative: ∂ρ_i/∂log π_new(a_i|s_i) = ρ_i.

    Claims IS-3, STD-PPO-2; notes §IS, §PPO.

    Args:
        logp_new: log π_new(a_i|s_i), shape ``[N]`` (or any shape, one entry per sample).
        logp_old: log π_old(a_i|s_i) of the sampling policy, same shape.

    Returns:
        ρ_i, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logp_new`` (and ``logp_old``).
    """
    backend, (new, old) = per_sample_floats(logp_new=logp_new, logp_old=logp_old)
    return backend.xp.exp(new - old)


def clipped_surrogate(logp_new, logp_old, advantages, *, clip_eps: float = CLIP_EPS):
    """PPO's clipped surrogate term of each sample (to be maximised).

        L^CLIP_i = min(ρ_i A_i, clip(ρ_i, 1 − ε, 1 + ε) A_i)
                 = A_i min(ρ_i, 1 + ε)  if A_i ≥ 0,    A_i max(ρ_i, 1 − ε)  if A_i < 0

    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §3, eq. 7.) The clip binds on the side that
    would improve the objective, (A > 0 ∧ ρ > 1 + ε) or (A < 0 ∧ ρ < 1 − ε): there the term is the constant
    (1 ± ε)A with derivative 0; everywhere else it is ρA. Hence L^CLIP ≤ L^CPI = ρA, with equality off that set,
    and the two agree to first order at ρ = 1. The clip removes the incentive to push ρ out of the band, it does
    not keep ρ in the band; the band is relative to the sampling policy, not to a reference model; and for A < 0
    the weight ρ is not truncated at all, so this is a pessimistic surrogate, not truncated importance sampling.

    The branch is chosen on that condition rather than by taking a minimum: rounding is monotone, so the value is
    min(ρA, clip(ρ)A) bit for bit, and the derivative is 0 exactly on the set and ρA off it, also at ρ = 1 ± ε and
    where the two products round to the same number (``torch.minimum`` would split the gradient there).

    Derivative: ∂L^CLIP_i/∂log π_new(a_i|s_i) = ρ_i A_i off the clipped set, 0 on it.

    Claims PPO-5, PPO-6, PPO-7, PPO-11, IS-3, STD-PPO-2, STD-PPO-3; notes §PPO, §IS.

    Args:
        logp_new: log π_new(a_i|s_i), shape ``[N]``.
        logp_old: log π_old(a_i|s_i) of the sampling policy, same shape.
        advantages: A_i, same shape.
        clip_eps: ε in (0, 1); 0.2 by default, the paper's and the libraries' value (a SymPy expression too in a
            symbolic call, :mod:`lineage.arrays`; its comparisons with ρ must then be decidable).

    Returns:
        L^CLIP_i, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logp_new``; ``logp_old`` and ``advantages`` are constants (no gradient).
    """
    backend, ratio, adv, clip_eps = _ratio_and_advantages(logp_new, logp_old, advantages, clip_eps)
    xp = backend.xp
    return xp.where(_clip_binds(ratio, adv, clip_eps), xp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv, ratio * adv)


def ppo_clip_loss(logp_new, logp_old, advantages, *, clip_eps: float = CLIP_EPS):
    """PPO's clipped policy loss, the quantity a descent step minimises.

        ppo_clip_loss = −(1/N) Σ_i min(ρ_i A_i, clip(ρ_i, 1 − ε, 1 + ε) A_i)

    the negated mean of :func:`clipped_surrogate` (Schulman et al. 2017 "Proximal Policy Optimization
    Algorithms", §3, eq. 7; the sign and the mean as in Stable-Baselines3, CleanRL, OpenAI baselines, rlax and
    Spinning Up).

    Derivative: ∂loss/∂log π_new(a_i|s_i) = −A_i ρ_i / N where the clip does not bind, 0 where it binds
    ((A_i > 0 ∧ ρ_i > 1 + ε) or (A_i < 0 ∧ ρ_i < 1 − ε)).

    Claims PPO-5, STD-PPO-2, STD-PPO-3; notes §PPO.

    Args:
        logp_new: log π_new(a_i|s_i), shape ``[N]``.
        logp_old: log π_old(a_i|s_i) of the sampling policy, same shape.
        advantages: A_i, same shape.
        clip_eps: ε in (0, 1); 0.2 by default.

    Returns:
        The loss, a 0-d array; numpy or torch with the inputs' float dtype (array rule of :mod:`lineage.arrays`),
        differentiable in ``logp_new``.
    """
    surrogate = clipped_surrogate(logp_new, logp_old, advantages, clip_eps=clip_eps)
    return backend_of(surrogate).scalar(-surrogate.mean())


def clip_fraction(logp_new, logp_old, advantages, *, clip_eps: float = CLIP_EPS) -> float:
    """The fraction of samples whose gradient the clip zeroes, a training diagnostic.

        clip_fraction = (1/N) #{i : (A_i > 0 ∧ ρ_i > 1 + ε) or (A_i < 0 ∧ ρ_i < 1 − ε)}

    This is openai/lm-human-preferences' ``pg_losses2 > pg_losses``. OpenAI baselines' ppo2 counts |ρ − 1| > ε
    instead, which also counts samples whose unclipped term is active (A > 0 ∧ ρ < 1 − ε, A < 0 ∧ ρ > 1 + ε) and
    those with A = 0 (Schulman et al. 2017 "Proximal Policy Optimization Algorithms", §3 for the clip).

    Claims STD-PPO-3; notes §PPO.

    Args:
        logp_new: log π_new(a_i|s_i), shape ``[N]``.
        logp_old: log π_old(a_i|s_i), same shape.
        advantages: A_i, same shape.
        clip_eps: ε in (0, 1); 0.2 by default.

    Returns:
        A Python float in [0, 1], whatever the framework of the inputs (a diagnostic, not part of a loss).
    """
    _, ratio, adv, clip_eps = _ratio_and_advantages(logp_new, logp_old, advantages, clip_eps)
    binds = _clip_binds(ratio, adv, clip_eps)
    return int(binds.sum()) / math.prod(binds.shape)


def _ratio_and_advantages(logp_new, logp_old, advantages, clip_eps):
    backend, (new, old, adv) = per_sample_floats(logp_new=logp_new, logp_old=logp_old, advantages=advantages)
    clip_eps = check_ratio_clip("clip_eps", clip_eps, symbolic=backend.is_symbolic)
    # log π_old and the advantages are constants of the loss: a gradient into them would update whatever produced
    # them (the rollout policy, the critic through GAE) (claim PPO-13).
    old, adv = backend.no_gradient(old), backend.no_gradient(adv)
    return backend, backend.xp.exp(new - old), adv, clip_eps


def _clip_binds(ratio, adv, clip_eps: float):
    return ((adv > 0) & (ratio > 1 + clip_eps)) | ((adv < 0) & (ratio < 1 - clip_eps))
