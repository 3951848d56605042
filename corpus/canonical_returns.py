"""Returns and advantages in lineage's segment signature, the way a user's ``rl/returns.py`` would hold them.

    f(rewards, values, next_values, terminated, truncated, *, gamma, lam) -> [T] or [T, B]

Arrays are time-major; ``next_values[t]`` is V of the observation reached after step t (the final observation at
an episode end), ``terminated`` stops the bootstrap, ``terminated | truncated`` stops the recursion.
"""

from __future__ import annotations

import numpy as np
import torch

# ----------------------------------------------------------------------------------------------------------------
# GAE: correct
# ----------------------------------------------------------------------------------------------------------------


def gae_reverse_loop(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Plain reversed loop over time, numpy, works for [T] and [T, B]."""
    rewards = np.asarray(rewards, dtype=np.float64)
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - np.asarray(np.logical_or(terminated, truncated), dtype=np.float64)
    adv = np.zeros_like(rewards)
    last = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
        last = delta + gamma * lam * not_done[t] * last
        adv[t] = last
    return adv


def gae_discount_matrix(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Vectorised: A = W @ delta with W[t, k] = prod_{j=t}^{k-1} gamma*lam*(1 - done_j) for k >= t (O(T^2))."""
    r = np.asarray(rewards, dtype=np.float64)
    squeeze = r.ndim == 1
    r = r.reshape(len(r), -1)
    v = np.asarray(values, dtype=np.float64).reshape(r.shape)
    nv = np.asarray(next_values, dtype=np.float64).reshape(r.shape)
    term = np.asarray(terminated, dtype=bool).reshape(r.shape)
    done = term | np.asarray(truncated, dtype=bool).reshape(r.shape)
    deltas = r + gamma * np.where(term, 0.0, nv) - v
    steps, batch = r.shape
    out = np.empty_like(r)
    upper = np.triu(np.ones((steps, steps), dtype=bool), k=1)
    for b in range(batch):
        factors = gamma * lam * (~done[:, b])
        # factor matrix: row t holds 1 up to and including column t, then factors[k-1] at column k > t
        grid = np.where(upper, np.broadcast_to(np.concatenate([[1.0], factors[:-1]]), (steps, steps)), 1.0)
        weights = np.triu(np.cumprod(grid, axis=1))
        out[:, b] = weights @ deltas[:, b]
    return out[:, 0] if squeeze else out


def gae_torch(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """torch version (float32 tensors in, float32 out): deltas vectorised, carry in a loop."""
    nonterminal = (~terminated).to(rewards.dtype)
    nondone = (~(terminated | truncated)).to(rewards.dtype)
    deltas = rewards + gamma * nonterminal * next_values - values
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        lastgaelam = deltas[t] + gamma * lam * nondone[t] * lastgaelam
        advantages[t] = lastgaelam
    return advantages


def gae_per_episode(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Split each column at its episode ends and run a discounted cumsum per episode (1-D numpy loops)."""
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim == 2:
        columns = [
            gae_per_episode(
                r[:, b], values[:, b], next_values[:, b], terminated[:, b], truncated[:, b], gamma=gamma, lam=lam
            )
            for b in range(r.shape[1])
        ]
        return np.stack(columns, axis=1)
    deltas = r + gamma * np.where(terminated, 0.0, next_values) - values
    ends = list(np.flatnonzero(np.logical_or(terminated, truncated)) + 1)
    if not ends or ends[-1] != len(r):
        ends.append(len(r))
    adv, start = np.zeros_like(r), 0
    for stop in ends:
        acc = 0.0
        for t in range(stop - 1, start - 1, -1):
            acc = deltas[t] + gamma * lam * acc
            adv[t] = acc
        start = stop
    return adv


# ----------------------------------------------------------------------------------------------------------------
# GAE: buggy
# ----------------------------------------------------------------------------------------------------------------


def gae_lambda_on_delta(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: lam scales the TD error instead of the carried advantage."""
    rewards = np.asarray(rewards, dtype=np.float64)
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - np.asarray(np.logical_or(terminated, truncated), dtype=np.float64)
    adv = np.zeros_like(rewards)
    last = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
        last = lam * delta + gamma * not_done[t] * last
        adv[t] = last
    return adv


def gae_forward_loop(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: the loop runs forward in time, so the carry comes from the previous step, not the next one."""
    rewards = np.asarray(rewards, dtype=np.float64)
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - np.asarray(np.logical_or(terminated, truncated), dtype=np.float64)
    adv = np.zeros_like(rewards)
    last = np.zeros_like(rewards[0])
    for t in range(len(rewards)):
        delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
        last = delta + gamma * lam * not_done[t] * last
        adv[t] = last
    return adv


def gae_carry_ignores_truncation(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: the carry is reset only at terminations; after a time-limit cut the next episode leaks back."""
    rewards = np.asarray(rewards, dtype=np.float64)
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    adv = np.zeros_like(rewards)
    last = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
        last = delta + gamma * lam * not_term[t] * last
        adv[t] = last
    return adv


def gae_mask_on_current_value(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: the termination mask multiplies V(s_t) instead of V(s_{t+1})."""
    rewards = np.asarray(rewards, dtype=np.float64)
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - np.asarray(np.logical_or(terminated, truncated), dtype=np.float64)
    deltas = rewards + gamma * next_values - not_term * values
    adv = np.zeros_like(rewards)
    last = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        last = deltas[t] + gamma * lam * not_done[t] * last
        adv[t] = last
    return adv


def gae_normalized_on_return(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: normalises the advantages before returning them (belongs in the loss, per minibatch)."""
    adv = gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return (adv - adv.mean()) / (adv.std() + 1e-8)


def gae_discount_matrix_shifted(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: the vectorised weight from step t to k uses the masks of steps t+1..k instead of t..k-1."""
    r = np.asarray(rewards, dtype=np.float64)
    squeeze = r.ndim == 1
    r = r.reshape(len(r), -1)
    v = np.asarray(values, dtype=np.float64).reshape(r.shape)
    nv = np.asarray(next_values, dtype=np.float64).reshape(r.shape)
    term = np.asarray(terminated, dtype=bool).reshape(r.shape)
    done = term | np.asarray(truncated, dtype=bool).reshape(r.shape)
    deltas = r + gamma * np.where(term, 0.0, nv) - v
    steps, batch = r.shape
    out = np.empty_like(r)
    upper = np.triu(np.ones((steps, steps), dtype=bool), k=1)
    for b in range(batch):
        factors = gamma * lam * (~done[:, b])
        grid = np.where(upper, np.broadcast_to(factors, (steps, steps)), 1.0)
        weights = np.triu(np.cumprod(grid, axis=1))
        out[:, b] = weights @ deltas[:, b]
    return out[:, 0] if squeeze else out


def gae_float32_buffer(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: float64 in, but the advantages are accumulated (and returned) in a float32 buffer."""
    not_term = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - np.asarray(np.logical_or(terminated, truncated), dtype=np.float64)
    adv = np.zeros(np.shape(rewards), dtype=np.float32)
    last = np.zeros(np.shape(rewards)[1:], dtype=np.float32)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * not_term[t] * next_values[t] - values[t]
        last = (delta + gamma * lam * not_done[t] * last).astype(np.float32)
        adv[t] = last
    return adv


def gae_float32_buffer_cast_back(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: float32 accumulator inside a float64 function, cast back to float64 on return."""
    return gae_float32_buffer(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam).astype(
        np.float64
    )


# ----------------------------------------------------------------------------------------------------------------
# lambda-returns
# ----------------------------------------------------------------------------------------------------------------


def lambda_returns_recursive(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """TD(lambda) return directly: G_t = r_t + gamma*[(1-lam) V' + lam G_{t+1}] inside an episode."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    out = np.zeros_like(r)
    following = np.zeros_like(r[0])
    for t in reversed(range(len(r))):
        last_step = done[t] | (t == len(r) - 1)
        blended = np.where(last_step, next_values[t], (1 - lam) * next_values[t] + lam * following)
        following = r[t] + gamma * np.where(term[t], 0.0, blended)
        out[t] = following
    return out


def lambda_returns_from_gae_torch(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """returns = advantages + values, in torch."""
    return gae_torch(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam) + values


def lambda_returns_without_one_minus_lambda(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: the bootstrap term lacks its (1 - lam) weight: G_t = r_t + gamma*(V' + lam*G_{t+1})."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    out = np.zeros_like(r)
    following = np.zeros_like(r[0])
    for t in reversed(range(len(r))):
        last_step = done[t] | (t == len(r) - 1)
        blended = np.where(last_step, next_values[t], next_values[t] + lam * following)
        following = r[t] + gamma * np.where(term[t], 0.0, blended)
        out[t] = following
    return out


def lambda_returns_plus_next_values(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """BUG: returns = advantages + next_values (V(s_{t+1})) instead of + values (V(s_t))."""
    adv = gae_reverse_loop(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return adv + next_values


# ----------------------------------------------------------------------------------------------------------------
# discounted returns (reward-to-go, bootstrapped)
# ----------------------------------------------------------------------------------------------------------------


def discounted_returns_loop(rewards, next_values, terminated, truncated, *, gamma):
    """G_t = r_t + gamma*G_{t+1}, restarted at every episode end from the final observation's value."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    out = np.empty_like(r)
    g = np.zeros_like(r[0])
    for t in reversed(range(len(r))):
        bootstrap = np.where(term[t], 0.0, next_values[t])
        restart = done[t] | (t == len(r) - 1)
        g = r[t] + gamma * np.where(restart, bootstrap, g)
        out[t] = g
    return out


def discounted_returns_torch(rewards, next_values, terminated, truncated, *, gamma):
    """torch float32, carry masked with torch.where."""
    ends = terminated | truncated
    ends[-1] = True
    tail = torch.where(terminated, torch.zeros_like(next_values), next_values)
    returns = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * torch.where(ends[t], tail[t], running)
        returns[t] = running
    return returns


def discounted_returns_discount_first(rewards, next_values, terminated, truncated, *, gamma):
    """BUG: the discount is applied to the current reward too: G_t = gamma*(r_t + G_{t+1})."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    out = np.empty_like(r)
    g = np.zeros_like(r[0])
    for t in reversed(range(len(r))):
        bootstrap = np.where(term[t], 0.0, next_values[t])
        restart = done[t] | (t == len(r) - 1)
        g = gamma * (r[t] + np.where(restart, bootstrap, g))
        out[t] = g
    return out


def discounted_returns_absolute_powers(rewards, next_values, terminated, truncated, *, gamma):
    """BUG: rewards are weighted by gamma**k with k counted from the start of the segment, not from t."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    steps = len(r)
    powers = gamma ** np.arange(steps + 1, dtype=np.float64)
    out = np.empty_like(r)
    for t in range(steps):
        total = np.zeros_like(r[0])
        alive = np.ones_like(r[0], dtype=bool)
        for k in range(t, steps):
            total = total + alive * powers[k] * r[k]
            ending = alive & (done[k] | (k == steps - 1))
            total = total + ending * powers[k + 1] * np.where(term[k], 0.0, next_values[k])
            alive = alive & ~done[k]
        out[t] = total
    return out


def discounted_returns_no_reset_at_truncation(rewards, next_values, terminated, truncated, *, gamma):
    """BUG: the running return is only restarted at terminations: at a time-limit cut it carries on into the next
    episode (and the truncated step bootstraps nothing)."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    out = np.empty_like(r)
    g = np.zeros_like(r[0])
    for t in reversed(range(len(r))):
        if t == len(r) - 1:
            g = r[t] + gamma * np.where(term[t], 0.0, next_values[t])
        else:
            g = r[t] + gamma * np.where(term[t], 0.0, g)
        out[t] = g
    return out


# ----------------------------------------------------------------------------------------------------------------
# TD errors and n-step advantages
# ----------------------------------------------------------------------------------------------------------------


def td_errors_numpy(rewards, values, next_values, terminated, *, gamma):
    return rewards + gamma * np.where(terminated, 0.0, next_values) - values


def td_errors_torch(rewards, values, next_values, terminated, *, gamma):
    return rewards + gamma * (~terminated).float() * next_values - values


def td_errors_flags_swapped(rewards, values, next_values, terminated, *, gamma):
    """BUG: keeps the bootstrap only where the step terminated (mask inverted: `terminated` where `~terminated`)."""
    return rewards + gamma * np.where(terminated, next_values, 0.0) - values


def td_errors_gamma_on_both_values(rewards, values, next_values, terminated, *, gamma):
    """BUG: gamma factored over both values: r + gamma*((1 - d) V' - V)."""
    return rewards + gamma * (np.where(terminated, 0.0, next_values) - values)


def n_step_advantages_loop(rewards, values, next_values, terminated, truncated, *, gamma, n):
    """For each t sum up to n rewards inside t's episode, then bootstrap unless the episode terminated."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    steps = len(r)
    out = np.empty_like(r)
    for t in range(steps):
        total = np.zeros_like(r[0])
        alive = np.ones_like(r[0], dtype=bool)
        for k in range(n):
            s = t + k
            if s >= steps:
                break
            total = total + alive * gamma**k * r[s]
            stop = alive & (done[s] | (k == n - 1) | (s == steps - 1))
            total = total + stop * gamma ** (k + 1) * np.where(term[s], 0.0, next_values[s])
            alive = alive & ~stop
        out[t] = total - values[t]
    return out


def n_step_advantages_from_deltas(rewards, values, next_values, terminated, truncated, *, gamma, n):
    """A^(n)_t = sum_{l<n} gamma^l delta_{t+l}, the sum cut at t's episode end; vectorised over t with a lag loop."""
    r = np.asarray(rewards, dtype=np.float64)
    deltas = r + gamma * np.where(terminated, 0.0, next_values) - values
    done = np.logical_or(terminated, truncated)
    steps = len(r)
    out = deltas.copy()
    alive = ~done  # alive[t]: t's episode goes on at least to the step at the current lag
    for lag in range(1, min(n, steps)):
        shifted = np.zeros_like(deltas)
        shifted[: steps - lag] = deltas[lag:]
        out = out + (gamma**lag) * alive * shifted
        more = np.zeros_like(alive)
        more[: steps - lag] = ~done[lag:]
        alive = alive & more
    return out


def n_step_advantages_sums_n_plus_one(rewards, values, next_values, terminated, truncated, *, gamma, n):
    """BUG: off by one in the look-ahead: sums the TD errors of lags 0..n (n + 1 terms)."""
    return n_step_advantages_from_deltas(rewards, values, next_values, terminated, truncated, gamma=gamma, n=n + 1)


def n_step_advantages_bootstrap_power(rewards, values, next_values, terminated, truncated, *, gamma, n):
    """BUG: the bootstrap value is discounted with gamma**(k-1) instead of gamma**k after k rewards."""
    r = np.asarray(rewards, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    done = term | np.asarray(truncated, dtype=bool)
    steps = len(r)
    out = np.empty_like(r)
    for t in range(steps):
        total = np.zeros_like(r[0])
        alive = np.ones_like(r[0], dtype=bool)
        for k in range(n):
            s = t + k
            if s >= steps:
                break
            total = total + alive * gamma**k * r[s]
            stop = alive & (done[s] | (k == n - 1) | (s == steps - 1))
            total = total + stop * gamma**k * np.where(term[s], 0.0, next_values[s])
            alive = alive & ~stop
        out[t] = total - values[t]
    return out
