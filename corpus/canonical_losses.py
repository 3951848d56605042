"""PPO losses, KL estimators, the adaptive KL coefficient and advantage normalisation, as a user's ``ppo_utils.py``
would write them (lineage's signatures: ``f(logp_new, logp_old, advantages, *, clip_eps)`` and so on)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------------------------
# clipped policy loss
# ----------------------------------------------------------------------------------------------------------------


def ppo_loss_cleanrl(logp_new, logp_old, advantages, *, clip_eps):
    """CleanRL's form: max of the two negated surrogates, averaged."""
    logratio = logp_new - logp_old
    ratio = logratio.exp()
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return torch.max(pg_loss1, pg_loss2).mean()


def ppo_loss_numpy(logp_new, logp_old, advantages, *, clip_eps):
    """numpy, min of the surrogates written with np.where on the sign of A."""
    ratio = np.exp(logp_new - logp_old)
    bound = np.where(advantages >= 0, np.minimum(ratio, 1 + clip_eps), np.maximum(ratio, 1 - clip_eps))
    return -np.mean(bound * advantages)


def ppo_loss_surrogate_min(logp_new, logp_old, advantages, *, clip_eps):
    """torch, the paper's min(rA, clip(r)A) negated."""
    ratio = torch.exp(logp_new - logp_old)
    surr1 = ratio * advantages
    surr2 = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * advantages
    return -torch.min(surr1, surr2).mean()


def ppo_loss_clamps_log_ratio(logp_new, logp_old, advantages, *, clip_eps):
    """BUG: clips the log-ratio to [-eps, eps] instead of the ratio to [1 - eps, 1 + eps] (bounds e^-eps, e^eps)."""
    logratio = logp_new - logp_old
    pg_loss1 = -advantages * logratio.exp()
    pg_loss2 = -advantages * torch.clamp(logratio, -clip_eps, clip_eps).exp()
    return torch.max(pg_loss1, pg_loss2).mean()


def ppo_loss_min_of_losses(logp_new, logp_old, advantages, *, clip_eps):
    """BUG: min over the *negated* surrogates (optimistic): the max belongs there once the sign is flipped."""
    ratio = (logp_new - logp_old).exp()
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return torch.min(pg_loss1, pg_loss2).mean()


def ppo_loss_normalizes_advantages(logp_new, logp_old, advantages, *, clip_eps):
    """BUG (of the contract): normalises the minibatch advantages inside the loss, as CleanRL's norm_adv does."""
    advantages = (advantages - advantages.mean()) / (advantages.std(unbiased=False) + 1e-8)
    ratio = (logp_new - logp_old).exp()
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return torch.max(pg_loss1, pg_loss2).mean()


