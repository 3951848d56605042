"""Inputs of the PPO, KL and RLHF contracts as readable values (plain lists and floats), with the
Hypothesis strategies that draw them and their exact outputs (float64 closed forms).

Each case gives the arrays its contract's target receives through ``inputs()`` and its keyword
parameters as attributes, like :class:`lineage.laws.cases.segments.SegmentCase`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from lineage.laws.cases.mdps import positive_distributions

# --------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipCase:
    """Samples of the PPO clipped surrogate: log π_new, log π_old, advantages, and ε."""

    logp_new: list
    logp_old: list
    advantages: list
    clip_eps: float

    def inputs(self) -> dict[str, np.ndarray]:
        return {
            name: np.array(getattr(self, name), dtype=np.float64) for name in ("logp_new", "logp_old", "advantages")
        }

    def ratios(self) -> np.ndarray:
        a = self.inputs()
        return np.exp(a["logp_new"] - a["logp_old"])


@dataclass(frozen=True)
class ValueCase:
    """A critic update: new and old value predictions, return targets, and the clipping range ε."""

    values_new: list
    values_old: list
    returns: list
    clip_eps: float

    def inputs(self) -> dict[str, np.ndarray]:
        return {
            name: np.array(getattr(self, name), dtype=np.float64) for name in ("values_new", "values_old", "returns")
        }

    def clipped(self) -> np.ndarray:
        """V_clip = V_old + clip(V_new − V_old, −ε, ε)."""
        a = self.inputs()
        return a["values_old"] + np.clip(a["values_new"] - a["values_old"], -self.clip_eps, self.clip_eps)


@dataclass(frozen=True)
class KLSamples:
    """Per-sample log-probabilities of the new and the old (sampling) policy."""

    logp_new: list
    logp_old: list

    def inputs(self) -> dict[str, np.ndarray]:
        return {name: np.array(getattr(self, name), dtype=np.float64) for name in ("logp_new", "logp_old")}


@dataclass(frozen=True)
class TwoDistributions:
    """The old (sampling) distribution q and the new one p over the same outcomes, full support: every outcome
    once is a sample of the KL estimators, weighted by its probability under q."""

    old: list
    new: list

    def log_probs(self) -> tuple[np.ndarray, np.ndarray]:
        """(log p, log q): every outcome once, as the per-sample ``logp_new``, ``logp_old`` of the estimators."""
        return np.log(self.new), np.log(self.old)

    def samples(self) -> KLSamples:
        log_new, log_old = self.log_probs()
        return KLSamples(log_new.tolist(), log_old.tolist())

    def kl_old_new(self) -> float:
        """KL(q ‖ p) = Σ q log(q/p)."""
        log_new, log_old = self.log_probs()
        return float(np.dot(self.old, log_old - log_new))

    def log_scale(self) -> float:
        """1 + the largest |log p| and |log q|: log r = log p − log q rounds with this size."""
        return 1.0 + float(np.abs(np.concatenate(self.log_probs())).max())


@dataclass(frozen=True)
class KLCoefCase:
    """One step of the adaptive KL coefficient: the current β, the measured KL and its target."""

    beta: float
    kl: float
    kl_target: float

    def inputs(self) -> dict:
        return {"beta": self.beta, "kl": self.kl}


@dataclass(frozen=True)
class AdvantageBatch:
    """The advantages of one minibatch, to be normalised."""

    advantages: list

    def inputs(self) -> dict[str, np.ndarray]:
        return {"advantages": np.array(self.advantages, dtype=np.float64)}


@dataclass(frozen=True)
class TokenRewardCase:
    """A batch of responses: reward-model scores [B], per-token log π and log π_ref [B, T], the mask of valid
    response tokens [B, T] (at least one per row) and β."""

    scores: list
    logp: list
    ref_logp: list
    mask: list
    beta: float

    def inputs(self) -> dict[str, np.ndarray]:
        arrays = {name: np.array(getattr(self, name), dtype=np.float64) for name in ("scores", "logp", "ref_logp")}
        arrays["mask"] = np.array(self.mask, dtype=bool)
        return arrays

    def last_valid(self) -> np.ndarray:
        """Index of the last valid token of each row."""
        mask = np.array(self.mask, dtype=bool)
        return mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)


# Cases the laws and the bug zoo pin as explicit examples.
# TC-19: old = (0.5, 0.5), new = (0.9, 0.1): KL(old ‖ new) = 0.511, KL(new ‖ old) = 0.368.
DIRECTION = TwoDistributions(old=[0.5, 0.5], new=[0.9, 0.1])
# TRL issue #1893: response [t0, t1, EOS, PAD, PAD]; the score belongs on EOS, not on the first PAD.
PADDED = TokenRewardCase(
    scores=[1.0],
    logp=[[-1.0, -1.0, -1.0, -1.0, -1.0]],
    ref_logp=[[-1.0, -1.0, -1.0, -1.0, -1.0]],
    mask=[[True, True, True, False, False]],
    beta=0.05,
)


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------


@cache
def log_probabilities() -> st.SearchStrategy[float]:
    """log π of a sampled action in [−6, 0]: certain actions (0) down to probabilities of 0.25 %."""
    return st.floats(-6.0, 0.0, allow_subnormal=False)


@cache
def clip_ranges() -> st.SearchStrategy[float]:
    """ε of a ratio band, anywhere in the contract's (0, 1): the libraries' 0.1, 0.2 and 0.3 often, 0.01 … 0.9
    otherwise (1 − ε ≥ 0.1, so the lower edge stays a ratio a float represents well)."""
    return st.one_of(st.sampled_from([0.2, 0.1, 0.3]), st.floats(0.01, 0.9))


@cache
def advantages() -> st.SearchStrategy[float]:
    """Advantages, with 0 and both signs drawn often."""
    return st.one_of(st.just(0.0), st.floats(-5.0, 5.0, allow_subnormal=False))


# How far a drawn log-ratio reaches: ρ ∈ [e^−5, e^5] ≈ [0.0067, 148], far outside any clip band on both sides
# (Tianshou's dual clip bound c = 3 needs ρ > 3 with A < 0). With |A| ≤ 5 a term is at most 742 and a mean of 8 terms
# rounds within 8·9·eps·742 in float64: the value and gradient tolerances stay far below any real difference.
FAR_LOG_RATIO = 5.0


@st.composite
def clip_cases(draw, *, max_samples: int = 8, away_from_kinks: float = 0.0) -> ClipCase:
    """Samples whose log-ratios include 0 and the clip boundaries log(1 ± ε), values near the band (|log ρ| ≤ 1) and
    far from it (|log ρ| ≤ 5); with ``away_from_kinks`` > 0 every ratio keeps at least that distance from 1 ± ε
    (where the surrogate has no derivative).
    """
    eps = draw(clip_ranges(), label="clip_eps")
    n = draw(st.integers(1, max_samples), label="N")
    edges = [0.0, math.log1p(eps), math.log1p(-eps)] if not away_from_kinks else [0.0]
    log_ratio = st.one_of(
        st.sampled_from(edges),
        st.floats(-1.0, 1.0, allow_subnormal=False),
        st.floats(-FAR_LOG_RATIO, FAR_LOG_RATIO, allow_subnormal=False),
    )
    if away_from_kinks:
        log_ratio = log_ratio.filter(
            lambda d: min(abs(math.exp(d) - 1 - eps), abs(math.exp(d) - 1 + eps)) > away_from_kinks
        )
    old = draw(st.lists(log_probabilities(), min_size=n, max_size=n))
    ratios = draw(st.lists(log_ratio, min_size=n, max_size=n))
    return ClipCase(
        [o + d for o, d in zip(old, ratios, strict=True)],
        old,
        draw(st.lists(advantages(), min_size=n, max_size=n)),
        eps,
    )


# Where V_new is drawn relative to V_old, ε and R (an int picks an exact edge, "inside" a point of the open band).
_VALUE_EDGES = ("V_old + ε", "V_old − ε", "V_old", "R", "reflection of V_old + ε about R", "reflection of V_old − ε")


@st.composite
def value_cases(draw, *, max_samples: int = 8, edges: bool = True) -> ValueCase:
    """Samples whose V_new is often exactly V_old ± ε, V_old, the return R, or the reflection of V_old ± ε about R
    (where the clipped and unclipped errors tie), unless ``edges`` is False (for the derivative laws, which need
    distance from those kinks); strictly inside the band (V_old + f·ε, |f| < 1) or anywhere in [−10, 10] otherwise;
    ε from the policy's ranges or in value units up to 5.
    """
    n = draw(st.integers(1, max_samples), label="N")
    eps = draw(st.one_of(clip_ranges(), st.floats(0.5, 5.0)), label="clip_eps")
    number = st.floats(-10.0, 10.0, allow_subnormal=False)
    column = st.lists(number, min_size=n, max_size=n)
    old, returns = draw(column, label="values_old"), draw(column, label="returns")
    inside = st.floats(-1.0, 1.0, exclude_min=True, exclude_max=True, allow_subnormal=False).map(lambda f: ("in", f))
    # An int picks one of the edges, ("in", f) a point of the open band, a float is V_new itself.
    pick = st.one_of(st.integers(0, len(_VALUE_EDGES) - 1), inside, number) if edges else st.one_of(inside, number)
    picks = draw(st.lists(pick, min_size=n, max_size=n), label="V_new")

    def value(pick, v_old: float, r: float) -> float:
        if isinstance(pick, float):
            return pick
        if isinstance(pick, tuple):
            return v_old + pick[1] * eps
        return [v_old + eps, v_old - eps, v_old, r, 2 * r - (v_old + eps), 2 * r - (v_old - eps)][pick]

    return ValueCase([value(*x) for x in zip(picks, old, returns, strict=True)], old, returns, eps)


@st.composite
def kl_samples(draw, *, max_samples: int = 8) -> KLSamples:
    """Per-sample log-probabilities of both policies in [−6, 0], drawn on their own (|log r| up to 6, r up to e^6 ≈ 403
    and down to e^−6) or equal (r = 1 exactly, every estimator 0).
    """
    n = draw(st.integers(1, max_samples), label="N")
    old = draw(st.lists(log_probabilities(), min_size=n, max_size=n), label="logp_old")
    new = draw(st.lists(st.one_of(st.none(), log_probabilities()), min_size=n, max_size=n), label="logp_new")
    return KLSamples([o if x is None else x for x, o in zip(new, old, strict=True)], old)


@st.composite
def distribution_pairs(draw) -> TwoDistributions:
    """2..5 outcomes, entries ≥ 1e-3/n; the new distribution is sometimes the old one."""
    size = draw(st.integers(2, 5), label="outcomes")
    old = draw(positive_distributions((size,)), label="old")
    new = draw(st.one_of(st.just(old), positive_distributions((size,))), label="new")
    return TwoDistributions(old.tolist(), new.tolist())


def measured_kls(kl_target: float) -> st.SearchStrategy[float]:
    """A measured KL for the target d_targ: the thresholds d_targ/1.5 and 1.5·d_targ exactly (as rounded), d_targ and
    0, and u·d_targ for u 1 %, 3 %, 5 % or 8 % to either side of a threshold (where a misplaced threshold shows),
    around the band (0 to 3), far above it (3 to 100) and below 0 (−1 to 0: a k1 estimate can be negative)."""
    offsets = st.sampled_from([-0.08, -0.05, -0.03, -0.01, 0.01, 0.03, 0.05, 0.08])
    near = st.tuples(st.sampled_from([1 / 1.5, 1.5]), offsets).map(lambda p: p[0] * (1 + p[1]))
    around, far, negative = st.floats(0.0, 3.0), st.floats(3.0, 100.0), st.floats(-1.0, 0.0)
    return st.one_of(
        st.sampled_from([kl_target / 1.5, 1.5 * kl_target, kl_target, 0.0]),
        st.one_of(near, around, far, negative).map(lambda u: u * kl_target),
    )


@st.composite
def kl_coef_cases(draw) -> KLCoefCase:
    """d_targ positive, β ≥ 0 (0 a quarter of the time: every rule gives 0 then); the measured KL from
    ``measured_kls``."""
    target = draw(st.floats(1e-3, 1.0), label="kl_target")
    kl = draw(measured_kls(target), label="kl")
    positive = st.floats(1e-3, 10.0)
    beta = draw(st.one_of(positive, positive, positive, st.just(0.0)), label="beta")  # β = 0 a quarter of the time
    return KLCoefCase(beta, kl, target)


# The layouts a response mask can have: a contiguous response with padding on the right or on the left, every token
# valid, or any pattern (gaps) with at least one valid token per row.
MASK_LAYOUTS = ("right padding", "left padding", "all valid", "gaps")


@st.composite
def response_masks(draw, rows: int, tokens: int) -> list[list[bool]]:
    """A [rows, tokens] mask in one of :data:`MASK_LAYOUTS`, every row with at least one valid token."""
    layout = draw(st.sampled_from(MASK_LAYOUTS), label="mask layout")
    if layout == "all valid":
        return [[True] * tokens for _ in range(rows)]
    if layout == "gaps":
        flags = st.lists(st.booleans(), min_size=tokens, max_size=tokens)
        drawn = draw(st.lists(flags, min_size=rows, max_size=rows))
        kept = draw(st.lists(st.integers(0, tokens - 1), min_size=rows, max_size=rows), label="a valid token per row")
        return [[flag or t == k for t, flag in enumerate(row)] for row, k in zip(drawn, kept, strict=True)]
    lengths = draw(st.lists(st.integers(1, tokens), min_size=rows, max_size=rows), label="response lengths")
    mask = [[t < length for t in range(tokens)] for length in lengths]
    return mask if layout == "right padding" else [row[::-1] for row in mask]


@st.composite
def token_reward_cases(draw, *, max_rows: int = 3, max_tokens: int = 6) -> TokenRewardCase:
    """Rows of response tokens under any mask layout the contract allows."""
    rows, tokens = draw(st.integers(1, max_rows), label="B"), draw(st.integers(1, max_tokens), label="T")
    grid = st.lists(st.lists(log_probabilities(), min_size=tokens, max_size=tokens), min_size=rows, max_size=rows)
    mask = draw(response_masks(rows, tokens), label="mask")
    scores = draw(st.lists(st.floats(-5.0, 5.0, allow_subnormal=False), min_size=rows, max_size=rows))
    beta = draw(st.one_of(st.sampled_from([0.0, 0.1]), st.floats(0.0, 1.0)))
    return TokenRewardCase(scores, draw(grid), draw(grid), mask, beta)


@st.composite
def advantage_batches(draw, *, max_samples: int = 8) -> AdvantageBatch:
    """Minibatches of two or more advantages with a spread: drawn on their own in [−5, 5] (0 and both signs often), or
    clustered within 1e-3 of one value (a small spread, where an ε added to the std starts to matter)."""
    n = draw(st.integers(2, max_samples), label="N")
    if draw(st.booleans(), label="small spread"):
        base = draw(advantages(), label="centre")
        offsets = draw(st.lists(st.floats(-1e-3, 1e-3, allow_subnormal=False), min_size=n, max_size=n))
        entries = [base + offset for offset in offsets]
    else:
        entries = draw(st.lists(advantages(), min_size=n, max_size=n))
    assume(max(entries) > min(entries))
    return AdvantageBatch(entries)


@st.composite
def degenerate_batches(draw, *, max_samples: int = 8) -> AdvantageBatch:
    """A batch of one, or of equal entries: no spread to divide by."""
    n = draw(st.integers(1, max_samples), label="N")
    return AdvantageBatch([draw(advantages())] * n)
