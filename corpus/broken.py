"""Broken targets in lineage's signatures: they raise, hang, exit, write into their inputs, return the wrong thing
or are not even of the right signature. The oracle must report each as a failure with a clear message; it must
not hang, crash or pass."""

from __future__ import annotations

import sys

import numpy as np
import torch

from corpus.canonical_returns import gae_reverse_loop


def gae_cleanrl_signature(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """BROKEN (for the canonical convention): a CleanRL-signature function checked as canonical."""
    advantages = np.zeros_like(rewards)
    lastgaelam = 0.0
    for t in reversed(range(len(rewards))):
        nextnonterminal = 1.0 - (next_done if t == len(rewards) - 1 else dones[t + 1])
        nextvalues = next_value if t == len(rewards) - 1 else values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
    return advantages


def gae_expects_torch(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: written for torch tensors (.clone(), .float()), handed numpy arrays."""
    not_term = (~terminated).float()
    not_done = (~(terminated | truncated)).float()
    adv = rewards.clone()
    last = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
        last = delta + gamma * lam * not_done[t] * last
        adv[t] = last
    return adv


def gae_scalar_steps(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: only 1-D input: float() of each step fails on a [T, B] batch."""
    adv = [0.0] * len(rewards)
    last = 0.0
    for t in reversed(range(len(rewards))):
        r, v, nv = float(rewards[t]), float(values[t]), float(next_values[t])
        delta = r + gamma * (0.0 if terminated[t] else nv) - v
        last = delta + (0.0 if (terminated[t] or truncated[t]) else gamma * lam * last)
        adv[t] = last
    return np.array(adv)


def gae_returns_pair(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: returns (advantages, returns) where the contract wants the advantages alone."""
    adv = gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return adv, adv + values


def gae_returns_dict(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: returns a dict of arrays."""
    adv = gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return {"advantages": adv, "returns": adv + values}


def gae_fills_buffer(rewards, values, next_values, terminated, truncated, *, gamma, lam, out=None):
    """BROKEN: fills an output buffer and returns nothing (the buffer is a local one when none is passed)."""
    out = np.zeros_like(rewards) if out is None else out
    out[...] = gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


def gae_geometric_horizon(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: hangs when gamma * lam == 1: the horizon of the geometric kernel is found by a while loop that
    waits for the weight to drop below 1e-8."""
    horizon, weight = 0, 1.0
    while weight > 1e-8:
        weight *= gamma * lam
        horizon += 1
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    alive = ~np.logical_or(terminated, truncated)
    steps = len(rewards)
    out = deltas.copy()
    keep = alive.copy()
    for lag in range(1, min(horizon, steps)):
        shifted = np.zeros_like(deltas)
        shifted[: steps - lag] = deltas[lag:]
        out = out + (gamma * lam) ** lag * keep * shifted
        more = np.zeros_like(keep)
        more[: steps - lag] = alive[lag:]
        keep = keep & more
    return out


def gae_windowed(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: processes the segment backwards in windows of 4 steps; the window start is recomputed from the
    window's end instead of moved, so it spins forever once T >= 5."""
    rewards = np.asarray(rewards, dtype=np.float64)
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - np.asarray(np.logical_or(terminated, truncated), dtype=np.float64)
    adv = np.zeros_like(rewards)
    carry = np.zeros_like(rewards[0])
    window, end = 4, len(rewards)
    while end > 0:
        start = max(end - window, 0)
        for t in range(end - 1, start - 1, -1):
            delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
            carry = delta + gamma * lam * not_done[t] * carry
            adv[t] = carry
        end = start if start == 0 else start + window
    return adv


def gae_rescaled_cumsum(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: "vectorised" GAE as (gl)^-t * reversed-cumsum((gl)^t * delta) inside each episode: 0/0 = NaN when
    gamma * lam = 0, overflow for long episodes with small gamma * lam."""
    if np.ndim(rewards) == 2:
        columns = [
            gae_rescaled_cumsum(
                rewards[:, b], values[:, b], next_values[:, b], terminated[:, b], truncated[:, b], gamma=gamma, lam=lam
            )
            for b in range(np.shape(rewards)[1])
        ]
        return np.stack(columns, axis=1)
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    done = np.logical_or(terminated, truncated)
    out = np.empty_like(deltas)
    start = 0
    with np.errstate(all="ignore"):
        for stop in [*list(np.flatnonzero(done[:-1]) + 1), len(deltas)]:
            powers = (gamma * lam) ** np.arange(stop - start, dtype=np.float64)
            out[start:stop] = np.cumsum((powers * deltas[start:stop])[::-1])[::-1] / powers
            start = stop
    return out


def gae_undefined_at_gamma_one(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: logs the effective horizon 1 / (1 - gamma), a ZeroDivisionError at gamma = 1."""
    effective_horizon = 1.0 / (1.0 - gamma)
    if effective_horizon < 1:
        raise ValueError("gamma must be in [0, 1)")
    return gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


def gae_transposed(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: returns batch-major [B, T] for a time-major [T, B] segment."""
    return gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam).T


def discounted_returns_exits(rewards, next_values, terminated, truncated, *, gamma):
    """BROKEN: calls sys.exit() on a discount it considers invalid (gamma = 1 "would never converge")."""
    if gamma >= 1.0:
        print("error: gamma must be < 1", file=sys.stderr)
        sys.exit(1)
    out = np.empty_like(rewards)
    g = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        restart = terminated[t] | truncated[t] | (t == len(rewards) - 1)
        g = rewards[t] + gamma * np.where(restart, np.where(terminated[t], 0.0, next_values[t]), g)
        out[t] = g
    return out


def td_errors_interrupts(rewards, values, next_values, terminated, *, gamma):
    """BROKEN: a debugging hook left in: raises KeyboardInterrupt ("stop here") when a reward is exactly zero."""
    if np.any(rewards == 0.0):
        raise KeyboardInterrupt("zero reward: stopping to inspect")
    return rewards + gamma * np.where(terminated, 0.0, next_values) - values


def td_errors_single_env(rewards, values, next_values, terminated, *, gamma):
    """BROKEN: written for one environment: the final bootstrap value is read with .item(), which raises on a
    [T, B] batch with B > 1."""
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    final = next_values[-1].item() * (not terminated[-1])
    deltas[-1] = rewards[-1] + gamma * final - values[-1]
    return deltas


def gae_bool_mask_subtraction(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: "ended by termination only" computed as done - truncated, a bool subtraction numpy refuses."""
    done = terminated | truncated
    terminal_only = done - truncated
    deltas = rewards + gamma * (1 - terminal_only) * next_values - values
    adv = np.zeros_like(deltas)
    last = np.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        last = deltas[t] + gamma * lam * (1 - done[t]) * last
        adv[t] = last
    return adv


def kl_k1_batch_mean(logp_new, logp_old):
    """BROKEN: returns the batch mean (a scalar) instead of one estimate per sample."""
    return np.mean(logp_old - logp_new)


def ppo_loss_keepdim(logp_new, logp_old, advantages, *, clip_eps):
    """BROKEN: keeps a dimension: shape (1,) instead of a scalar."""
    ratio = (logp_new - logp_old).exp()
    surrogate = torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages)
    return -surrogate.mean(dim=0, keepdim=True)


def ppo_loss_numpy_only(logp_new, logp_old, advantages, *, clip_eps):
    """BROKEN: written for numpy arrays (.astype), handed the torch tensors of the canonical loss contract."""
    ratio = np.exp((logp_new - logp_old).astype(np.float64))
    clipped = np.clip(ratio, 1 - clip_eps, 1 + clip_eps)
    return -np.mean(np.minimum(ratio * advantages, clipped * advantages))


def adapt_kl_coef_until_in_band(beta, kl, *, kl_target):
    """BROKEN: "adapts" in a loop until the KL is inside the band -- but the KL does not depend on beta here, so it
    loops forever whenever the KL is outside the band (the preflight's input is)."""
    while kl > 1.5 * kl_target or kl < kl_target / 1.5:
        beta = beta * 2 if kl > 1.5 * kl_target else beta / 2
        beta = min(max(beta, 1e-6), 1e6)
    return beta


def normalize_advantages_jitter(advantages):
    """BROKEN: adds tiny random noise "so the std is never zero": not deterministic."""
    noisy = advantages + 1e-6 * np.random.standard_normal(advantages.shape)
    return (noisy - noisy.mean()) / (noisy.std() + 1e-8)


def value_loss_inplace(values_new, values_old, returns, *, clip_eps):
    """BROKEN: subtracts in place into values_new (an in-place op on the caller's tensor)."""
    clipped = values_old + torch.clamp(values_new - values_old, -clip_eps, clip_eps)
    unclipped = values_new.sub_(returns).pow(2)
    return 0.5 * torch.max(unclipped, (clipped - returns) ** 2).mean()


def token_rewards_inplace(scores, logp, ref_logp, mask, *, beta):
    """BROKEN: turns logp into the KL in place (logp -= ref_logp) to save a buffer."""
    logp -= ref_logp
    rewards = np.where(mask, -beta * logp, 0.0)
    last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
    rewards[np.arange(len(scores)), last] += scores
    return rewards


def lambda_returns_int_output(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BROKEN: rounds the returns to integers for "compact logging" into an int array."""
    adv = gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return np.rint(adv + values).astype(np.int64)
