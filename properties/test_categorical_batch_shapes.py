"""Softmax, the exact categorical KL and the entropy act on the last axis only: ``[..., K]`` in, one distribution
(one KL, one entropy) per leading index out, whatever the number of leading axes (notes §PG for the tabular
softmax, §PPO for the KL penalty and the entropy bonus; claims named per property). The other properties only ever
call them with ``[N, K]``; here the batch has zero, one or two leading axes of sizes 1..3, K runs from 1 (a single
action) to 4, and the logits reach ±4 and ties.

Tolerances: a softmax entry lies in [0, 1] and comes from K exponentials and a sum of K terms, so it rounds within
``scaled_tolerance(eps, 1, K)``; a KL is a sum of K terms p·(log p − log q) whose logs are at most
M = 2·4 + log K in size, so it rounds within ``scaled_tolerance(eps, M, K)``, and so does an entropy, a sum of K
terms p·log p. eps is the input dtype's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import LOGIT_BOUND
from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import categorical_entropy, categorical_kl
from lineage.tabular import softmax

DTYPES = [np.float32, np.float64]

logit_elements = st.one_of(st.sampled_from([-LOGIT_BOUND, 0.0, LOGIT_BOUND]), st.floats(-LOGIT_BOUND, LOGIT_BOUND))
batch_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)
actions = st.integers(1, 4)


@st.composite
def logit_batches(draw, dtype) -> np.ndarray:
    shape = (*draw(batch_shapes, label="batch shape"), draw(actions, label="K"))
    return draw(arrays(dtype, shape, elements=logit_elements), label="logits")


@st.composite
def logit_pairs(draw, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(old, new) of one shape; new is sometimes old itself, sometimes old shifted by a constant (the same
    distribution from other logits)."""
    old = draw(logit_batches(dtype))
    other = arrays(dtype, old.shape, elements=logit_elements)
    shifted = st.floats(-1.0, 1.0).map(lambda c: (old + dtype(c)).astype(dtype))
    new = draw(st.one_of(st.just(old), shifted, other), label="new logits")
    return old, new


def exact_softmax(logits: np.ndarray) -> np.ndarray:
    """The softmax in float64 along the last axis, the reference the float32 results are held to."""
    shifted = np.exp(logits.astype(np.float64) - logits.astype(np.float64).max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def kl_tolerance(dtype, n_actions: int) -> float:
    return scaled_tolerance(float(np.finfo(dtype).eps), 2 * LOGIT_BOUND + math.log(n_actions), n_actions)


@pytest.mark.claim("STD-PG-1", "PG-3")
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_softmax_normalises_each_slice_of_any_batch_shape(dtype, data):
    """STD-PG-1, PG-3 (notes §PG): softmax of ``[..., K]`` logits keeps their shape and dtype, every slice along the
    last axis is a distribution (entries ≥ 0, sum 1), and each slice equals the softmax of that row called alone."""
    logits = data.draw(logit_batches(dtype))
    got = softmax(logits)
    assert got.shape == logits.shape and got.dtype == logits.dtype, (
        f"{logits.dtype} logits of shape {logits.shape} in, {got.dtype} probabilities of shape {got.shape} out"
    )
    atol = scaled_tolerance(float(np.finfo(dtype).eps), 1.0, logits.shape[-1])
    assert np.all(got >= 0), f"negative probability: {got!r}"
    sums = got.astype(np.float64).sum(axis=-1)
    assert np.all(np.abs(sums - 1) <= atol), f"slice sums {sums!r} differ from 1 by more than {atol:.3g}"
    for row in np.ndindex(logits.shape[:-1]):
        alone = softmax(logits[row])
        assert np.all(np.abs(got[row].astype(np.float64) - alone) <= atol), (
            f"slice {row}: in the batch {got[row]!r}, alone {alone!r} (tolerance {atol:.3g})"
        )


@pytest.mark.claim("PPO-4", "STD-PPO-1", "STD-KL-2")
@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_categorical_kl_is_one_nonnegative_divergence_per_slice(framework, dtype, data):
    """PPO-4, STD-PPO-1, STD-KL-2 (notes §PPO): categorical_kl of ``[..., K]`` logits has shape ``[...]`` and the
    input dtype; each entry equals the KL of that row pair called alone; it is exactly 0 for identical logits and
    otherwise at least Pinsker's ½‖π_old − π_new‖₁² (so ≥ 0, and 0 only for equal distributions)."""
    old, new = data.draw(logit_pairs(dtype))
    as_input = torch.from_numpy if framework == "torch" else np.asarray
    got = categorical_kl(as_input(old), as_input(new))
    got = got.numpy() if framework == "torch" else got
    assert got.shape == old.shape[:-1] and got.dtype == old.dtype, (
        f"{old.dtype} logits of shape {old.shape} in, {got.dtype} KL of shape {got.shape} out, "
        f"expected shape {old.shape[:-1]}"
    )
    atol = kl_tolerance(dtype, old.shape[-1])
    for row in np.ndindex(old.shape[:-1]):
        alone = categorical_kl(as_input(old[row]), as_input(new[row]))
        assert abs(float(got[row]) - float(alone)) <= atol, (
            f"row {row}: in the batch {float(got[row])!r}, alone {float(alone)!r} (tolerance {atol:.3g})"
        )
    same = np.all(old == new, axis=-1)
    assert np.all(got[same] == 0), f"KL of identical logits: {got[same]!r}"
    pinsker = 0.5 * np.abs(exact_softmax(old) - exact_softmax(new)).sum(axis=-1) ** 2
    assert np.all(got >= pinsker - atol), (
        f"KL below Pinsker's bound by more than {atol:.3g}:\nKL      {got!r}\nbound   {pinsker!r}\n"
        f"old     {old!r}\nnew     {new!r}"
    )


@pytest.mark.claim("STD-PPO-4")
@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=30)
@given(data=st.data())
def test_categorical_entropy_is_one_entropy_per_slice(framework, dtype, data):
    """STD-PPO-4 (notes §PPO): categorical_entropy of ``[..., K]`` logits has shape ``[...]`` and the input dtype;
    each entry is −Σ_a π(a) log π(a) of its slice (against float64), so it lies in [0, log K]."""
    logits = data.draw(logit_batches(dtype))
    as_input = torch.from_numpy if framework == "torch" else np.asarray
    got = categorical_entropy(as_input(logits))
    got = got.numpy() if framework == "torch" else got
    assert got.shape == logits.shape[:-1] and got.dtype == logits.dtype, (
        f"{logits.dtype} logits of shape {logits.shape} in, {got.dtype} entropy of shape {got.shape} out, "
        f"expected shape {logits.shape[:-1]}"
    )
    pi = exact_softmax(logits)
    expected = -(pi * np.log(pi)).sum(axis=-1)
    atol = kl_tolerance(dtype, logits.shape[-1])
    assert np.all(np.abs(got - expected) <= atol), f"entropy {got!r}, expected {expected!r} (tolerance {atol:.3g})"
