"""The array rule of :mod:`lineage.arrays`, held for every building block: numpy in → numpy out in the input's float
dtype; torch in → torch out on the same device, in the same dtype, with the numpy path's values; and where a block
is differentiable, autograd through it gives its exact derivative (notes §GAE, §PPO; claims named per property).

Values, numpy against torch. Where a block only adds, subtracts, multiplies and selects, both frameworks perform
the same correctly rounded operations in the same order, so the results must agree bit for bit. Where it calls
exp, expm1, log or reduces over an axis, the two libraries may round differently (their exp is within one ulp,
their sums add in different orders); each path is then within the allowance the laws hold any implementation to
(:func:`~lineage.laws.tolerance.scaled_tolerance` for the block's terms), so the two may differ by twice that.

Derivatives, by autograd in float64 against closed forms evaluated exactly (``fractions``) or to 50 digits
(``decimal``, for exp, log and square roots). With u = 2⁻⁵³ the unit roundoff, a derivative that autograd forms
as a product of k rounded factors is within γ_k = k·u/(1 − k·u) of the exact one, relatively, plus k times the
smallest subnormal where products underflow; the count k is given at each property. Where autograd runs through
a softmax or a standardisation, the property counts the rounding errors of the forward quantities and of the
backward sums instead, in units of u times the size of the terms. Where a derivative is exactly 0 (after an
episode end, on the binding side of the clip, on padding) autograd must return exactly 0.

Every property here was seen to fail on a planted bug (a detached argument, γ for γλ, a dropped mask, a flipped
sign, a numpy scalar for a 0-d array, a dtype not promoted, ...) before it was kept.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lineage
from lineage import ppo, rlhf
from lineage.laws.cases.losses import (
    ClipCase,
    advantage_batches,
    clip_cases,
    degenerate_batches,
    kl_samples,
    token_reward_cases,
    value_cases,
)
from lineage.laws.cases.segments import segment_cases, unit_interval
from lineage.laws.losses import near_value_kink
from lineage.laws.tolerance import scaled_tolerance
from properties.ppo_strategies import EPS, categorical_batches, finite, gaussian_pairs, tensor

U = EPS / 2  # unit roundoff of float64
SUBNORMAL = 2.0**-1074  # the smallest positive float64: the absolute error of a product that underflows
DIGITS = 50  # decimal precision of the closed forms that need exp, log or a square root
WHITENING_EPSILON = 1e-8  # the ε under the square root of whitening that STD-RLHF-5 states


def gamma_k(k: float) -> float:
    """γ_k = k·u/(1 − k·u): the relative error of a product of k rounded factors (Higham, Lemma 3.1)."""
    return k * U / (1 - k * U)


# --------------------------------------------------------------------------------------------------------
# One call of a block: its arrays (float64, bool or integer numpy arrays) and its keyword parameters
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    arrays: dict[str, np.ndarray]
    params: dict = field(default_factory=dict)

    def inputs(self, framework: str, dtype: str) -> dict:
        """The arrays with floats in ``dtype``, as numpy arrays or as torch tensors (bools and integers kept)."""
        converted = {}
        for name, a in self.arrays.items():
            a = a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a
            converted[name] = torch.from_numpy(a.copy()) if framework == "torch" else a.copy()
        return converted

    def floats(self) -> list[str]:
        return [name for name, a in self.arrays.items() if np.issubdtype(a.dtype, np.floating)]


def exact(call: Call, eps: float) -> float:
    """Agreement of a block that only adds, subtracts, multiplies and selects: bit for bit."""
    return 0.0


@dataclass(frozen=True)
class Block:
    """A building block under the array rule: how to call it, the calls to draw, the claims it implements, and how
    far its torch result may be from its numpy one (for machine epsilon ``eps``)."""

    name: str
    function: Callable
    calls: st.SearchStrategy
    claims: tuple[str, ...]
    agreement: Callable[[Call, float], float | np.ndarray] = exact

    def __call__(self, inputs: dict, params: dict):
        return self.function(**inputs, **params)


# ---- rollout segments ---------------------------------------------------------------------------------

SEGMENT_ARGUMENTS = {
    "td_errors": ("rewards", "values", "next_values", "terminated"),
    "discounted_returns": ("rewards", "next_values", "terminated", "truncated"),
    "n_step_advantages": ("rewards", "values", "next_values", "terminated", "truncated"),
    "gae": ("rewards", "values", "next_values", "terminated", "truncated"),
    "lambda_returns": ("rewards", "values", "next_values", "terminated", "truncated"),
}
SEGMENT_PARAMETERS = {"n_step_advantages": ("gamma", "n"), "gae": ("gamma", "lam"), "lambda_returns": ("gamma", "lam")}


def segment_calls(name: str, *, max_length: int = 12) -> st.SearchStrategy[tuple]:
    """(case, Call) pairs for a return/advantage function: segments of up to ``max_length`` steps, [T] or [T, B],
    with γ, λ ∈ {0, 1} reachable and n from 1 to beyond T."""
    params = SEGMENT_PARAMETERS.get(name, ("gamma",))
    cases = segment_cases(
        lam=unit_interval() if "lam" in params else None,
        n=st.integers(1, max_length + 1) if "n" in params else None,
        max_length=max_length,
        max_batch=2,
    )
    return cases.map(
        lambda case: (
            case,
            Call({a: case.inputs()[a] for a in SEGMENT_ARGUMENTS[name]}, {p: getattr(case, p) for p in params}),
        )
    )


def second(pairs: st.SearchStrategy[tuple]) -> st.SearchStrategy[Call]:
    return pairs.map(lambda pair: pair[1])


# ---- PPO ----------------------------------------------------------------------------------------------


def clip_calls(arguments=("logp_new", "logp_old", "advantages"), *, with_eps: bool = True) -> st.SearchStrategy:
    return clip_cases().map(
        lambda c: Call({a: c.inputs()[a] for a in arguments}, {"clip_eps": c.clip_eps} if with_eps else {})
    )


def value_calls(arguments=("values_new", "values_old", "returns"), variant: str | None = None) -> st.SearchStrategy:
    extra = {} if variant is None else {"variant": variant}
    return value_cases().map(
        lambda c: Call(
            {a: c.inputs()[a] for a in arguments}, ({} if variant == "unclipped" else {"clip_eps": c.clip_eps}) | extra
        )
    )


@st.composite
def categorical_calls(draw) -> Call:
    """Logits of an old and a new policy over 1–3 states and 2–4 actions, a sampled action and an advantage per
    state, and β (0 reachable)."""
    batch = draw(categorical_batches(max_states=3))
    states, actions = batch.shape
    taken = draw(arrays(np.int64, (states,), elements=st.integers(0, actions - 1)), label="actions")
    q = np.array(batch.q_values)
    beta = draw(st.one_of(st.sampled_from([0.0, 0.5]), finite(0.0, 2.0)), label="beta")
    return Call(
        {
            "logits_new": np.array(batch.logits_new),
            "logits_old": np.array(batch.logits_old),
            "actions": taken,
            "advantages": q[np.arange(states), taken],
        },
        {"beta": beta},
    )


@st.composite
def penalty_from_kl_calls(draw) -> Call:
    """Per-sample log-probabilities and advantages of the clip's cases (ratios far from 1 included), a per-sample KL
    in [0, 5] and β (0 reachable)."""
    case = draw(clip_cases())
    kl = draw(arrays(np.float64, (len(case.advantages),), elements=finite(0.0, 5.0)), label="kl")
    beta = draw(st.one_of(st.sampled_from([0.0, 0.5]), finite(0.0, 2.0)), label="beta")
    return Call({**case.inputs(), "kl": kl}, {"beta": beta})


def only(call: Call, *names: str, params: tuple[str, ...] = ()) -> Call:
    return Call({n: call.arrays[n] for n in names}, {p: call.params[p] for p in params})


@st.composite
def combined_calls(draw) -> Call:
    n = draw(st.integers(1, 8), label="N")
    entropy = draw(arrays(np.float64, (n,), elements=finite(0.0, 2.0)), label="entropy")
    return Call(
        {
            "clip_loss": np.array(draw(finite(-10.0, 10.0), label="clip_loss")),
            "value_loss": np.array(draw(finite(0.0, 10.0), label="value_loss")),
            "entropy": entropy,
        },
        {
            "vf_coef": draw(st.one_of(st.sampled_from([0.0, 0.5]), finite(0.0, 2.0)), label="vf_coef"),
            "ent_coef": draw(st.one_of(st.sampled_from([0.0, 0.01]), finite(0.0, 1.0)), label="ent_coef"),
        },
    )


def spread_squares_to_a_normal_float(batch, dtype=np.float64) -> bool:
    """The normalisation laws' domain in ``dtype``: the spread's square stays a normal number with room to spare
    (σ ≥ 32·√tiny: 3.5e-18 in float32, 4.8e-153 in float64), so σ² neither underflows to 0 nor loses digits;
    below that the float computation divides by a rounded-away variance."""
    return float(np.std(batch.inputs()["advantages"])) >= 32 * np.sqrt(np.finfo(dtype).tiny)


def normalization_calls() -> st.SearchStrategy[Call]:
    spread = advantage_batches().filter(lambda batch: spread_squares_to_a_normal_float(batch, np.float32))
    batches = st.one_of(spread, degenerate_batches())
    return st.builds(
        lambda batch, ddof, eps: Call(batch.inputs(), {"ddof": ddof, "eps": eps}),
        batches,
        st.sampled_from([0, 1]),
        st.sampled_from([0.0, 1e-8]),
    )


# ---- RLHF ---------------------------------------------------------------------------------------------


@st.composite
def masked_values(draw, *, low: float = -10.0, high: float = 10.0, min_valid: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``[batch, tokens]`` values (repeats and constant rows included) and a mask with at least ``min_valid`` True."""
    rows, tokens = draw(st.integers(1, 3), label="B"), draw(st.integers(max(1, min_valid), 5), label="T")
    elements = st.one_of(st.sampled_from([0.0, 1.0, 3.0]), finite(low, high))
    values = draw(arrays(np.float64, (rows, tokens), elements=elements), label="values")
    mask = draw(arrays(bool, (rows, tokens)), label="mask")
    kept = draw(st.lists(st.integers(0, rows * tokens - 1), min_size=min_valid, max_size=min_valid, unique=True))
    mask.flat[kept] = True
    return values, mask


