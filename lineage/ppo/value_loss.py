"""Value clipping of the PPO critic loss (notes §PPO; claims PPO-17, STD-PPO-5).

    V_clip = clip(V_new, V_old − ε, V_old + ε) = V_old + clip(V_new − V_old, −ε, ε)

    "max"      L^VF = ½·mean max((V_new − R)², (V_clip − R)²)    (openai/baselines ppo2, CleanRL, TRL)
    "clipped"  L^VF = mean (V_clip − R)²                          (Stable-Baselines3 with ``clip_range_vf``)

The notes print the clip with its bounds swapped, clip(V_new, V_old + ε, V_old − ε): with clip(x, l, r) =
max(min(x, r), l) and l > r that is the constant V_old + ε, whatever V_new is (PPO-17, TC-15). They also leave out
how V_clip enters the loss; the "max" form is pessimistic, L^VF ≥ ½·mean (V_new − R)², and its gradient in V_new,i
is 0 where the clipped error is strictly the larger (which needs |V_new − V_old| > ε) and (V_new,i − R_i)/N
otherwise, ties included. ε is in the units of the values, so any ε > 0 is allowed.

V_clip is computed as clip(V_new, V_old − ε, V_old + ε), which is V_new itself inside the band; the baselines
form V_old + clip(V_new − V_old, −ε, ε) agrees with it up to rounding.
"""

from __future__ import annotations

import torch

from lineage._validation import check_real
from lineage.ppo._tensors import per_sample_tensors

VARIANTS = ("max", "clipped")


def clip_value(values_new, values_old, *, clip_eps: float) -> torch.Tensor:
    """V_clip = clip(V_new, V_old − ε, V_old + ε) per sample, differentiable in ``values_new``."""
    clip_eps = check_real("clip_eps", clip_eps, minimum=0.0, inclusive=False)
    v, v_old = per_sample_tensors(values_new=values_new, values_old=values_old)
    return torch.clamp(v, v_old - clip_eps, v_old + clip_eps)


def value_loss(values_new, values_old, returns, *, clip_eps: float, variant: str = "max") -> torch.Tensor:
    """The clipped critic loss (a scalar to minimise) in the ``variant`` of :data:`VARIANTS`."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {VARIANTS}, got {variant!r}")
    v, v_old, r = per_sample_tensors(values_new=values_new, values_old=values_old, returns=returns)
    v_old, r = v_old.detach(), r.detach()  # constants of the loss (fixed before the update): no gradient into them
    clipped = (clip_value(v, v_old, clip_eps=clip_eps) - r) ** 2
    if variant == "clipped":
        return clipped.mean()
    unclipped = (v - r) ** 2
    return 0.5 * torch.where(clipped > unclipped, clipped, unclipped).mean()  # the max, unclipped branch on ties
