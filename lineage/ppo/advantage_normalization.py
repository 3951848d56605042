"""Per-batch advantage normalisation as PPO implementations apply it before the clipped loss."""

from __future__ import annotations

import math
import numbers

from lineage._validation import check_real
from lineage.arrays import backend_of

DDOFS = (0, 1)


def normalize_advantages(advantages, *, ddof: int = 1, eps: float = 1e-8):
    """Advantages shifted to mean 0 and scaled to unit standard deviation over the whole batch.

        normalize_advantages(A) = (A − mean A) / (std_ddof A + eps),   std_ddof A = √(Σ (A_i − mean A)² / (n − ddof))

    PPO implementations apply this per minibatch before the clipped loss; the PPO paper does not specify it
    (Schulman et al. 2017 "Proximal Policy Optimization Algorithms"; Andrychowicz et al. 2021 "What Matters in
    On-Policy Reinforcement Learning?" study its effect). The conventions differ and are explicit here. The
    default ``ddof=1`` is the unbiased std of ``torch.Tensor.std``, which Stable-Baselines3, CleanRL and Tianshou
    call; ``ddof=0`` is the population std of ``numpy.std``, as in OpenAI baselines and Spinning Up. ``eps`` = 1e-8
    is added to the std as in all of them (0 gives Spinning Up's exactly unit std). The result has mean 0 and
    std σ/(σ + eps) with σ = std_ddof A. It is the whitening law of claim STD-RLHF-5 applied to advantages.

    Defined edge cases, never NaN: a batch of one entry, or with all entries equal (no spread), maps to zeros, where
    SB3 once divided 0 by the NaN std of one element and Tianshou's TRPO divides 0 by 0; the derivative there is 0.
    The std is computed on the centred entries scaled by their largest magnitude, so a tiny spread does not
    underflow to 0.

    Derivative (σ > 0, c = A − mean A, m = n − ddof):
    ∂z_i/∂A_j = (δ_ij − 1/n)/(σ + eps) − c_i c_j / (m σ (σ + eps)²).

    Claim STD-RLHF-5; notes §PPO (advantage normalisation).

    Args:
        advantages: the batch's advantages, any non-empty shape (``[N]`` samples, or ``[T, B]``); every entry
            counts.
        ddof: 1 (unbiased std, the default) or 0 (population std).
        eps: ≥ 0, added to the std.

    Returns:
        The normalised advantages, same shape; numpy or torch with the input's float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``advantages``. Detach the result if it is to be a constant of
        the loss.
    """
    if isinstance(ddof, bool) or not isinstance(ddof, numbers.Integral) or ddof not in DDOFS:
        raise ValueError(f"ddof: expected 0 (population std) or 1 (unbiased std), got {ddof!r}")
    eps = check_real("eps", eps, minimum=0.0)
    backend = backend_of(advantages)
    xp, (a,) = backend.xp, backend.floats(advantages=advantages)
    n = math.prod(a.shape)
    if n == 0:
        raise ValueError("advantages: expected at least one entry")
    if a.min() == a.max():
        return a - a  # zeros (exactly +0), and a zero derivative
    centred = a - a.mean()
    scale = xp.abs(centred).max()
    std = scale * xp.sqrt(((centred / scale) ** 2).sum() / (n - ddof))
    return centred / (std + eps)