@st.composite
def whiten_calls(draw) -> Call:
    values, mask = draw(masked_values())
    shift_mean = draw(st.booleans(), label="shift_mean")
    arrays_ = {"values": values} if draw(st.booleans(), label="no mask") else {"values": values, "mask": mask}
    return Call(arrays_, {"shift_mean": shift_mean})


@st.composite
def ptx_calls(draw, *, loss: bool) -> Call:
    logp, mask = draw(masked_values(low=-6.0, high=0.0))
    if not loss:
        return Call({"token_logp": logp, "mask": mask})
    rl_loss = np.array(draw(finite(-10.0, 10.0), label="rl_loss"))
    coef = draw(st.one_of(st.sampled_from([0.0, 1.0]), finite(0.0, 30.0)), label="ptx_coef")
    return Call({"rl_loss": rl_loss, "pretrain_token_logp": logp, "pretrain_mask": mask}, {"ptx_coef": coef})


@st.composite
def preference_calls(draw) -> Call:
    """Reward-model scores of the chosen and rejected responses of 1–8 pairs (ties and large margins reachable)."""
    n = draw(st.integers(1, 8), label="pairs")
    chosen = draw(arrays(np.float64, (n,), elements=finite(-30.0, 30.0)), label="chosen_scores")
    rejected = draw(arrays(np.float64, (n,), elements=finite(-30.0, 30.0)), label="rejected_scores")
    return Call({"chosen_scores": chosen, "rejected_scores": rejected})


def preference_agreement(call: Call, eps: float) -> float:
    """log(1 + e^{−Δ}) of margins |Δ| up to 60, averaged: each term a few roundings of its size 1 + |Δ|."""
    margin = np.abs(call.arrays["chosen_scores"] - call.arrays["rejected_scores"]).max()
    return 2 * scaled_tolerance(eps, 1 + float(margin), len(call.arrays["chosen_scores"]))


def token_reward_calls() -> st.SearchStrategy[Call]:
    return token_reward_cases().map(lambda c: Call(c.inputs(), {"beta": c.beta}))


# ---- agreement of the two paths where exp, log or a reduction enters (twice one path's allowance) -------------


def ratio_agreement(call: Call, eps: float) -> np.ndarray:
    """ρ = exp(d) with d the same float on both paths: each exp within one ulp ≤ eps·ρ."""
    return 2 * eps * np.exp(call.arrays["logp_new"] - call.arrays["logp_old"])


def surrogate_agreement(call: Call, eps: float) -> np.ndarray:
    """ρA or (1 ± ε)A: the two ρ within 2·eps·ρ, times |A|, plus the rounding of the product."""
    a = call.arrays
    ratio = np.maximum(np.exp(a["logp_new"] - a["logp_old"]), 1 + call.params["clip_eps"])
    return 3 * eps * ratio * np.abs(a["advantages"])


def clip_loss_agreement(call: Call, eps: float) -> float:
    """The clip law's allowance for the mean of N terms of size |A|·max(ρ, 1 + ε), on each path."""
    a = call.arrays
    case = ClipCase(a["logp_new"].tolist(), a["logp_old"].tolist(), a["advantages"].tolist(), call.params["clip_eps"])
    scale = float(np.mean(np.abs(a["advantages"]) * np.maximum(case.ratios(), 1 + case.clip_eps)))
    return 2 * scaled_tolerance(eps, scale, len(a["advantages"]))


def k3_agreement(call: Call, eps: float) -> np.ndarray:
    """The KL law's allowance per sample: the terms r, |log r| and 1."""
    log_ratio = np.abs(call.arrays["logp_new"] - call.arrays["logp_old"])
    return 2 * scaled_tolerance(eps, np.exp(log_ratio) + log_ratio**2 + 1, 2)


def value_loss_agreement(call: Call, eps: float) -> float:
    """The value-clipping property's allowance: a mean of N squared errors of size (|V_new| + |V_old| + |R| + ε)²."""
    a = call.arrays
    size = np.abs(a["values_new"]) + np.abs(a["values_old"]) + np.abs(a["returns"]) + call.params.get("clip_eps", 0.0)
    return 2 * scaled_tolerance(eps, float(np.max(size**2)), len(a["returns"]))


