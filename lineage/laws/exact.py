"""Exact-rational evaluation of the return/advantage formulas: the reference tier of the laws.

Every float is a dyadic rational, so converting inputs to ``Fraction`` and evaluating the formulas
exactly gives the mathematically correct answer for the given floats; a law then only has to allow
for the target's own rounding (see :mod:`lineage.laws.tolerance`). The formulas are written
from their definitions (explicit sums where the claim is an explicit sum), independent of how
lineage implements them. Functions take one 1-D :class:`Segment`; :func:`evaluate` maps them over
the columns of a batched segment.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from lineage.laws.cases.losses import AdvantageBatch, ClipCase, KLCoefCase, KLSamples, TokenRewardCase, ValueCase
from lineage.laws.cases.pg import ReinforceBatch
from lineage.laws.cases.segments import Segment


def evaluate(formula: Callable[..., list[Fraction]], segment: Segment, *args) -> np.ndarray:
    """``formula(column, *args)`` for every column, as a float64 array shaped like the segment."""
    columns = [[float(x) for x in formula(column, *args)] for column in segment.columns()]
    out = np.array(columns, dtype=np.float64).T
    return out if segment.batched else out[:, 0]


def episode_ends(segment: Segment) -> list[int]:
    """For each t, the last step of t's episode inside the segment (first done at or after t)."""
    ends, end = [0] * segment.length, segment.length - 1
    for t in reversed(range(segment.length)):
        if segment.terminated[t] or segment.truncated[t]:
            end = t
        ends[t] = end
    return ends


def td_errors(segment: Segment, gamma: float) -> list[Fraction]:
    """δ_t = r_t + γ(1 − terminated_t) V(s_{t+1}) − V(s_t)."""
    g = Fraction(gamma)
    return [
        Fraction(r) + (0 if term else g * Fraction(nv)) - Fraction(v)
        for r, v, nv, term in zip(segment.rewards, segment.values, segment.next_values, segment.terminated, strict=True)
    ]


def discounted_sum(base: Fraction, terms: list[Fraction], start: int, stop: int) -> Fraction:
    """Σ_{l=0}^{stop−start} base^l · terms[start + l], summed term by term."""
    total, weight = Fraction(0), Fraction(1)
    for t in range(start, stop + 1):
        total += weight * terms[t]
        weight *= base
    return total


def episode_suffix_sums(base: Fraction, terms: list[Fraction], ends: list[int]) -> list[Fraction]:
    """Σ_{l=0}^{end_t−t} base^l · terms[t + l] for every t, by Horner's rule from the episode's end."""
    out: list[Fraction] = [Fraction(0)] * len(terms)
    for t in reversed(range(len(terms))):
        out[t] = terms[t] + (base * out[t + 1] if t < ends[t] else 0)
    return out


def reward_to_go(segment: Segment, gamma: float) -> list[Fraction]:
    """G_t = Σ_{l=0}^{L} γ^l r_{t+l} + γ^{L+1}(1 − terminated_{t+L}) V(s_{t+L+1}), L = end of episode − t."""
    g, ends = Fraction(gamma), episode_ends(segment)
    terms = [
        Fraction(r) + (g * Fraction(nv) if t == ends[t] and not term else 0)
        for t, (r, nv, term) in enumerate(zip(segment.rewards, segment.next_values, segment.terminated, strict=True))
    ]
    return episode_suffix_sums(g, terms, ends)


def gae(segment: Segment, gamma: float, lam: float) -> list[Fraction]:
    """A_t = Σ_{l=0}^{L} (γλ)^l δ_{t+l}, L = end of t's episode − t."""
    return episode_suffix_sums(Fraction(gamma) * Fraction(lam), td_errors(segment, gamma), episode_ends(segment))


def gae_explicit_sum(segment: Segment, gamma: float, lam: float) -> list[Fraction]:
    """The same sum written out term by term for every t (PPO eq. 11 with exponent T − t − 1)."""
    deltas, ends = td_errors(segment, gamma), episode_ends(segment)
    base = Fraction(gamma) * Fraction(lam)
    return [discounted_sum(base, deltas, t, end) for t, end in enumerate(ends)]


def n_step_advantages(segment: Segment, gamma: float, n: int) -> list[Fraction]:
    """A^(n)_t = −V(s_t) + Σ_{l<m} γ^l r_{t+l} + γ^m (1 − terminated_{t+m−1}) V(s_{t+m}),
    m = min(n, steps left in t's episode): the right-hand side of the k-step identity."""
    g, rewards, ends = Fraction(gamma), [Fraction(r) for r in segment.rewards], episode_ends(segment)
    out = []
    for t, end in enumerate(ends):
        last = min(t + n - 1, end)
        bootstrap = 0 if segment.terminated[last] else Fraction(segment.next_values[last])
        value = discounted_sum(g, rewards, t, last) + g ** (last - t + 1) * bootstrap
        out.append(value - Fraction(segment.values[t]))
    return out


