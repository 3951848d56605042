"""Whitening of RLHF rewards and advantages over the valid tokens of a batch."""

from __future__ import annotations

import numpy as np

from lineage._validation import check_same_shape
from lineage.arrays import backend_of

EPSILON = 1e-8  # added to the variance under the square root, as in TRL and lm-human-preferences
DDOF = 1  # unbiased variance: divide by n − 1


def whiten(values, mask=None, *, shift_mean: bool = True):
    """Rewards or advantages whitened over the valid entries of a batch.

        whiten(x) = (x − μ) / √(σ² + ε)         shift_mean=True  (advantages)
        whiten(x) = (x − μ) / √(σ² + ε) + μ     shift_mean=False (rewards)

    with μ the mean and σ² the unbiased variance (ddof = 1) of the n valid entries and ε = 1e-8, as TRL's
    ``masked_whiten`` (``(x − mean) * rsqrt(var + 1e-8)`` with the unbiased ``masked_var``) and
    openai/lm-human-preferences' ``whiten`` (Ziegler et al. 2019 "Fine-Tuning Language Models from Human
    Preferences"; Ouyang et al. 2022 "Training language models to follow instructions with human feedback"). The
    valid entries come out with mean 0 (or μ) and standard deviation σ/√(σ² + ε), which is 1 up to ε/(2σ²);
    ``shift_mean=False`` keeps the batch mean of the rewards and rescales their deviations.

    Defined edge cases, never NaN: one valid entry counts as zero spread (σ² = 0, where TRL divides by zero), and
    zero spread maps every valid entry to 0 (or μ). Entries outside the mask come back as 0: padding carries no
    reward and no advantage, and its values never matter.

    Derivative on the valid entries (s = √(σ² + ε), c = x − μ):
    ∂whiten(x)_i/∂x_j = (δ_ij − 1/n)/s − c_i c_j / ((n − 1) s³), plus 1/n with shift_mean=False; 0 for padding.

    Claim STD-RLHF-5; notes §PPO (RLHF part), §GAE.

    Args:
        values: rewards or advantages, any shape (typically ``[batch, tokens]``).
        mask: bool, same shape, True on the valid entries (at least one); None: every entry is valid.
        shift_mean: False to add the mean back (rewards); True (default) for advantages.

    Returns:
        The whitened values, same shape; numpy or torch with the input's float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``values``. Whitened advantages are constants of the PPO loss:
        detach them (or whiten under ``torch.no_grad()``) before using them as such.
    """
    if not isinstance(shift_mean, bool):
        raise ValueError(f"shift_mean: expected True or False, got {shift_mean!r}")
    backend = backend_of(values, mask)
    xp, (x,) = backend.xp, backend.floats(values=values)
    if mask is None:
        valid = backend.index_array(np.ones(tuple(x.shape), dtype=bool))
    else:
        (valid,) = backend.flags(mask=mask)
        check_same_shape("values", x, mask=valid)
    n = int(valid.sum())
    if n == 0:
        raise ValueError("mask: no valid entry to whiten" if mask is not None else "values: no entry to whiten")

    mean = x[valid].mean()
    variance = ((x[valid] - mean) ** 2).sum() / (n - DDOF) if n > DDOF else mean * 0
    whitened = (x - mean) / xp.sqrt(variance + EPSILON)
    if not shift_mean:
        whitened = whitened + mean
    return xp.where(valid, whitened, xp.zeros_like(whitened))
