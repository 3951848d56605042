"""Per-batch advantage normalisation of PPO implementations (notes §PPO; spec library conventions §0 and bugs 4 and
24; the law of claim STD-RLHF-5 for whitened advantages).

    normalize_advantages(A) = (A − mean A) / (std_ddof A + eps)

over every entry of the batch. The conventions differ and are explicit here: ``ddof=1`` (unbiased std) as SB3,
CleanRL and Tianshou, ``ddof=0`` as baselines and Spinning Up; ``eps`` 1e-8 added to the std (0 for Spinning Up's
exactly unit std). The result has mean 0 and std σ/(σ + eps), σ = std_ddof A.

Defined edge cases, never NaN: a batch of one or with all entries equal (zero spread) maps to zeros, where SB3 used
to divide 0 by the NaN std of one element and Tianshou's TRPO divides 0 by 0. The std is computed on the centred
entries scaled by their largest magnitude, so tiny spreads do not underflow to 0.
"""

from __future__ import annotations

import numbers

import numpy as np

from lineage._validation import as_float_array, check_real
from lineage.arrays import same_framework, to_numpy

DDOFS = (0, 1)


def normalize_advantages(advantages, *, ddof: int, eps: float = 1e-8):
    """``advantages`` shifted to mean 0 and scaled to unit std (up to ``eps``): same shape and floating type;
    numpy in, numpy out; torch in, a tensor out without gradient (advantages are constants of the loss)."""
    if isinstance(ddof, bool) or not isinstance(ddof, numbers.Integral) or ddof not in DDOFS:
        raise ValueError(f"ddof: expected 0 (population std) or 1 (unbiased std), got {ddof!r}")
    eps = check_real("eps", eps, minimum=0.0)
    a = as_float_array("advantages", to_numpy(advantages))
    if a.size == 0:
        raise ValueError("advantages: expected at least one entry")
    if a.min() == a.max():
        return same_framework(np.zeros_like(a), advantages)
    centred = a - a.mean()
    scale = np.abs(centred).max()
    std = scale * np.sqrt(np.sum((centred / scale) ** 2) / (a.size - ddof))
    return same_framework((centred / (std + eps)).astype(a.dtype), advantages)