def ppo_loss_reciprocal_lower_bound(logp_new, logp_old, advantages, *, clip_eps):
    """BUG: lower clip bound 1/(1 + eps) (symmetric in log space) instead of 1 - eps."""
    ratio = (logp_new - logp_old).exp()
    clipped = torch.clamp(ratio, 1.0 / (1.0 + clip_eps), 1.0 + clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


# ----------------------------------------------------------------------------------------------------------------
# value losses
# ----------------------------------------------------------------------------------------------------------------


def value_loss_cleanrl(values_new, values_old, returns, *, clip_eps):
    """CleanRL's clipped value loss: 0.5 * mean(max(unclipped, clipped))."""
    v_loss_unclipped = (values_new - returns) ** 2
    v_clipped = values_old + torch.clamp(values_new - values_old, -clip_eps, clip_eps)
    v_loss_clipped = (v_clipped - returns) ** 2
    return 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()


def value_loss_numpy(values_new, values_old, returns, *, clip_eps):
    clipped = np.clip(values_new, values_old - clip_eps, values_old + clip_eps)
    return 0.5 * np.mean(np.maximum(np.square(values_new - returns), np.square(clipped - returns)))


def value_loss_without_half(values_new, values_old, returns, *, clip_eps):
    """BUG: the 1/2 in front of the squared error is missing."""
    v_loss_unclipped = (values_new - returns) ** 2
    v_clipped = values_old + torch.clamp(values_new - values_old, -clip_eps, clip_eps)
    return torch.max(v_loss_unclipped, (v_clipped - returns) ** 2).mean()


def value_loss_clipped_around_returns(values_new, values_old, returns, *, clip_eps):
    """BUG: the clipped prediction moves around the return, not around the old value."""
    v_loss_unclipped = (values_new - returns) ** 2
    v_clipped = values_old + torch.clamp(values_new - returns, -clip_eps, clip_eps)
    return 0.5 * torch.max(v_loss_unclipped, (v_clipped - returns) ** 2).mean()


def clipped_value_loss_sb3(values_new, values_old, returns, *, clip_eps):
    """SB3's form: the prediction clipped around the old value, then MSE to the returns."""
    values_pred = values_old + torch.clamp(values_new - values_old, -clip_eps, clip_eps)
    return F.mse_loss(returns, values_pred)


def clipped_value_loss_numpy(values_new, values_old, returns, *, clip_eps):
    pred = np.clip(values_new, values_old - clip_eps, values_old + clip_eps)
    return np.mean((returns - pred) ** 2)


def clipped_value_loss_huber(values_new, values_old, returns, *, clip_eps):
    """BUG: smooth L1 (Huber) where the contract's squared error belongs."""
    values_pred = values_old + torch.clamp(values_new - values_old, -clip_eps, clip_eps)
    return F.smooth_l1_loss(values_pred, returns)


def clipped_value_loss_ignores_clip(values_new, values_old, returns, *, clip_eps):
    """BUG: clip range accepted but never applied (as when clip_range_vf is None)."""
    return F.mse_loss(returns, values_new)


def unclipped_value_loss_torch(values_new, values_old, returns):
    """The paper's squared error, halved so that its gradient is the error."""
    return 0.5 * ((values_new - returns) ** 2).mean()


def unclipped_value_loss_numpy(values_new, values_old, returns):
    err = values_new - returns
    return 0.5 * float(err @ err) / len(err)


def unclipped_value_loss_to_old_values(values_new, values_old, returns):
    """BUG: regresses the new prediction onto the old one instead of the return target."""
    return 0.5 * ((values_new - values_old) ** 2).mean()


def unclipped_value_loss_detached(values_new, values_old, returns):
    """BUG: the prediction leaves the graph (a .detach() in the wrong place), so the critic never learns."""
    return 0.5 * ((values_new.detach() - returns) ** 2).mean()


# ----------------------------------------------------------------------------------------------------------------
# KL estimators (per sample, of KL(old || new) with samples from the old policy)
# ----------------------------------------------------------------------------------------------------------------


def kl_k1_numpy(logp_new, logp_old):
    return logp_old - logp_new


def kl_k1_prob_floor(logp_new, logp_old):
    """BUG: probabilities floored at 1e-4 "for numerical safety" before taking logs."""
    p_new = np.maximum(np.exp(logp_new), 1e-4)
    p_old = np.maximum(np.exp(logp_old), 1e-4)
    return np.log(p_old) - np.log(p_new)


def kl_k2_numpy(logp_new, logp_old):
    return 0.5 * (logp_new - logp_old) ** 2


def kl_k2_without_half(logp_new, logp_old):
    """BUG: the 1/2 of k2 is missing."""
    return (logp_new - logp_old) ** 2


def kl_k3_torch(logp_new, logp_old):
    """The approx_kl of CleanRL: (r - 1) - log r."""
    logratio = logp_new - logp_old
    return (logratio.exp() - 1) - logratio


def kl_k3_numpy(logp_new, logp_old):
    log_r = logp_new - logp_old
    return np.expm1(log_r) - log_r


def kl_k3_mixed_direction(logp_new, logp_old):
    """BUG: the ratio is pi_old/pi_new but the log term uses log(pi_new/pi_old) (one factor swapped)."""
    ratio = np.exp(logp_old - logp_new)
    return (ratio - 1) - (logp_new - logp_old)


def kl_k3_log_sign(logp_new, logp_old):
    """BUG: + log r instead of - log r."""
    log_r = logp_new - logp_old
    return np.expm1(log_r) + log_r


# ----------------------------------------------------------------------------------------------------------------
# adaptive KL coefficient
# ----------------------------------------------------------------------------------------------------------------


def adapt_kl_coef_paper(beta, kl, *, kl_target):
    if kl < kl_target / 1.5:
        beta = beta / 2
    elif kl > kl_target * 1.5:
        beta = beta * 2
    return beta


def adapt_kl_coef_numpy(beta, kl, *, kl_target):
    return float(np.select([kl < kl_target / 1.5, kl > 1.5 * kl_target], [0.5 * beta, 2.0 * beta], default=beta))


def adapt_kl_coef_no_band(beta, kl, *, kl_target):
    """BUG: no tolerance band: beta doubles above the target and halves below it."""
    return beta * 2 if kl > kl_target else beta / 2


def adapt_kl_coef_factor_one_and_a_half(beta, kl, *, kl_target):
    """BUG: the threshold factor 1.5 reused as the update factor (x1.5 / ÷1.5 instead of x2 / ÷2)."""
    if kl > kl_target * 1.5:
        return beta * 1.5
    if kl < kl_target / 1.5:
        return beta / 1.5
    return beta


def adapt_kl_coef_lower_threshold_typo(beta, kl, *, kl_target):
    """BUG: lower threshold typed as kl_target * 1.5, so beta halves anywhere below 1.5 * kl_target."""
    if kl > kl_target * 1.5:
        return beta * 2
    elif kl < kl_target * 1.5:
        return beta / 2
    return beta


# ----------------------------------------------------------------------------------------------------------------
# advantage normalisation
# ----------------------------------------------------------------------------------------------------------------


def normalize_advantages_baselines(advantages):
    """baselines/Spinning Up: population std plus 1e-8."""
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def normalize_advantages_sb3(advantages):
    """SB3 after its fix: unbiased std, and a minibatch of one left alone."""
    if len(advantages) > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    return advantages


def normalize_advantages_integer_mean(advantages):
    """BUG: the mean is taken with floor division."""
    mean = advantages.sum() // len(advantages)
    return (advantages - mean) / (advantages.std() + 1e-8)


def normalize_advantages_large_epsilon(advantages):
    """BUG: eps = 1e-4 added to the std: a visible shrink for small spreads."""
    return (advantages - advantages.mean()) / (advantages.std() + 1e-4)


def normalize_advantages_epsilon_in_sqrt(advantages):
    """BUG (subtle): TF-style moments with variance_epsilon = 1e-5 inside the square root."""
    mean, var = advantages.mean(), advantages.var()
    return (advantages - mean) / np.sqrt(var + 1e-5)


def normalize_advantages_by_variance(advantages):
    """BUG: divides by the variance instead of the standard deviation."""
    return (advantages - advantages.mean()) / (advantages.var() + 1e-8)