def log_softmax_magnitude(*logits: np.ndarray) -> float:
    """1 + max |log π| over the rows of the given logits: the size of every term of an entropy or a KL."""
    return 1 + max(float(np.abs(log_softmax(z)).max()) for z in logits)


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_agreement(call: Call, eps: float) -> float:
    logits = [call.arrays[n] for n in ("logits", "logits_new", "logits_old") if n in call.arrays]
    return 2 * scaled_tolerance(eps, log_softmax_magnitude(*logits), logits[0].shape[-1])


def penalty_agreement(call: Call, eps: float) -> float:
    """ρ|A| (ρ from a difference of log-probabilities of size up to M) and β·KL, with M = 1 + max |log π|."""
    a = call.arrays
    magnitude = log_softmax_magnitude(a["logits_new"], a["logits_old"])
    ratio = np.exp(log_softmax(a["logits_new"]) - log_softmax(a["logits_old"])).max()
    scale = magnitude * (ratio * np.abs(a["advantages"]).max() + call.params["beta"])
    return 2 * scaled_tolerance(eps, scale, a["logits_new"].shape[-1] + len(a["advantages"]))


def penalty_terms(call: Call) -> np.ndarray:
    """ρ_i|A_i| + β·KL_i: the size of each term of the penalised surrogate."""
    a = call.arrays
    return np.exp(a["logp_new"] - a["logp_old"]) * np.abs(a["advantages"]) + call.params["beta"] * a["kl"]


def penalty_from_kl_agreement(call: Call, eps: float) -> np.ndarray:
    """Per sample: the two ρ within 2·eps·ρ (one exp each), times |A|, then one product and one difference."""
    return 4 * eps * penalty_terms(call)


def penalty_from_kl_loss_agreement(call: Call, eps: float) -> float:
    """The mean of N terms of size up to max(ρ|A| + β·KL), on each path."""
    return 2 * scaled_tolerance(eps, float(penalty_terms(call).max()), len(call.arrays["kl"]))


def combined_agreement(call: Call, eps: float) -> float:
    a, p = call.arrays, call.params
    scale = abs(float(a["clip_loss"])) + p["vf_coef"] * abs(float(a["value_loss"])) + p["ent_coef"] * 2.0
    return 2 * scaled_tolerance(eps, scale, len(a["entropy"]) + 2)


def normalization_agreement(call: Call, eps: float) -> float:
    """Outputs up to √n in size; centring costs n·eps·max|A| relative to the spread σ (the condition κ)."""
    a = call.arrays["advantages"]
    if np.ptp(a) == 0:
        return 0.0  # both paths return exact zeros
    centred = a - a.mean()
    sigma = np.abs(centred).max() * np.std(centred / np.abs(centred).max(), ddof=call.params["ddof"])
    return 2 * scaled_tolerance(eps, math.sqrt(a.size) + 1 + np.abs(a).max() / sigma, a.size)


def whiten_agreement(call: Call, eps: float) -> float:
    """The whitening property's allowance: max|x|·(1 + 1/s) + max|z| + 1 over n valid entries, s = √(σ² + ε)."""
    x = call.arrays["values"]
    valid = x[call.arrays["mask"]] if "mask" in call.arrays else x.reshape(-1)
    n = valid.size
    variance = float(np.var(valid, ddof=1)) if n > 1 else 0.0
    scale = math.sqrt(variance + WHITENING_EPSILON)
    largest = float(np.abs(valid).max())
    return 2 * scaled_tolerance(eps, largest * (1 + 1 / scale) + math.sqrt(n) + 1, n)


def ptx_agreement(call: Call, eps: float) -> float:
    a, logp_name = call.arrays, "token_logp" if "token_logp" in call.arrays else "pretrain_token_logp"
    logp = a[logp_name]
    scale = logp.shape[1] * float(np.abs(logp).max()) * call.params.get("ptx_coef", 1.0)
    scale += abs(float(a["rl_loss"])) if "rl_loss" in a else 0.0
    return 2 * scaled_tolerance(eps, scale, logp.size + 1)


def gaussian_calls(names: dict[str, str]):
    """The drawn pair's arrays under the block's argument names (``names``: drawn name → argument name)."""
    keys = ("mean_p", "log_std_p", "mean_q", "log_std_q")
    return gaussian_pairs().map(lambda pair: Call({names[k]: a for k, a in zip(keys, pair, strict=True) if k in names}))


def gaussian_agreement(call: Call, eps: float) -> float:
    """exp(2Δlog σ) and ((μ_p − μ_q)/σ_q)² summed over d: each a few roundings of its own size."""
    a = call.arrays
    if "mean_p" not in a:
        return 2 * scaled_tolerance(eps, float(np.abs(a["log_std"]).max()) + 2, a["log_std"].shape[-1])
    ratio = np.exp(2 * (a["log_std_p"] - a["log_std_q"])) + ((a["mean_p"] - a["mean_q"]) / np.exp(a["log_std_q"])) ** 2
    scale = float(ratio.max()) * 4 + float(np.abs(a["log_std_p"] - a["log_std_q"]).max()) + 1
    return 2 * scaled_tolerance(eps, scale, a["mean_p"].shape[-1])


def block(name, function, calls, claims, agreement=exact) -> Block:
    return Block(name, function, calls, tuple(claims), agreement)


