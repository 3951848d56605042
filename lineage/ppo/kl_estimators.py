"""Per-sample estimators k1, k2, k3 of KL(π_old ‖ π_new) from samples of the old policy."""

from __future__ import annotations

from lineage.arrays import per_sample_floats


def kl_k1(logp_new, logp_old):
    """The k1 estimate of KL(π_old ‖ π_new) for each sample x ~ π_old.

        k1 = −log r = log π_old(x) − log π_new(x),   r = π_new(x) / π_old(x)

    Unbiased, E_{x~π_old}[k1] = KL(π_old ‖ π_new), but negative wherever π_new(x) > π_old(x), and its variance does
    not vanish as the policies meet. Spinning Up's ``approx_kl`` is its mean (Schulman 2020, "Approximating KL
    Divergence"). Samples from π_new, or the two policies swapped, estimate another quantity.

    Derivative: ∂k1/∂log π_new(x) = −1.

    Claims STD-KL-1, STD-KL-2; notes §PPO (KL penalty).

    Args:
        logp_new: log π_new(x_i), shape ``[N]`` (or any shape, one entry per sample).
        logp_old: log π_old(x_i) of the sampling policy, same shape.

    Returns:
        k1 per sample, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``logp_new`` (and ``logp_old``).
    """
    _, (new, old) = per_sample_floats(logp_new=logp_new, logp_old=logp_old)
    return -(new - old)


def kl_k2(logp_new, logp_old):
    """The k2 estimate of KL(π_old ‖ π_new) for each sample x ~ π_old.

        k2 = ½ (log r)²,   r = π_new(x) / π_old(x)

    Never negative, biased: E_{x~π_old}[k2] = KL + O(‖π_new − π_old‖³), a second-order match near π_new = π_old.
    OpenAI baselines' ppo2 ``approxkl`` is its mean (Schulman 2020, "Approximating KL Divergence").

    Derivative: ∂k2/∂log π_new(x) = log r.

    Claims STD-KL-1, STD-KL-2; notes §PPO (KL penalty).

    Args:
        logp_new: log π_new(x_i), shape ``[N]``.
        logp_old: log π_old(x_i) of the sampling policy, same shape.

    Returns:
        k2 per sample, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``logp_new`` (and ``logp_old``).
    """
    _, (new, old) = per_sample_floats(logp_new=logp_new, logp_old=logp_old)
    return (new - old) ** 2 / 2


def kl_k3(logp_new, logp_old):
    """The k3 estimate of KL(π_old ‖ π_new) for each sample x ~ π_old.

        k3 = (r − 1) − log r,   r = π_new(x) / π_old(x)

    Unbiased, because E_{x~π_old}[r] = 1 makes the control variate r − 1 mean-zero, and never negative, because
    log r ≤ r − 1. Stable-Baselines3's ``approx_kl_div`` is its mean (Schulman 2020, "Approximating KL
    Divergence"). "k3 has lower variance than k1" holds only near π_new = π_old. r − 1 is computed as
    expm1(log r): exact near r = 1 and never below 0.

    Derivative: ∂k3/∂log π_new(x) = r − 1.

    Claims STD-KL-1, STD-KL-2 (and test case TC-16 for the variance); notes §PPO (KL penalty).

    Args:
        logp_new: log π_new(x_i), shape ``[N]``.
        logp_old: log π_old(x_i) of the sampling policy, same shape.

    Returns:
        k3 per sample, shape ``[N]``; numpy or torch with the inputs' float dtype (array rule of
        :mod:`lineage.arrays`), differentiable in ``logp_new`` (and ``logp_old``).
    """
    backend, (new, old) = per_sample_floats(logp_new=logp_new, logp_old=logp_old)
    log_r = new - old
    return backend.xp.expm1(log_r) - log_r
