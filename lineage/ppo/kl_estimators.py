"""Per-sample estimators of KL(π_old ‖ π_new) from samples x ~ π_old (Schulman 2020, "Approximating KL
Divergence"; notes §PPO; claims STD-KL-1, STD-KL-2). With r = π_new(x)/π_old(x):

    k1 = −log r            unbiased; negative wherever π_new(x) > π_old(x)
    k2 = ½ (log r)²        ≥ 0, biased; E[k2] = KL + O(‖π_new − π_old‖³)
    k3 = (r − 1) − log r   unbiased (E_old[r] = 1) and ≥ 0 (log r ≤ r − 1)

baselines ppo2's ``approxkl`` is the mean of k2, SB3's ``approx_kl_div`` of k3 and Spinning Up's ``approx_kl`` of k1.
"k3 has lower variance than k1" holds only near π_new = π_old (TC-16). Samples from π_new, or the roles of the two
policies swapped, estimate another quantity (STD-KL-2).

numpy in, numpy out; torch in (either argument), a tensor out, differentiable in ``logp_new``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lineage.arrays import is_torch
from lineage.ppo._tensors import per_sample_tensors


def kl_k1(logp_new, logp_old):
    """k1 = −log r = log π_old(x) − log π_new(x) per sample."""
    return _per_sample(lambda log_r: -log_r, logp_new, logp_old)


def kl_k2(logp_new, logp_old):
    """k2 = ½ (log r)² per sample."""
    return _per_sample(lambda log_r: 0.5 * log_r**2, logp_new, logp_old)


def kl_k3(logp_new, logp_old):
    """k3 = (r − 1) − log r per sample, with r − 1 = expm1(log r): exact near r = 1 and never below 0."""
    return _per_sample(lambda log_r: torch.expm1(log_r) - log_r, logp_new, logp_old)


def _per_sample(formula: Callable[[torch.Tensor], torch.Tensor], logp_new, logp_old):
    new, old = per_sample_tensors(logp_new=logp_new, logp_old=logp_old)
    estimates = formula(new - old)
    return estimates if is_torch(logp_new) or is_torch(logp_old) else estimates.numpy()