BLOCKS = [
    block("td_errors", lineage.td_errors, second(segment_calls("td_errors")), ["STD-TT-1"]),
    block(
        "discounted_returns",
        lineage.discounted_returns,
        second(segment_calls("discounted_returns")),
        ["STD-TT-1", "STD-TT-2"],
    ),
    block("n_step_advantages", lineage.n_step_advantages, second(segment_calls("n_step_advantages")), ["GAE-6"]),
    block("gae", lineage.gae, second(segment_calls("gae")), ["STD-GAE-7", "GAE-3"]),
    block("lambda_returns", lineage.lambda_returns, second(segment_calls("lambda_returns")), ["PPO-15", "STD-GAE-3"]),
    block(
        "probability_ratio",
        ppo.probability_ratio,
        clip_calls(("logp_new", "logp_old"), with_eps=False),
        ["STD-PPO-2"],
        ratio_agreement,
    ),
    block("clipped_surrogate", ppo.clipped_surrogate, clip_calls(), ["PPO-5", "STD-PPO-2"], surrogate_agreement),
    block("ppo_clip_loss", ppo.ppo_clip_loss, clip_calls(), ["PPO-5", "STD-PPO-3"], clip_loss_agreement),
    block("clip_value", ppo.clip_value, value_calls(("values_new", "values_old")), ["STD-PPO-5"]),
    block("value_loss_max", ppo.value_loss, value_calls(variant="max"), ["STD-PPO-5"], value_loss_agreement),
    block("value_loss_clipped", ppo.value_loss, value_calls(variant="clipped"), ["STD-PPO-5"], value_loss_agreement),
    block(
        "value_loss_unclipped", ppo.value_loss, value_calls(variant="unclipped"), ["STD-PPO-4"], value_loss_agreement
    ),
    block("kl_k1", ppo.kl_k1, kl_samples().map(lambda c: Call(c.inputs())), ["STD-KL-1"]),
    block("kl_k2", ppo.kl_k2, kl_samples().map(lambda c: Call(c.inputs())), ["STD-KL-1"]),
    block("kl_k3", ppo.kl_k3, kl_samples().map(lambda c: Call(c.inputs())), ["STD-KL-1"], k3_agreement),
    block(
        "categorical_kl",
        ppo.categorical_kl,
        categorical_calls().map(lambda c: only(c, "logits_old", "logits_new")),
        ["STD-PPO-1"],
        softmax_agreement,
    ),
    block(
        "categorical_entropy",
        ppo.categorical_entropy,
        categorical_calls().map(lambda c: Call({"logits": c.arrays["logits_new"]})),
        ["STD-PPO-4"],
        softmax_agreement,
    ),
    block(
        "diagonal_gaussian_entropy",
        ppo.diagonal_gaussian_entropy,
        gaussian_calls({"log_std_p": "log_std"}),
        ["STD-PPO-4"],
        gaussian_agreement,
    ),
    block(
        "diagonal_gaussian_kl",
        ppo.diagonal_gaussian_kl,
        gaussian_calls({k: k for k in ("mean_p", "log_std_p", "mean_q", "log_std_q")}),
        ["PPO-4", "STD-KL-2"],
        gaussian_agreement,
    ),
    block("penalized_surrogate", ppo.penalized_surrogate, categorical_calls(), ["PPO-4"], penalty_agreement),
    block("ppo_penalty_loss", ppo.ppo_penalty_loss, categorical_calls(), ["PPO-4", "STD-PPO-1"], penalty_agreement),
    block(
        "penalized_surrogate_from_kl",
        ppo.penalized_surrogate_from_kl,
        penalty_from_kl_calls(),
        ["PPO-4"],
        penalty_from_kl_agreement,
    ),
    block(
        "ppo_penalty_loss_from_kl",
        ppo.ppo_penalty_loss_from_kl,
        penalty_from_kl_calls(),
        ["PPO-4", "STD-PPO-1"],
        penalty_from_kl_loss_agreement,
    ),
    block("combined_loss", ppo.combined_loss, combined_calls(), ["STD-PPO-4"], combined_agreement),
    block(
        "normalize_advantages", ppo.normalize_advantages, normalization_calls(), ["STD-RLHF-5"], normalization_agreement
    ),
    block("token_rewards", rlhf.token_rewards, token_reward_calls(), ["STD-RLHF-1", "RLHF-1"]),
    block("whiten", rlhf.whiten, whiten_calls(), ["STD-RLHF-5"], whiten_agreement),
    block("bradley_terry_loss", rlhf.bradley_terry_loss, preference_calls(), ["PPO-2", "RLHF-1"], preference_agreement),
    block(
        "pretraining_log_likelihood",
        rlhf.pretraining_log_likelihood,
        ptx_calls(loss=False),
        ["STD-RLHF-6"],
        ptx_agreement,
    ),
    block("ppo_ptx_loss", rlhf.ppo_ptx_loss, ptx_calls(loss=True), ["STD-RLHF-6"], ptx_agreement),
]


def each_block(blocks=BLOCKS):
    return [pytest.param(b, id=b.name, marks=pytest.mark.claim(*b.claims)) for b in blocks]


# --------------------------------------------------------------------------------------------------------
# (a) numpy in → numpy out, torch in → torch out, same dtype, same values
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", each_block())
@given(data=st.data())
def test_numpy_in_numpy_out_torch_in_torch_out_with_the_same_values(block, data):
    """The array rule (notes §GAE, §PPO; the block's claims), on one drawn call:

    * float arrays of one dtype (float32, then float64) in numpy give a numpy array of that dtype (a 0-d array for
      a loss); the same arrays as CPU tensors give a tensor of that dtype on the CPU, equal to the numpy result bit
      for bit where the block only adds, multiplies and selects, and within twice one evaluation's rounding
      allowance where exp, log or a reduction enters (see the module docstring);
    * lists of numbers give float64 numpy results; a float32 array next to float64 ones gives float64;
    * one tensor among numpy arguments — each argument in turn, whatever its kind (a float32 tensor, a bool mask,
      integer actions) — makes the call a torch call: a float64 tensor out, or float32 if that tensor is the only
      float argument."""
    call = data.draw(block.calls, label="call")
    for dtype in ("float32", "float64"):
        same_values_in_both_frameworks(block, call, dtype)
    lists_compute_in_float64_and_mixed_dtypes_promote(block, call)


def same_values_in_both_frameworks(block: Block, call, dtype: str) -> None:
    from_numpy = block(call.inputs("numpy", dtype), call.params)
    assert isinstance(from_numpy, np.ndarray), f"numpy {dtype} in, {type(from_numpy).__name__} out"
    assert from_numpy.dtype == np.dtype(dtype), f"{dtype} in, {from_numpy.dtype} out"
    tensors = call.inputs("torch", dtype)
    from_torch = block(tensors, call.params)
    assert isinstance(from_torch, torch.Tensor), f"torch {dtype} in, {type(from_torch).__name__} out"
    assert from_torch.dtype == getattr(torch, dtype), f"torch.{dtype} in, {from_torch.dtype} out"
    assert from_torch.device == next(iter(tensors.values())).device
    assert tuple(from_torch.shape) == from_numpy.shape
    difference = np.abs(from_torch.numpy().astype(np.float64) - from_numpy.astype(np.float64))
    allowed = block.agreement(call, float(np.finfo(dtype).eps))
    assert np.all(difference <= allowed), (
        f"torch vs numpy ({dtype}): largest difference {difference.max():.3g}, allowed {np.min(allowed):.3g}\n"
        f"torch: {from_torch.numpy()!r}\nnumpy: {from_numpy!r}"
    )


def lists_compute_in_float64_and_mixed_dtypes_promote(block: Block, call) -> None:
    floats = call.floats()
    as_lists = {n: a.tolist() if n in floats else a for n, a in call.arrays.items()}
    from_lists = block(as_lists, call.params)
    assert isinstance(from_lists, np.ndarray) and from_lists.dtype == np.float64, (type(from_lists), from_lists)

    if len(floats) > 1:
        mixed = {**call.inputs("numpy", "float64"), floats[0]: call.arrays[floats[0]].astype(np.float32)}
        assert block(mixed, call.params).dtype == np.float64

    for name, array in call.arrays.items():
        argument = array.astype(np.float32) if name in floats else array
        one_tensor = {**call.inputs("numpy", "float64"), name: torch.from_numpy(argument)}
        promoted = block(one_tensor, call.params)
        expected = torch.float32 if floats == [name] else torch.float64
        assert isinstance(promoted, torch.Tensor) and promoted.dtype == expected, (name, type(promoted), promoted)


