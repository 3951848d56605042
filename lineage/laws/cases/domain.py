"""The domain of every contract, as data: the corners its strategies must reach, and how they reach them.

A strategy narrower than its contract lets a real bug pass: a mask drawn only right-padded never shows code that
assumes right padding, ratios drawn within [e^−1, e] never reach a dual-clip bound at 3. So each contract lists the
corners of its domain — shapes, parameter ends, flag patterns, mask layouts, ratio magnitudes, both sides of each
clip band and threshold, batches with and without spread — each with a predicate on a drawn case and the way the
strategy draws it. ``tests/test_strategy_coverage.py`` finds every corner in its strategy with ``hypothesis.find``;
``python -m lineage.laws.cases.domain`` prints the table.

A law may draw from a narrower strategy derived from these (λ = 0 only, ratios away from the kinks of a derivative
checked by finite differences, a split at an episode end): that restriction is the law's statement, not an accident.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis.strategies import SearchStrategy

from lineage.laws.cases.losses import (
    AdvantageBatch,
    ClipCase,
    KLSamples,
    TokenRewardCase,
    TwoDistributions,
    ValueCase,
    advantage_batches,
    clip_cases,
    degenerate_batches,
    distribution_pairs,
    kl_coef_cases,
    kl_samples,
    token_reward_cases,
    value_cases,
)
from lineage.laws.cases.optim import (
    distinct_eigenvalue_systems,
    failing_line_search_cases,
    fisher_cases,
    line_search_cases,
    spd_systems,
)
from lineage.laws.cases.pg import (
    EpisodicPolicy,
    ReinforceBatch,
    episodic_policies,
    reinforce_batches,
    reward_mixes,
)
from lineage.laws.cases.segments import SegmentCase, contract_cases

EPS64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Corner:
    name: str
    holds: Callable[[Any], bool]  # whether a drawn case lies in this corner
    how: str  # how the strategy draws it


@dataclass(frozen=True)
class Domain:
    strategy: str  # the strategy as the laws call it
    cases: Callable[[], SearchStrategy]
    corners: tuple[Corner, ...]


def at(value: float, edge: float) -> bool:
    """``value`` is ``edge`` as the strategy drew it (within a few roundings of its size)."""
    return abs(value - edge) <= 4 * EPS64 * max(abs(edge), 1.0)


# --------------------------------------------------------------------------------------------------
# Return and advantage contracts: rollout segments
# --------------------------------------------------------------------------------------------------
def _flags(case: SegmentCase) -> tuple[np.ndarray, np.ndarray]:
    a = case.segment.arrays()
    return a["terminated"], a["truncated"]


def _width(case: SegmentCase) -> int:
    return len(case.segment.rewards[0]) if case.segment.batched else 0


def _inner_end(case: SegmentCase) -> bool:
    terminated, truncated = _flags(case)
    return bool(np.any((terminated | truncated)[:-1]))


SEGMENT_CORNERS = (
    Corner("T = 1", lambda c: c.segment.length == 1, "steps drawn as a list of 1..64"),
    Corner("T ≥ 16", lambda c: c.segment.length >= 16, "steps drawn as a list of 1..64"),
    Corner("shape [T]", lambda c: not c.segment.batched, "B = 0 gives a [T] segment"),
    Corner("shape [T, B], B = 1", lambda c: _width(c) == 1, "B ∈ [0, 3]"),
    Corner("shape [T, B], B ≥ 2", lambda c: _width(c) >= 2, "B ∈ [0, 3]"),
    Corner("γ = 0", lambda c: c.gamma == 0.0, "unit_interval: an end a quarter of the time"),
    Corner("γ = 1", lambda c: c.gamma == 1.0, "unit_interval: an end a quarter of the time"),
    Corner("0 < γ < 1", lambda c: 0.0 < c.gamma < 1.0, "unit_interval: interior"),
    Corner("no episode end", lambda c: not any(np.any(f) for f in _flags(c)), "flag pattern 'none'"),
    Corner("every step terminated", lambda c: bool(np.all(_flags(c)[0])), "flag pattern 'all terminated'"),
    Corner(
        "every step truncated (only)",
        lambda c: bool(np.all(_flags(c)[1]) and not np.any(_flags(c)[0])),
        "flag pattern 'all truncated'",
    ),
    Corner("every step both flags", lambda c: bool(np.all(_flags(c)[0] & _flags(c)[1])), "flag pattern 'all both'"),
    Corner(
        "mixed: terminated-only and truncated-only steps in one segment",
        lambda c: bool(np.any(_flags(c)[0] & ~_flags(c)[1]) and np.any(_flags(c)[1] & ~_flags(c)[0])),
        "flag pattern 'mixed' (two bits per step)",
    ),
    Corner(
        "mixed: a step with both flags next to steps without",
        lambda c: bool(np.any(_flags(c)[0] & _flags(c)[1]) and np.any(~_flags(c)[0] & ~_flags(c)[1])),
        "flag pattern 'mixed'",
    ),
    Corner("an episode end before the last step", _inner_end, "flag pattern 'mixed' or constant with T ≥ 2"),
    Corner(
        "last step not done (bootstrap at the cut)",
        lambda c: not bool(np.any(_flags(c)[0][-1] | _flags(c)[1][-1])),
        "flags drawn per step",
    ),
    Corner(
        "rewards of both signs",
        lambda c: bool(np.any(c.segment.arrays()["rewards"] > 0) and np.any(c.segment.arrays()["rewards"] < 0)),
        "numbers in [−10, 10]",
    ),
)
LAMBDA_CORNERS = (
    Corner("λ = 0", lambda c: c.lam == 0.0, "unit_interval: an end a quarter of the time"),
    Corner("λ = 1", lambda c: c.lam == 1.0, "unit_interval: an end a quarter of the time"),
    Corner("0 < λ < 1", lambda c: 0.0 < c.lam < 1.0, "unit_interval: interior"),
    Corner("γ = 1 and λ = 1 (no discount at all)", lambda c: c.gamma == 1.0 and c.lam == 1.0, "both ends drawn"),
)
N_CORNERS = (
    Corner("n = 1", lambda c: c.n == 1, "n ∈ [1, 70]"),
    Corner("1 < n < T", lambda c: 1 < c.n < c.segment.length, "n ∈ [1, 70]"),
    Corner("n = T", lambda c: c.n == c.segment.length, "n ∈ [1, 70], T ∈ [1, 64]"),
    Corner("n > T", lambda c: c.n > c.segment.length, "n ∈ [1, 70], T ∈ [1, 64]"),
)


def _segment_domain(contract: str, extra: tuple[Corner, ...] = ()) -> Domain:
    return Domain(f"contract_cases({contract!r})", lambda: contract_cases(contract), SEGMENT_CORNERS + extra)


# --------------------------------------------------------------------------------------------------
# PPO losses
# --------------------------------------------------------------------------------------------------
def _clip(case: ClipCase) -> tuple[np.ndarray, np.ndarray, float]:
    return case.inputs()["advantages"], case.ratios(), case.clip_eps


def _any(predicate: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> Callable[[ClipCase], bool]:
    return lambda case: bool(np.any(predicate(*_clip(case))))


def _at_edge(ratios: np.ndarray, edge: float) -> np.ndarray:
    return np.abs(ratios - edge) <= 4 * EPS64 * edge


CLIP_CORNERS = (
    Corner("N = 1", lambda c: len(c.advantages) == 1, "N ∈ [1, 8]"),
    Corner("N ≥ 2", lambda c: len(c.advantages) >= 2, "N ∈ [1, 8]"),
    Corner("ε ≤ 0.05", lambda c: c.clip_eps <= 0.05, "clip_ranges: [0.01, 0.9]"),
    Corner("ε ≥ 0.5", lambda c: c.clip_eps >= 0.5, "clip_ranges: [0.01, 0.9]"),
    Corner("ε = 0.2 (the paper's)", lambda c: c.clip_eps == 0.2, "clip_ranges: 0.1, 0.2, 0.3 often"),
    Corner("A = 0", _any(lambda a, r, e: a == 0), "advantages: 0 drawn on purpose"),
    Corner(
        "A > 0 and A < 0 in one batch", lambda c: min(c.advantages) < 0 < max(c.advantages), "advantages per sample"
    ),
    Corner("ρ = 1 exactly", lambda c: any(n == o for n, o in zip(c.logp_new, c.logp_old, strict=True)), "log-ratio 0"),
    Corner("ρ = 1 + ε (as rounded)", _any(lambda a, r, e: _at_edge(r, 1 + e)), "log-ratio log1p(ε)"),
    Corner("ρ = 1 − ε (as rounded)", _any(lambda a, r, e: _at_edge(r, 1 - e)), "log-ratio log1p(−ε)"),
    Corner(
        "ρ strictly inside the band, ≠ 1", _any(lambda a, r, e: (np.abs(r - 1) < e) & (r != 1)), "log-ratio in [−1, 1]"
    ),
    Corner("A > 0, ρ > 1 + ε: clip binds (gradient 0)", _any(lambda a, r, e: (a > 0) & (r > 1 + e)), "both drawn"),
    Corner("A < 0, ρ < 1 − ε: clip binds (gradient 0)", _any(lambda a, r, e: (a < 0) & (r < 1 - e)), "both drawn"),
    Corner("A > 0, ρ < 1 − ε: unclipped below the band", _any(lambda a, r, e: (a > 0) & (r < 1 - e)), "both drawn"),
    Corner("A < 0, ρ > 1 + ε: unclipped above the band", _any(lambda a, r, e: (a < 0) & (r > 1 + e)), "both drawn"),
    Corner("ρ ≥ e^3 ≈ 20", _any(lambda a, r, e: r >= math.exp(3)), "log-ratio in [−5, 5]"),
    Corner("ρ ≤ e^−3 ≈ 0.05", _any(lambda a, r, e: r <= math.exp(-3)), "log-ratio in [−5, 5]"),
    Corner("A < 0, ρ > 3 (dual-clip bound c = 3 active)", _any(lambda a, r, e: (a < 0) & (r > 3)), "log-ratio ≤ 5"),
)


def _value(case: ValueCase) -> dict[str, np.ndarray]:
    a = case.inputs()
    v, old, r = a["values_new"], a["values_old"], a["returns"]
    clipped = case.clipped()
    return {
        "moved": v - old,
        "unclipped": (v - r) ** 2,
        "clipped": (clipped - r) ** 2,
        "outside": (v != clipped),
        "v": v,
        "old": old,
        "r": r,
    }


def _some(predicate: Callable[[dict[str, np.ndarray], float], np.ndarray]) -> Callable[[ValueCase], bool]:
    return lambda case: bool(np.any(predicate(_value(case), case.clip_eps)))


VALUE_CORNERS = (
    Corner("N = 1", lambda c: len(c.returns) == 1, "N ∈ [1, 8]"),
    Corner("N ≥ 2", lambda c: len(c.returns) >= 2, "N ∈ [1, 8]"),
    Corner("ε < 0.5 (policy-like)", lambda c: c.clip_eps < 0.5, "clip_ranges"),
    Corner("ε ≥ 1 (value units)", lambda c: c.clip_eps >= 1.0, "ε ∈ [0.5, 5]"),
    Corner(
        "V_new strictly inside the band, ≠ V_old",
        _some(lambda x, e: (np.abs(x["moved"]) < e) & (x["moved"] != 0)),
        "V_old + f·ε, |f| < 1",
    ),
    Corner("V_new = V_old", _some(lambda x, e: x["moved"] == 0), "edge 'V_old'"),
    Corner("V_new = V_old + ε exactly", _some(lambda x, e: x["v"] == x["old"] + e), "edge 'V_old + ε'"),
    Corner("V_new = V_old − ε exactly", _some(lambda x, e: x["v"] == x["old"] - e), "edge 'V_old − ε'"),
    Corner("V_new above the band", _some(lambda x, e: x["moved"] > e), "V_new anywhere in [−10, 10]"),
    Corner("V_new below the band", _some(lambda x, e: x["moved"] < -e), "V_new anywhere in [−10, 10]"),
    Corner(
        "clipped error strictly larger (max takes it: gradient 0)",
        _some(lambda x, e: x["clipped"] > x["unclipped"]),
        "V_new outside the band, R beyond V_new",
    ),
    Corner(
        "outside the band, unclipped error strictly larger",
        _some(lambda x, e: x["outside"] & (x["unclipped"] > x["clipped"])),
        "V_new outside the band, R towards V_old",
    ),
    Corner(
        "outside the band, clipped and unclipped errors tied",
        _some(lambda x, e: x["outside"] & (x["unclipped"] == x["clipped"])),
        "reflections of V_old ± ε about R",
    ),
    Corner("V_new = R (zero error)", _some(lambda x, e: x["v"] == x["r"]), "edge 'R'"),
)


# --------------------------------------------------------------------------------------------------
# KL estimators and coefficient
# --------------------------------------------------------------------------------------------------
def _log_ratios(case: KLSamples) -> np.ndarray:
    a = case.inputs()
    return a["logp_new"] - a["logp_old"]


KL_SAMPLE_CORNERS = (
    Corner("N = 1", lambda c: len(c.logp_new) == 1, "N ∈ [1, 8]"),
    Corner("N ≥ 2", lambda c: len(c.logp_new) >= 2, "N ∈ [1, 8]"),
    Corner("r = 1 exactly on a sample", lambda c: bool(np.any(_log_ratios(c) == 0)), "log π_new copied from log π_old"),
    Corner("r > 1 and r < 1 in one batch", lambda c: _log_ratios(c).max() > 0 > _log_ratios(c).min(), "both drawn"),
    Corner("|log r| ≥ 5", lambda c: bool(np.any(np.abs(_log_ratios(c)) >= 5)), "log-probabilities in [−6, 0]"),
    Corner("log π_new = 0 (a certain action)", lambda c: 0.0 in c.logp_new, "the interval's end"),
    Corner("log π_old = 0", lambda c: 0.0 in c.logp_old, "the interval's end"),
)
DISTRIBUTION_CORNERS = (
    Corner("2 outcomes", lambda p: len(p.old) == 2, "outcomes ∈ [2, 5]"),
    Corner("5 outcomes", lambda p: len(p.old) == 5, "outcomes ∈ [2, 5]"),
    Corner("new = old (KL 0)", lambda p: p.new == p.old, "new drawn as the old one"),
    Corner("a probability below 0.01", lambda p: min(p.new + p.old) < 0.01, "weights from 1e-3"),
    Corner("max |log r| ≥ 2", lambda p: _max_log_ratio(p) >= 2.0, "weights in [1e-3, 1]"),
)


def _max_log_ratio(pair: TwoDistributions) -> float:
    new, old = pair.log_probs()
    return float(np.max(np.abs(new - old)))


KL_COEF_CORNERS = (
    Corner("KL < 0 (a k1 estimate)", lambda c: c.kl < 0, "KL in [−d_targ, 0]"),
    Corner("KL = 0", lambda c: c.kl == 0, "0 drawn on purpose"),
    Corner("0 < KL < d_targ/1.5 (β halved)", lambda c: 0 < c.kl < c.kl_target / 1.5, "KL in [0, 3·d_targ]"),
    Corner("KL = d_targ/1.5 exactly (tie)", lambda c: c.kl == c.kl_target / 1.5, "the threshold as the rule rounds it"),
    Corner(
        "d_targ/1.5 < KL < 1.5·d_targ, ≠ d_targ (β kept)",
        lambda c: c.kl_target / 1.5 < c.kl < 1.5 * c.kl_target and c.kl != c.kl_target,
        "KL in [0, 3·d_targ]",
    ),
    Corner("KL = d_targ", lambda c: c.kl == c.kl_target, "d_targ drawn on purpose"),
    Corner("KL = 1.5·d_targ exactly (tie)", lambda c: c.kl == 1.5 * c.kl_target, "the threshold as the rule rounds it"),
    Corner("KL > 1.5·d_targ (β doubled)", lambda c: c.kl > 1.5 * c.kl_target, "KL in [0, 3·d_targ]"),
    Corner(
        "KL 1–8 % below 1.5·d_targ (β kept)",
        lambda c: 0.92 * 1.5 * c.kl_target <= c.kl <= 0.99 * 1.5 * c.kl_target,
        "a threshold times 1 ± 1, 3, 5 or 8 %",
    ),
    Corner(
        "KL 1–8 % above d_targ/1.5 (β kept)",
        lambda c: 1.01 * c.kl_target / 1.5 <= c.kl <= 1.08 * c.kl_target / 1.5,
        "a threshold times 1 ± 1, 3, 5 or 8 %",
    ),
    Corner("KL ≥ 10·d_targ", lambda c: c.kl >= 10 * c.kl_target, "KL in [3·d_targ, 100·d_targ]"),
    Corner("β = 0", lambda c: c.beta == 0, "0 drawn on purpose"),
    Corner("β > 1", lambda c: c.beta > 1, "β in [1e-3, 10]"),
)


# --------------------------------------------------------------------------------------------------
# Advantage normalisation and RLHF rewards
# --------------------------------------------------------------------------------------------------
def _spread(batch: AdvantageBatch) -> float:
    return max(batch.advantages) - min(batch.advantages)


SPREAD_CORNERS = (
    Corner("N = 2", lambda b: len(b.advantages) == 2, "N ∈ [2, 8]"),
    Corner("N ≥ 5", lambda b: len(b.advantages) >= 5, "N ∈ [2, 8]"),
    Corner("spread < 1e-3", lambda b: 0 < _spread(b) < 1e-3, "clustered within 1e-3 of one value"),
    Corner("spread ≥ 1", lambda b: _spread(b) >= 1, "entries in [−5, 5]"),
    Corner("both signs", lambda b: min(b.advantages) < 0 < max(b.advantages), "entries in [−5, 5]"),
    Corner("all positive (mean far from 0)", lambda b: min(b.advantages) > 0.5, "entries in [−5, 5]"),
    Corner("an entry 0", lambda b: 0.0 in b.advantages, "0 drawn on purpose"),
)
NO_SPREAD_CORNERS = (
    Corner("one sample", lambda b: len(b.advantages) == 1, "N ∈ [1, 8]"),
    Corner("N ≥ 2 equal entries", lambda b: len(b.advantages) >= 2, "one value repeated"),
    Corner("every entry 0", lambda b: set(b.advantages) == {0.0}, "0 drawn on purpose"),
    Corner("equal nonzero entries", lambda b: len(b.advantages) >= 2 and b.advantages[0] != 0, "one value repeated"),
)


def _rows(case: TokenRewardCase) -> list[list[bool]]:
    return [list(map(bool, row)) for row in case.mask]


def _contiguous(row: list[bool]) -> bool:
    valid = [t for t, flag in enumerate(row) if flag]
    return valid == list(range(valid[0], valid[-1] + 1))


def _right_padded(row: list[bool]) -> bool:
    return _contiguous(row) and row[0] and not row[-1]


def _left_padded(row: list[bool]) -> bool:
    return _contiguous(row) and row[-1] and not row[0]


def _row(predicate: Callable[[list[bool]], bool]) -> Callable[[TokenRewardCase], bool]:
    return lambda case: any(predicate(row) for row in _rows(case))


TOKEN_CORNERS = (
    Corner("B = 1", lambda c: len(c.mask) == 1, "B ∈ [1, 3]"),
    Corner("B ≥ 2", lambda c: len(c.mask) >= 2, "B ∈ [1, 3]"),
    Corner("T = 1", lambda c: len(c.mask[0]) == 1, "T ∈ [1, 6]"),
    Corner("right padding", _row(_right_padded), "layout 'right padding'"),
    Corner("left padding", _row(_left_padded), "layout 'left padding'"),
    Corner("gaps inside a response", _row(lambda row: not _contiguous(row)), "layout 'gaps'"),
    Corner("padding on both sides of a response", _row(lambda r: _contiguous(r) and not r[0] and not r[-1]), "gaps"),
    Corner("every token valid, T ≥ 2", lambda c: len(c.mask[0]) >= 2 and all(map(all, c.mask)), "layout 'all valid'"),
    Corner("a row with one valid token, T ≥ 2", _row(lambda r: len(r) >= 2 and sum(r) == 1), "length 1 or gaps"),
    Corner(
        "rows of different layouts in one batch",
        lambda c: len({tuple(r) for r in _rows(c)}) >= 2 and any(_left_padded(r) for r in _rows(c)),
        "per-row lengths, gaps",
    ),
    Corner("β = 0", lambda c: c.beta == 0.0, "0 drawn on purpose"),
    Corner("β > 0", lambda c: c.beta > 0.0, "0.1 or [0, 1]"),
    Corner("scores of both signs", lambda c: min(c.scores) < 0 < max(c.scores), "scores in [−5, 5]"),
)


# --------------------------------------------------------------------------------------------------
# REINFORCE: batches of episodes, and every episode of a small absorbing MDP
# --------------------------------------------------------------------------------------------------
def _shape(batch: ReinforceBatch) -> tuple[int, int, int]:
    return np.shape(batch.scores)


BATCH_CORNERS = (
    Corner("N = 1", lambda b: _shape(b)[0] == 1, "N ∈ [1, 3]"),
    Corner("N = 3", lambda b: _shape(b)[0] == 3, "N ∈ [1, 3]"),
    Corner("T = 1", lambda b: _shape(b)[1] == 1, "T ∈ [1, 3]"),
    Corner("T = 3", lambda b: _shape(b)[1] == 3, "T ∈ [1, 3]"),
    Corner("d = 2", lambda b: _shape(b)[2] == 2, "d ∈ [1, 2]"),
    Corner("γ = 0", lambda b: b.gamma == 0.0, "unit_interval() endpoint"),
    Corner("γ = 1", lambda b: b.gamma == 1.0, "unit_interval() endpoint"),
    Corner("0 < γ < 1, T ≥ 2", lambda b: 0 < b.gamma < 1 and _shape(b)[1] >= 2, "unit_interval() interior"),
    Corner("rewards of both signs", lambda b: np.min(b.rewards) < 0 < np.max(b.rewards), "rewards in [−5, 5]"),
    Corner("a zero reward", lambda b: 0.0 in np.ravel(b.rewards), "0 drawn on purpose"),
)
MIX_CORNERS = (
    Corner("r' = r, c = −1 (zero rewards)", lambda m: m.weight == -1 and m.other_rewards == m.batch.rewards, "cancel"),
    Corner("c = 0", lambda m: m.weight == 0.0, "sampled weight"),
    Corner("|c| > 1", lambda m: abs(m.weight) > 1, "sampled weight 2 or −3"),
)


def _horizon(case: EpisodicPolicy) -> int:
    return case.mdp.n_states - 1


EPISODIC_CORNERS = (
    Corner("one-step episodes (S = 2)", lambda c: _horizon(c) == 1, "S ∈ [2, 4]"),
    Corner("three-step episodes (S = 4)", lambda c: _horizon(c) == 3, "S ∈ [2, 4]"),
    Corner("γ = 0", lambda c: c.mdp.gamma == 0.0, "gammas() endpoint"),
    Corner("γ = 0.95", lambda c: c.mdp.gamma == 0.95, "gammas() endpoint"),
    Corner("0 < γ < 0.95, S ≥ 3", lambda c: 0 < c.mdp.gamma < 0.95 and _horizon(c) >= 2, "gammas() interior"),
    Corner("a near-deterministic state (π ≥ 0.99)", lambda c: bool((c.policy() >= 0.99).any()), "logits in [−4, 4]"),
)


KL_SAMPLES = Domain("kl_samples()", kl_samples, KL_SAMPLE_CORNERS)
DISTRIBUTION_PAIRS = Domain("distribution_pairs()", distribution_pairs, DISTRIBUTION_CORNERS)


def _line_search_outcome(case) -> int | None:
    """Index of the trial the exact search accepts, None if it fails."""
    from lineage.laws.exact_optim import line_search_result

    result = line_search_result(case)
    matches = [i for i, trial in enumerate(case.candidates()) if np.array_equal(trial, result)]
    return matches[0] if matches else None


SPD_CORNERS = (
    Corner("n = 1", lambda c: c.n == 1, "n drawn from [1, 12]"),
    Corner("n = 12", lambda c: c.n == 12, "n drawn from [1, 12]"),
    Corner("κ ≥ 1e3", lambda c: c.condition() >= 1e3, "log10 κ drawn from [0, 4]"),
)
DISTINCT_CORNERS = (
    Corner("k = 1 < n (A = λI)", lambda c: c.iters == 1 and c.n > 1, "k drawn from [1, n]"),
    Corner("1 < k < n", lambda c: 1 < c.iters < c.n, "k drawn from [1, n]"),
)
FISHER_CORNERS = (
    Corner("K = 1 (F = 0)", lambda c: len(c.theta[0]) == 1, "K drawn from [1, 3]"),
    Corner("damping = 0", lambda c: c.damping == 0.0, "damping 0 or in [0, 1]"),
    Corner("B = 4 states", lambda c: len(c.features) == 4, "B drawn from [1, 4]"),
)
LINE_SEARCH_CORNERS = (
    Corner("full step accepted", lambda c: _line_search_outcome(c) == 0, "step along the gradient, small s"),
    Corner("backtracked", lambda c: (_line_search_outcome(c) or 0) > 0, "step too long for δ"),
    Corner("search fails", lambda c: _line_search_outcome(c) is None, "random direction or tiny δ"),
)
FAILING_CORNERS = (
    Corner("max_backtracks = 1", lambda c: c.max_backtracks == 1, "trials drawn from [1, 10]"),
    Corner("reversed step", lambda c: c.max_kl > c.kl(c.candidates()[-1]), "−gradient direction"),
)


DOMAIN: dict[str, tuple[Domain, ...]] = {
    "td_errors": (_segment_domain("td_errors"),),
    "discounted_returns": (_segment_domain("discounted_returns"),),
    "n_step_advantages": (_segment_domain("n_step_advantages", N_CORNERS),),
    "gae": (_segment_domain("gae", LAMBDA_CORNERS),),
    "lambda_returns": (_segment_domain("lambda_returns", LAMBDA_CORNERS),),
    "ppo_clip_loss": (Domain("clip_cases()", clip_cases, CLIP_CORNERS),),
    "value_loss": (Domain("value_cases()", value_cases, VALUE_CORNERS),),
    "clipped_value_loss": (Domain("value_cases()", value_cases, VALUE_CORNERS),),
    "unclipped_value_loss": (Domain("value_cases()", value_cases, VALUE_CORNERS),),
    "kl_k1": (KL_SAMPLES, DISTRIBUTION_PAIRS),
    "kl_k2": (KL_SAMPLES,),
    "kl_k3": (KL_SAMPLES, DISTRIBUTION_PAIRS),
    "adapt_kl_coef": (Domain("kl_coef_cases()", kl_coef_cases, KL_COEF_CORNERS),),
    "normalize_advantages": (
        Domain("advantage_batches()", advantage_batches, SPREAD_CORNERS),
        Domain("degenerate_batches()", degenerate_batches, NO_SPREAD_CORNERS),
    ),
    "token_rewards": (Domain("token_reward_cases()", token_reward_cases, TOKEN_CORNERS),),
    "reinforce_gradient": (
        Domain("reinforce_batches()", reinforce_batches, BATCH_CORNERS),
        Domain("reward_mixes()", reward_mixes, MIX_CORNERS),
        Domain("episodic_policies()", episodic_policies, EPISODIC_CORNERS),
    ),
    "conjugate_gradient": (
        Domain("spd_systems()", spd_systems, SPD_CORNERS),
        Domain("distinct_eigenvalue_systems()", distinct_eigenvalue_systems, DISTINCT_CORNERS),
    ),
    "fisher_vector_product": (Domain("fisher_cases()", fisher_cases, FISHER_CORNERS),),
    "trpo_line_search": (
        Domain("line_search_cases()", line_search_cases, LINE_SEARCH_CORNERS),
        Domain("failing_line_search_cases()", failing_line_search_cases, FAILING_CORNERS),
    ),
}


def table() -> str:
    """The domain of every contract as a Markdown table (contract, strategy, corner, how it is drawn)."""
    lines = ["| contract | strategy | corner | drawn by |", "|---|---|---|---|"]
    for contract, domains in DOMAIN.items():
        for domain in domains:
            lines += [f"| {contract} | `{domain.strategy}` | {c.name} | {c.how} |" for c in domain.corners]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
