"""Whitening of rewards and advantages over the valid tokens of a batch (claim STD-RLHF-5).

With μ the mean and σ² the *unbiased* variance (ddof = 1) of the n valid entries,

    whiten(x) = (x − μ) / √(σ² + ε),   ε = 1e-8                       (shift_mean=True, advantages)
    whiten(x) = (x − μ) / √(σ² + ε) + μ                              (shift_mean=False, rewards)

as TRL's ``masked_whiten`` (``(x − mean) * rsqrt(var + 1e-8)``, unbiased ``masked_var``) and
lm-human-preferences' ``whiten``. The result has mean 0 (or μ) and standard deviation σ/√(σ² + ε), which
is 1 up to ε/(2σ²). ``shift_mean=False`` keeps the batch mean of the rewards and rescales their deviations.

Defined edge cases, never NaN: one valid entry counts as zero spread (σ² = 0, where TRL divides by zero),
and zero spread maps every valid entry to 0 (or μ). Entries outside the mask are returned as 0: padding
carries no reward and no advantage.
"""

from __future__ import annotations

import numpy as np

from lineage._validation import as_bool_array, as_float_array, check_same_shape
from lineage.arrays import same_framework, to_numpy

EPSILON = 1e-8  # added to the variance under the square root, as in TRL and lm-human-preferences
DDOF = 1  # unbiased variance: divide by n − 1


def whiten(values, mask=None, *, shift_mean: bool = True):
    """``values`` whitened over the entries where ``mask`` is True (all entries when ``mask`` is None).

    Same shape and floating type as ``values``; numpy in, numpy out; torch in, a tensor out without gradient.
    """
    if not isinstance(shift_mean, bool):
        raise ValueError(f"shift_mean: expected True or False, got {shift_mean!r}")
    x = as_float_array("values", to_numpy(values))
    if mask is None:
        valid = np.ones(x.shape, dtype=bool)
    else:
        valid = as_bool_array("mask", to_numpy(mask))
        check_same_shape("values", x, mask=valid)
    n = int(valid.sum())
    if n == 0:
        raise ValueError("mask: no valid entry to whiten" if mask is not None else "values: no entry to whiten")

    mean = x[valid].mean()
    variance = ((x[valid] - mean) ** 2).sum() / (n - DDOF) if n > DDOF else x.dtype.type(0)
    whitened = (x - mean) / np.sqrt(variance + EPSILON)
    if not shift_mean:
        whitened = whitened + mean
    return same_framework(np.where(valid, whitened, 0.0).astype(x.dtype), values)