@pytest.mark.claim("STD-PPO-3", "STD-PPO-1")
@given(call=clip_calls())
def test_training_diagnostics_are_python_floats_in_both_frameworks(call):
    """STD-PPO-3, STD-PPO-1 (notes §PPO): the numbers that steer training rather than enter a loss — the clip
    fraction and the next KL coefficient — are Python floats, equal whether numpy arrays or tensors came in, except
    for samples whose ratio ties with an edge 1 ± ε of the band within rounding: numpy's and torch's exp may differ
    by an ulp, so such a sample may count as clipped in one framework and not in the other (either is right)."""
    numpy_fraction = ppo.clip_fraction(**call.inputs("numpy", "float64"), **call.params)
    torch_fraction = ppo.clip_fraction(**call.inputs("torch", "float64"), **call.params)
    assert type(numpy_fraction) is float and type(torch_fraction) is float
    arrays, eps = call.inputs("numpy", "float64"), call.params["clip_eps"]
    ratio = np.exp(arrays["logp_new"] - arrays["logp_old"])
    edge_ulps = 4 * EPS * (1 + eps)  # two exps an ulp apart, each within an ulp of e^x, plus the rounding of 1 ± ε
    ties = np.minimum(np.abs(ratio - (1 + eps)), np.abs(ratio - (1 - eps))) <= edge_ulps
    assert abs(numpy_fraction - torch_fraction) <= ties.sum() / ratio.size, (numpy_fraction, torch_fraction, ratio)
    kl = ppo.kl_k1(**{n: call.inputs("torch", "float64")[n] for n in ("logp_new", "logp_old")}).mean()
    assert type(ppo.adapt_kl_coef(1.0, kl, kl_target=0.01)) is float