def k_step_mixture(segment: Segment, gamma: float, lam: float) -> list[Fraction]:
    """(1 − λ) Σ_{k=1}^{L} λ^{k−1} A^(k)_t + λ^L A^(L+1)_t, L = end of t's episode − t: the finite
    segment's λ-weighted average of k-step advantages, remaining weight on the longest one."""
    ell, ends = Fraction(lam), episode_ends(segment)
    horizon = max(end - t for t, end in enumerate(ends)) + 1
    by_k = [n_step_advantages(segment, gamma, k) for k in range(1, horizon + 1)]
    out = []
    for t, end in enumerate(ends):
        longest = end - t
        mixed = sum(((1 - ell) * ell ** (k - 1) * by_k[k - 1][t] for k in range(1, longest + 1)), Fraction(0))
        out.append(mixed + ell**longest * by_k[longest][t])
    return out


# --------------------------------------------------------------------------------------------------
# Exact outputs
# --------------------------------------------------------------------------------------------------


def ppo_clip_loss(case: ClipCase) -> np.ndarray:
    """−mean(A·min(ρ, 1 + ε)) over A ≥ 0 and A·max(ρ, 1 − ε) over A < 0: min(ρA, clip(ρ)A) piecewise."""
    a, ratios = case.inputs()["advantages"], case.ratios()
    kept = np.where(a >= 0, np.minimum(ratios, 1 + case.clip_eps), np.maximum(ratios, 1 - case.clip_eps))
    return np.array(-np.mean(a * kept))


def value_loss(case: ValueCase) -> np.ndarray:
    """½·mean max((V − R)², (V_clip − R)²) (baselines ppo2, CleanRL)."""
    a = case.inputs()
    return np.array(
        0.5 * np.mean(np.maximum((a["values_new"] - a["returns"]) ** 2, (case.clipped() - a["returns"]) ** 2))
    )


def unclipped_value_loss(case: ValueCase) -> np.ndarray:
    """½·mean (V − R)² (the PPO paper's squared error, halved as CleanRL does)."""
    a = case.inputs()
    return np.array(0.5 * np.mean((a["values_new"] - a["returns"]) ** 2))


def clipped_value_loss(case: ValueCase) -> np.ndarray:
    """mean (V_clip − R)² (Stable-Baselines3 with clip_range_vf)."""
    return np.array(np.mean((case.clipped() - case.inputs()["returns"]) ** 2))


def kl_estimator(estimator: str):
    """k1 = −log r, k2 = ½(log r)², k3 = (r − 1) − log r with log r = log π_new − log π_old."""

    def evaluate(case: KLSamples) -> np.ndarray:
        a = case.inputs()
        log_ratio = a["logp_new"] - a["logp_old"]
        return {
            "k1": -log_ratio,
            "k2": 0.5 * log_ratio**2,
            "k3": np.expm1(log_ratio) - log_ratio,
        }[estimator]

    return evaluate


def adapt_kl_coef(case: KLCoefCase) -> np.ndarray:
    """β/2 if d < d_targ/1.5, 2β if d > 1.5·d_targ, else β (PPO paper, §4)."""
    if case.kl < case.kl_target / 1.5:
        return np.array(case.beta / 2)
    return np.array(case.beta * 2 if case.kl > 1.5 * case.kl_target else case.beta)


def normalized_advantages(case: AdvantageBatch, ddof: int = 1) -> np.ndarray:
    """(A − mean A)/std_ddof A with the unbiased std (ddof = 1: SB3, CleanRL, Tianshou; the laws accept ddof = 0
    too), and 0 where the batch has no spread (one entry, or all equal)."""
    a = case.inputs()["advantages"]
    if a.size - ddof < 1 or a.min() == a.max():
        return np.zeros_like(a)
    return (a - a.mean()) / a.std(ddof=ddof)


def token_rewards(case: TokenRewardCase) -> np.ndarray:
    """r_t = −β(log π − log π_ref) on valid tokens, 0 on padding, plus the score on each row's last valid token."""
    a = case.inputs()
    rewards = np.where(a["mask"], -case.beta * (a["logp"] - a["ref_logp"]), 0.0)
    rewards[np.arange(len(rewards)), case.last_valid()] += a["scores"]
    return rewards


def reinforce_gradient(case: ReinforceBatch) -> np.ndarray:
    """(1/N) Σ_n Σ_t γ^t (Σ_{t' ≥ t} γ^{t'−t} r_{n,t'}) ∇log π_{n,t}: the mean of the C1 REINFORCE estimates, summed
    term by term."""
    a = case.inputs()
    scores, rewards, g = a["scores"], a["rewards"], case.gamma
    n_episodes, horizon = rewards.shape
    total = np.zeros(scores.shape[-1])
    for n in range(n_episodes):
        for t in range(horizon):
            to_go = sum(g ** (u - t) * rewards[n, u] for u in range(t, horizon))
            total += g**t * to_go * scores[n, t]
    return total / n_episodes