def test_numpy_callers_of_the_returns_never_import_torch():
    """The array rule: ``import lineage`` and a numpy call of every return/advantage function leave torch
    unimported (checked in a fresh interpreter)."""
    program = (
        "import sys, numpy as np, lineage\n"
        "r = np.array([1.0, 2.0]); f = np.array([False, True])\n"
        "lineage.td_errors(r, r, r, f, gamma=0.9)\n"
        "lineage.discounted_returns(r, r, f, f, gamma=0.9)\n"
        "for g in (lineage.gae, lineage.lambda_returns):\n"
        "    g(r, r, r, f, f, gamma=0.9, lam=0.5)\n"
        "lineage.n_step_advantages(r, r, r, f, f, gamma=0.9, n=2)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------------------------
# (b) autograd against the exact derivative
# --------------------------------------------------------------------------------------------------------


def jacobians(function: Callable, arrays: dict[str, np.ndarray], wrt: tuple[str, ...], **params) -> dict:
    """∂ output_o / ∂ arrays[name]_i by autograd, one backward pass per output entry o (so no two outputs'
    gradients are ever added): {name: [outputs, entries]} as float64 numpy arrays."""
    leaves = {name: tensor(arrays[name], grad=True) for name in wrt}
    others = {name: torch.from_numpy(a.copy()) for name, a in arrays.items() if name not in wrt}
    output = function(**leaves, **others, **params).reshape(-1)
    rows: dict[str, list] = {name: [] for name in wrt}
    for o in range(output.numel()):
        grads = torch.autograd.grad(output[o], list(leaves.values()), retain_graph=True, allow_unused=True)
        for name, grad in zip(wrt, grads, strict=True):
            rows[name].append(
                torch.zeros(leaves[name].numel(), dtype=torch.float64) if grad is None else grad.reshape(-1)
            )
    return {name: torch.stack(rows[name]).numpy() for name in wrt}


def assert_derivative(got: np.ndarray, expected: np.ndarray, rounds: np.ndarray, what: str) -> None:
    """|got − expected| ≤ γ_k·|expected| + k·2⁻¹⁰⁷⁴ entry by entry, k = ``rounds`` (exact zeros must come out 0).
    ``expected`` holds Fractions or Decimals; the comparison is exact."""
    for index in np.ndindex(got.shape):
        want = Fraction(expected[index])
        k = float(rounds[index])
        allowed = Fraction(gamma_k(k)) * abs(want) + Fraction(SUBNORMAL) * math.ceil(k)
        assert abs(Fraction(float(got[index])) - want) <= allowed, (
            f"{what}[{index}]: autograd {float(got[index])!r}, exact {float(want)!r} "
            f"(|diff| {float(abs(Fraction(float(got[index])) - want)):.3g} > {float(allowed):.3g}, k = {k})"
        )


# ---- the return/advantage recursions ------------------------------------------------------------------


def segment_derivatives(name: str, case) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The exact Jacobian of a return/advantage function in rewards, values and next_values, with the number k of
    rounded factors autograd multiplies along each entry's path: {input: (exact [out, in], k [out, in])}.

    Column by column, from step t the recursion reaches the steps s = t, t+1, … up to the first s with done_s or
    s = T − 1 (TD errors: s = t only; k-step: s − t < n). Along the way it carries c per step: γλ for GAE and
    λ-returns, γ for returns and k-step. So ∂out_t/∂r_s = c^{s−t}, ∂out_t/∂V_s = −c^{s−t} (λ-returns add +1 at
    s = t, which makes that entry 0) and ∂out_t/∂V(s_{s+1}) = c^{s−t}·γ·(1 − terminated_s) (the discounted return
    reads next_values only where it stops). k counts the roundings: c = fl(γλ) itself (l = s − t times) and l − 1
    products along the chain for GAE; l − 1 for γ (exact) chains; one more for the factor γ of a bootstrap."""
    a = case.inputs()
    flat = a["rewards"].ndim == 1
    columns = {k: (v[:, None] if flat else v) for k, v in a.items()}
    steps, width = columns["rewards"].shape
    gamma, lam, n = Fraction(case.gamma), Fraction(case.lam or 0), case.n
    through_lambda = name in ("gae", "lambda_returns")
    carry = gamma * lam if through_lambda else gamma
    done = columns["terminated"] | columns["truncated"]
    size = steps * width
    names = ("rewards", "values", "next_values")
    exact_ = {k: np.full((size, size), Fraction(0), dtype=object) for k in names}
    rounds = {k: np.zeros((size, size)) for k in names}
    for b in range(width):
        for t in range(steps):
            out = t * width + b
            reach = []
            for s in range(t, steps):
                if (name == "td_errors" and s > t) or (name == "n_step_advantages" and s - t >= n):
                    break
                reach.append(s)
                if done[s, b]:
                    break
            for s in reach:
                lag, entry = s - t, s * width + b
                factor = carry**lag
                chain = 2 * lag - 1 if through_lambda and lag else max(lag - 1, 0)
                bootstrap = gamma * (0 if columns["terminated"][s, b] else 1)
                exact_["rewards"][out, entry], rounds["rewards"][out, entry] = factor, chain
                exact_["values"][out, entry], rounds["values"][out, entry] = -factor, chain
                if name != "discounted_returns" or s == reach[-1]:
                    exact_["next_values"][out, entry] = factor * bootstrap
                    rounds["next_values"][out, entry] = chain + 1
            if name == "lambda_returns":
                exact_["values"][out, out] += 1
    return {k: (exact_[k], rounds[k]) for k in names}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("td_errors", marks=pytest.mark.claim("STD-TT-1")),
        pytest.param("discounted_returns", marks=pytest.mark.claim("STD-TT-1", "STD-TT-2")),
        pytest.param("n_step_advantages", marks=pytest.mark.claim("GAE-6", "STD-TT-1")),
        pytest.param("gae", marks=pytest.mark.claim("STD-GAE-7", "GAE-3", "STD-TT-1", "STD-TT-2")),
        pytest.param("lambda_returns", marks=pytest.mark.claim("PPO-15", "STD-GAE-3")),
    ],
)
@given(data=st.data())
def test_autograd_through_the_recursions_gives_the_discounted_weights(name, data):
    """STD-GAE-7, GAE-3 (notes §GAE), PPO-15, GAE-6, STD-TT-1/2: autograd through lineage's recursions in
    float64 gives ∂A_t/∂r_{t+l} = (γλ)^l for GAE while the episode of step t runs through t + l (exponent up to
    T − t − 1 at the end of a segment) and exactly 0 after it ends or before t; γ^l for returns and k-step
    estimates (l < n); −(γλ)^l in the values; (γλ)^l·γ·(1 − terminated) in next_values; exactly 0 in V(s_t) for
    λ-returns. γ and λ reach 0 and 1."""
    case, call = data.draw(segment_calls(name, max_length=8), label="case")
    function = getattr(lineage, name)
    wrt = tuple(k for k in ("rewards", "values", "next_values") if k in call.arrays)
    got = jacobians(function, call.arrays, wrt, **call.params)
    for argument, (expected, rounds) in segment_derivatives(name, case).items():
        if argument in got:
            assert_derivative(got[argument], expected, rounds, f"∂{name}/∂{argument}")


# ---- PPO ----------------------------------------------------------------------------------------------


def decimal_exp(x: Fraction) -> Decimal:
    with localcontext() as context:
        context.prec = DIGITS
        return (Decimal(x.numerator) / Decimal(x.denominator)).exp()


# ρ just past 1 + ε where ρA and (1 + ε)A round alike (binding: gradient 0), and samples on both edges.
ROUNDING_TIE = ClipCase(logp_new=[0.1823215567939547], logp_old=[0.0], advantages=[1.7], clip_eps=0.2)
EDGES = ClipCase(
    logp_new=[math.log(1.5), math.log(0.5), math.log1p(0.2), math.log1p(-0.2), math.log(1.5), 0.3],
    logp_old=[0.0] * 6,
    advantages=[1.0, 1.0, 2.0, -2.0, -1.0, 0.0],
    clip_eps=0.2,
)


@pytest.mark.claim("STD-PPO-3", "PPO-5", "PPO-13")
@given(case=clip_cases())
@example(case=ROUNDING_TIE)
@example(case=EDGES)
def test_clip_loss_gradient_is_minus_a_rho_over_n_or_zero(case):
    """STD-PPO-3, PPO-5 (notes §PPO): ∂ ppo_clip_loss/∂ log π_new,i = −A_i·ρ_i/N where the clip does not bind and
    exactly 0 where it binds ((A > 0 ∧ ρ > 1 + ε) or (A < 0 ∧ ρ < 1 − ε), ρ as lineage computes it); log π_old and
    the advantages are constants of the loss (PPO-13): no gradient reaches them. ρ_i = exp(log π_new − log π_old)
    exactly (50 digits). Autograd
    forms the derivative as fl(fl(fl(−1/N)·A)·ρ̂) with ρ̂ = exp(fl(d)) (exp within one ulp, 2u; the rounded
    difference d moves ρ by |d|·u relatively): k = 5 + |d|."""
    a = case.inputs()
    new, old = tensor(a["logp_new"], grad=True), tensor(a["logp_old"], grad=True)
    adv = tensor(a["advantages"], grad=True)
    loss = ppo.ppo_clip_loss(new, old, adv, clip_eps=case.clip_eps)
    grad_new, grad_old, grad_adv = torch.autograd.grad(loss, (new, old, adv), allow_unused=True)
    assert grad_old is None and grad_adv is None, (grad_old, grad_adv)
    ratio = torch.exp(new - old).detach().numpy()
    binds = ((a["advantages"] > 0) & (ratio > 1 + case.clip_eps)) | (
        (a["advantages"] < 0) & (ratio < 1 - case.clip_eps)
    )
    size = len(a["advantages"])
    expected = np.empty(size, dtype=object)
    rounds = np.zeros(size)
    for i in range(size):
        d = Fraction(a["logp_new"][i]) - Fraction(a["logp_old"][i])
        expected[i] = Decimal(0) if binds[i] else -Fraction(a["advantages"][i]) * Fraction(decimal_exp(d)) / size
        rounds[i] = 5 + abs(float(d))
    assert_derivative(grad_new.numpy(), expected, rounds, "∂loss/∂log π_new")


@pytest.mark.claim("STD-PPO-5", "PPO-17")
@given(case=value_cases().filter(lambda c: not near_value_kink(c)), variant=st.sampled_from(["max", "clipped"]))
def test_value_loss_gradient_is_the_error_of_the_branch_taken(case, variant):
    """STD-PPO-5, PPO-17 (notes §PPO): ∂L^VF/∂V_new,i, exactly: "max": (V_new,i − R_i)/N unless the clipped error
    is strictly the larger (then 0); "clipped": 2(V_new,i − R_i)/N inside the closed band [V_old − ε, V_old + ε],
    0 outside. Autograd rounds the difference, the 1/N and the product: k = 3. Not at a kink (|V_new − V_old| = ε,
    or tied errors outside the band), where the loss has no derivative and autograd may take either side or mix
    them (torch.maximum splits a tie)."""
    a = case.inputs()
    v = tensor(a["values_new"], grad=True)
    loss = ppo.value_loss(v, tensor(a["values_old"]), tensor(a["returns"]), clip_eps=case.clip_eps, variant=variant)
    (grad,) = torch.autograd.grad(loss, v)
    low, high = a["values_old"] - case.clip_eps, a["values_old"] + case.clip_eps
    inside = (low <= a["values_new"]) & (a["values_new"] <= high)
    # Compare |error| (a subtraction and abs, rounded the same way everywhere), not the squares: numpy's array and
    # scalar powers may round a square differently, which turns a tie inside the band into a "larger" error.
    clipped_larger = ~inside & (
        np.abs(np.clip(a["values_new"], low, high) - a["returns"]) > np.abs(a["values_new"] - a["returns"])
    )
    size = len(a["returns"])
    expected = np.empty(size, dtype=object)
    for i in range(size):
        error = (Fraction(a["values_new"][i]) - Fraction(a["returns"][i])) / size
        if variant == "max":
            expected[i] = Fraction(0) if clipped_larger[i] else error
        else:
            expected[i] = 2 * error if inside[i] else Fraction(0)
    assert_derivative(grad.numpy(), expected, np.full(size, 3.0), f"∂ value_loss({variant!r})/∂V_new")


@pytest.mark.claim("STD-KL-1")
@given(samples=kl_samples())
def test_kl_estimator_gradients_are_minus_one_log_r_and_r_minus_one(samples):
    """STD-KL-1 (notes §PPO): per sample, ∂k1/∂log π_new = −1, ∂k2/∂log π_new = log r and ∂k3/∂log π_new = r − 1,
    with r = π_new/π_old; the derivatives in log π_old are their negatives. k1 exactly; k2: autograd returns the
    rounded log r (k = 1); k3: autograd forms fl(fl(r̂' + 1) − 1) from expm1 (one ulp), whose error is at most
    u·(r(1 + |log r|) + 3|r − 1|) to first order — allowed with the second-order terms as (1 + 4u) times that."""
    a = samples.inputs()
    size = len(a["logp_new"])
    for estimator in ("k1", "k2", "k3"):
        new, old = tensor(a["logp_new"], grad=True), tensor(a["logp_old"], grad=True)
        grad_new, grad_old = torch.autograd.grad(getattr(ppo, f"kl_{estimator}")(new, old).sum(), (new, old))
        for i in range(size):
            d = Fraction(a["logp_new"][i]) - Fraction(a["logp_old"][i])
            r = Fraction(decimal_exp(d))
            want = {"k1": Fraction(-1), "k2": d, "k3": r - 1}[estimator]
            allowed = {
                "k1": Fraction(0),
                "k2": Fraction(U) * abs(d),
                "k3": Fraction(U * (1 + 4 * U)) * (r * (1 + abs(d)) + 3 * abs(r - 1)),
            }[estimator]
            for got, sign in ((grad_new[i].item(), 1), (grad_old[i].item(), -1)):
                assert abs(Fraction(got) - sign * want) <= allowed, (
                    f"∂{estimator}/∂log π_{'new' if sign > 0 else 'old'}[{i}]: autograd {got!r}, "
                    f"exact {float(sign * want)!r}, allowed {float(allowed):.3g}"
                )


def decimal_log_softmax(row: np.ndarray) -> list[Decimal]:
    with localcontext() as context:
        context.prec = DIGITS
        logits = [Decimal(float(x)) for x in row]
        top = max(logits)
        total = sum((x - top).exp() for x in logits)
        return [x - top - total.ln() for x in logits]


def decimal_exp_list(values: list[Decimal]) -> list[Decimal]:
    with localcontext() as context:
        context.prec = DIGITS
        return [v.exp() for v in values]


@pytest.mark.claim("PPO-4", "STD-PPO-1")
@given(call=categorical_calls())
def test_penalty_loss_gradient_in_the_new_logits(call):
    """PPO-4, STD-PPO-1 (notes §PPO): ∂ ppo_penalty_loss/∂θ_new[i, b] = −(1/N)[ρ_i A_i (1[b = a_i] − π_new(b|s_i))
    − β (π_new(b|s_i) − π_old(b|s_i))], softmax probabilities to 50 digits. Each log-softmax is off by at most
    (M + K + 2)·u absolutely, M = 1 + max|log π| (the shift, K exps and their sum, the log), so π by that much
    relatively and ρ = exp(difference of two) by 2(M + K + 2)·u + 2u; the backward pass adds a sum over K actions
    and a handful of products: allowed (2M + 2K + 12)·u·(ρ|A| + 2β)/N."""
    a = call.arrays
    logits = tensor(a["logits_new"], grad=True)
    loss = ppo.ppo_penalty_loss(logits, a["logits_old"], a["actions"], a["advantages"], beta=call.params["beta"])
    (grad,) = torch.autograd.grad(loss, logits)
    states, actions = a["logits_new"].shape
    beta = Decimal(call.params["beta"])
    magnitude = log_softmax_magnitude(a["logits_new"], a["logits_old"])
    for i in range(states):
        log_new, log_old = decimal_log_softmax(a["logits_new"][i]), decimal_log_softmax(a["logits_old"][i])
        pi_new, pi_old = decimal_exp_list(log_new), decimal_exp_list(log_old)
        taken = int(a["actions"][i])
        (ratio,) = decimal_exp_list([log_new[taken] - log_old[taken]])
        weight = ratio * Decimal(float(a["advantages"][i]))
        allowed = (2 * magnitude + 2 * actions + 12) * U * (float(abs(weight)) + 2 * float(beta)) / states
        for b in range(actions):
            exact_ = -(weight * ((b == taken) - pi_new[b]) - beta * (pi_new[b] - pi_old[b])) / states
            assert abs(Fraction(grad[i, b].item()) - Fraction(exact_)) <= Fraction(allowed), (
                f"∂loss/∂θ_new[{i}, {b}]: autograd {grad[i, b].item()!r}, exact {float(exact_)!r}, "
                f"allowed {allowed:.3g}"
            )


@pytest.mark.claim("STD-PPO-4")
@given(call=combined_calls())
def test_combined_loss_gradient_is_one_c1_and_minus_c2_over_n(call):
    """STD-PPO-4 (notes §PPO): ∂loss/∂clip_loss = 1 and ∂loss/∂value_loss = c1 exactly, ∂loss/∂H_i = −c2/N (one
    rounding, the division by N): a descent step raises the entropy."""
    a, p = call.arrays, call.params
    clip, value, entropy = (tensor(a[n], grad=True) for n in ("clip_loss", "value_loss", "entropy"))
    loss = ppo.combined_loss(clip, value, entropy, vf_coef=p["vf_coef"], ent_coef=p["ent_coef"])
    g_clip, g_value, g_entropy = torch.autograd.grad(loss, (clip, value, entropy))
    assert g_clip.item() == 1.0 and g_value.item() == p["vf_coef"]
    size = len(a["entropy"])
    expected = np.array([-Fraction(p["ent_coef"]) / size] * size, dtype=object)
    assert_derivative(g_entropy.numpy(), expected, np.ones(size), "∂loss/∂H")


@pytest.mark.claim("STD-PPO-4")
@given(call=categorical_calls())
def test_entropy_gradient_is_minus_pi_times_log_pi_plus_h(call):
    """STD-PPO-4 (notes §PPO): ∂H/∂θ = −π ⊙ (log π + H) for the entropy of softmax logits θ, per state (softmax to
    50 digits). log π is off by at most (M + K + 2)·u, M = 1 + max|log π|, and π by that relatively; the backward
    pass forms π(1 + log π) per action and sums K of them: allowed (2K + 12)·u·M."""
    logits = call.arrays["logits_new"]
    theta = tensor(logits, grad=True)
    (grad,) = torch.autograd.grad(ppo.categorical_entropy(theta).sum(), theta)
    allowed = (2 * logits.shape[1] + 12) * U * log_softmax_magnitude(logits)
    for i in range(logits.shape[0]):
        log_pi = decimal_log_softmax(logits[i])
        pi = decimal_exp_list(log_pi)
        h = -sum(p * log_p for p, log_p in zip(pi, log_pi, strict=True))
        for b in range(logits.shape[1]):
            exact_ = -pi[b] * (log_pi[b] + h)
            assert abs(Fraction(grad[i, b].item()) - Fraction(exact_)) <= Fraction(allowed), (
                f"∂H/∂θ[{i}, {b}]: autograd {grad[i, b].item()!r}, exact {float(exact_)!r}, allowed {allowed:.3g}"
            )


def to_decimal(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


def standardisation_jacobian(x: list[Fraction], dof: int, root: Decimal, denominator: Decimal) -> np.ndarray:
    """∂z_i/∂x_j of z = (x − mean)/D with D a function of S = Σ(x − mean)² whose derivative in x_j is
    c_j/(dof·root): (δ_ij − 1/n)/D − c_i c_j/(dof·root·D²), to 50 digits. Normalisation: D = σ + eps with
    σ = √(S/dof) = root, dof = n − ddof; whitening: D = s = √(S/(n − 1) + ε) = root, dof = n − 1."""
    with localcontext() as context:
        context.prec = DIGITS
        n = len(x)
        mean = sum(x) / n
        centred = [to_decimal(v - mean) for v in x]
        jacobian = np.empty((n, n), dtype=object)
        for i in range(n):
            for j in range(n):
                entry = (Decimal(int(i == j)) - Decimal(1) / n) / denominator
                if dof > 0:
                    entry -= centred[i] * centred[j] / (dof * root * denominator * denominator)
                jacobian[i, j] = entry
        return jacobian


def root_of_spread(x: list[Fraction], dof: int, offset: float = 0.0) -> Decimal:
    """√(Σ(x − mean)²/dof + offset) to 50 digits (√offset without degrees of freedom)."""
    mean = sum(x) / len(x)
    variance = sum((v - mean) ** 2 for v in x) / dof if dof > 0 else Fraction(0)
    with localcontext() as context:
        context.prec = DIGITS
        return (to_decimal(variance) + Decimal(offset)).sqrt()


def largest_difference(got: np.ndarray, expected: np.ndarray) -> Fraction:
    return max(
        abs(Fraction(float(g)) - Fraction(e)) for g, e in zip(got.reshape(-1), expected.reshape(-1), strict=True)
    )


@pytest.mark.claim("STD-RLHF-5")
@given(
    batch=advantage_batches().filter(spread_squares_to_a_normal_float),
    ddof=st.sampled_from([0, 1]),
    eps=st.sampled_from([0.0, 1e-8]),
)
def test_normalisation_gradient_is_the_jacobian_of_standardisation(batch, ddof, eps):
    """STD-RLHF-5 (notes §PPO): autograd through normalize_advantages gives ∂z_i/∂A_j = (δ_ij − 1/n)/(σ + eps)
    − c_i c_j/((n − ddof)σ(σ + eps)²), c = A − mean A. Every entry is at most 2/(σ + eps) in size. The mean is off
    by n·u·max|A|, which moves each c_i by that against the spread σ (condition κ = max|A|/σ); σ is off by
    (n + 4)·u relatively; the backward pass adds two sums over n entries and a handful of products: at most
    2n + 12 errors of size u·2(1 + κ)/(σ + eps)."""
    a = batch.inputs()["advantages"]
    got = jacobians(ppo.normalize_advantages, {"advantages": a}, ("advantages",), ddof=ddof, eps=eps)["advantages"]
    x = [Fraction(v) for v in a.tolist()]
    sigma = root_of_spread(x, a.size - ddof)
    expected = standardisation_jacobian(x, a.size - ddof, sigma, sigma + Decimal(eps))
    condition = float(np.abs(a).max()) / float(sigma)
    allowed = (2 * a.size + 12) * U * 2 * (1 + condition) / (float(sigma) + eps)
    worst = largest_difference(got, expected)
    assert worst <= Fraction(allowed), f"largest |diff| {float(worst):.3g} > {allowed:.3g}"


@pytest.mark.claim("STD-RLHF-5")
@given(drawn=masked_values(min_valid=2), shift_mean=st.booleans())
def test_whitening_gradient_is_the_jacobian_of_standardisation_on_the_valid_entries(drawn, shift_mean):
    """STD-RLHF-5 (notes §PPO, RLHF part): on the n valid entries ∂whiten(x)_i/∂x_j = (δ_ij − 1/n)/s
    − c_i c_j/((n − 1)s³), s = √(σ² + 1e-8), plus 1/n with shift_mean=False; exactly 0 for every padded output and
    every padded input. The allowance is the normalisation's with s for σ + eps and κ = max|x|/s, plus u for the
    1/n of the mean added back."""
    values, mask = drawn
    got = jacobians(rlhf.whiten, {"values": values, "mask": mask}, ("values",), shift_mean=shift_mean)["values"]
    valid, padded = np.flatnonzero(mask.reshape(-1)), np.flatnonzero(~mask.reshape(-1))
    assert np.all(got[padded, :] == 0.0) and np.all(got[:, padded] == 0.0), got
    x = [Fraction(v) for v in values.reshape(-1)[valid].tolist()]
    s = root_of_spread(x, len(x) - 1, WHITENING_EPSILON)
    expected = standardisation_jacobian(x, len(x) - 1, s, s) + (0 if shift_mean else Decimal(1) / len(x))
    condition = float(np.abs(values[mask]).max()) / float(s)
    allowed = (2 * len(x) + 12) * U * 2 * (1 + condition) / float(s) + U
    worst = largest_difference(got[np.ix_(valid, valid)], expected)
    assert worst <= Fraction(allowed), f"largest |diff| {float(worst):.3g} > {allowed:.3g}"


@pytest.mark.claim("STD-RLHF-1", "RLHF-1", "RLHF-2")
@given(call=token_reward_calls())
def test_token_reward_gradients_are_minus_beta_beta_and_one_on_the_last_token(call):
    """STD-RLHF-1, RLHF-1, RLHF-2 (notes §PPO, RLHF part): ∂r_t/∂log π_t = −β and ∂r_t/∂log π_ref,t = β on every
    valid token, ∂r_t/∂score = 1 on the last valid token of its response; every other entry of the Jacobian
    (other tokens, padding, other responses) is exactly 0 — all exact, no rounding."""
    a, beta = call.arrays, call.params["beta"]
    got = jacobians(rlhf.token_rewards, a, ("scores", "logp", "ref_logp"), beta=beta)
    rows, tokens = a["logp"].shape
    mask = a["mask"].reshape(-1)
    last = np.array([max(t for t in range(tokens) if a["mask"][b, t]) for b in range(rows)])
    size = rows * tokens
    np.testing.assert_array_equal(got["logp"], np.diag(np.where(mask, -beta, 0.0)))
    np.testing.assert_array_equal(got["ref_logp"], np.diag(np.where(mask, beta, 0.0)))
    on_last = np.zeros((size, rows))
    on_last[np.arange(rows) * tokens + last, np.arange(rows)] = 1.0
    np.testing.assert_array_equal(got["scores"], on_last)


@pytest.mark.claim("STD-RLHF-6")
@given(call=ptx_calls(loss=True))
def test_ptx_loss_gradient_is_minus_coef_times_the_mask_over_b(call):
    """STD-RLHF-6 (notes §PPO, RLHF part): ∂ ppo_ptx_loss/∂rl_loss = 1 exactly and ∂/∂ log π(x_t|x_<t) =
    −γ_ptx·mask/B (one rounding: the division by B; the product with −1 is exact); padding exactly 0."""
    a, coef = call.arrays, call.params["ptx_coef"]
    loss_leaf, logp = tensor(a["rl_loss"], grad=True), tensor(a["pretrain_token_logp"], grad=True)
    loss = rlhf.ppo_ptx_loss(loss_leaf, logp, torch.from_numpy(a["pretrain_mask"]), ptx_coef=coef)
    g_loss, g_logp = torch.autograd.grad(loss, (loss_leaf, logp))
    assert g_loss.item() == 1.0
    rows = a["pretrain_mask"].shape[0]
    expected = np.where(a["pretrain_mask"], -Fraction(coef) / rows, Fraction(0)).astype(object)
    assert_derivative(g_logp.numpy(), expected, np.ones(expected.shape), "∂loss/∂log π")
