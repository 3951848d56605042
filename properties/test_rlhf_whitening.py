"""Whitening of RLHF rewards and advantages over the valid tokens (claim STD-RLHF-5; notes §PPO):
(x − μ)/√(σ² + ε), σ² unbiased, ε = 1e-8, plus μ again for rewards (``shift_mean=False``).

The exact moments μ, σ² of the valid entries are computed in rational arithmetic from the float inputs. The
float result differs from (x − μ)/√(σ² + ε) by rounding of μ and σ² over n entries: at most
(n + 4)·eps·(max|x|/√(σ² + ε) + |z|) per entry, |z| the whitened value, bounded from the inputs; the tolerance
allows four times that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.tolerance import ROUNDING_FACTOR
from lineage.rlhf import whiten
from properties.assertions import assert_identity

EPS = np.finfo(np.float64).eps
WHITENING_EPSILON = 1e-8  # the ε under the square root that the claim states (TRL, lm-human-preferences)


@dataclass(frozen=True, eq=False)
class MaskedBatch:
    values: np.ndarray  # [B, T]
    mask: np.ndarray  # [B, T] bool, at least two valid entries

    @property
    def valid(self) -> np.ndarray:
        return self.values[self.mask]

    def exact_moments(self) -> tuple[Fraction, Fraction]:
        """μ and the unbiased σ² of the valid entries, exactly."""
        entries = [Fraction(v) for v in self.valid.tolist()]
        mean = sum(entries) / len(entries)
        return mean, sum((v - mean) ** 2 for v in entries) / (len(entries) - 1)

    def exact_whitened(self, shift_mean: bool) -> np.ndarray:
        """(x − μ)/√(σ² + ε), plus μ unless ``shift_mean``, on the valid entries: exact but for the rounded root."""
        mean, variance = self.exact_moments()
        root = Fraction(math.sqrt(variance + Fraction(WHITENING_EPSILON)))
        shift = 0 if shift_mean else mean
        return np.array([float((Fraction(x) - mean) / root + shift) for x in self.valid.tolist()])

    def atol(self, shift_mean: bool) -> float:
        """4·(n + 4)·eps·(max|x|·(1 + 1/√(σ² + ε)) + max|z| + 1) with max|z| bounded from the inputs: √(n − 1) for the
        whitened z (Σ_i z_i² ≤ n − 1), plus max|x| ≥ |μ| when ``shift_mean=False`` adds μ back."""
        _, variance = self.exact_moments()
        scale = math.sqrt(variance + Fraction(WHITENING_EPSILON))
        n, largest = int(self.mask.sum()), float(np.abs(self.valid).max())
        whitened_bound = math.sqrt(n - 1) + (0.0 if shift_mean else largest)
        return 4 * (n + 4) * EPS * (largest * (1 + 1 / scale) + whitened_bound + 1)


@st.composite
def masked_batches(draw) -> MaskedBatch:
    """Values in [−10, 10] (repeats and near-constant batches included) under any mask with ≥ 2 valid entries."""
    rows, tokens = draw(st.integers(1, 3), label="B"), draw(st.integers(2, 6), label="T")
    elements = st.one_of(st.sampled_from([0.0, 1.0, 3.0]), st.floats(-10.0, 10.0))
    values = draw(arrays(np.float64, (rows, tokens), elements=elements), label="values")
    mask = draw(arrays(bool, (rows, tokens)), label="mask")
    kept = draw(st.lists(st.integers(0, rows * tokens - 1), min_size=2, max_size=2, unique=True))
    mask.flat[kept] = True
    return MaskedBatch(values, mask)


@pytest.mark.claim("STD-RLHF-5")
@given(batch=masked_batches())
def test_whitened_advantages_have_mean_zero_and_unit_std(batch):
    """STD-RLHF-5 (notes §PPO): the valid entries whiten to (x − μ)/√(σ² + ε), with mean 0 and (unbiased) std
    σ/√(σ² + ε), which is 1 up to ε/(2σ²); padding comes back as 0."""
    whitened = whiten(batch.values, batch.mask)
    _, variance = batch.exact_moments()
    atol = batch.atol(shift_mean=True)
    valid = whitened[batch.mask]
    assert_identity(valid, batch.exact_whitened(shift_mean=True), atol=atol, what="whitened vs (x − μ)/√(σ² + ε)")
    assert_identity(valid.mean(), 0.0, atol=atol, what="mean of whitened entries")
    unit_std = math.sqrt(variance / (variance + Fraction(WHITENING_EPSILON)))
    assert_identity(valid.std(ddof=1), unit_std, atol=atol, what="std of whitened entries vs σ/√(σ² + ε)")
    assert np.all(whitened[~batch.mask] == 0.0)


@pytest.mark.claim("STD-RLHF-5")
@given(batch=masked_batches())
def test_shift_mean_false_keeps_the_mean_and_rescales_the_deviations(batch):
    """STD-RLHF-5 (notes §PPO): whiten(x, shift_mean=False) = (x − μ)/√(σ² + ε) + μ on the valid entries: the rewards
    keep their batch mean μ and their deviations get the std σ/√(σ² + ε)."""
    kept = whiten(batch.values, batch.mask, shift_mean=False)
    mean, _ = batch.exact_moments()
    atol = batch.atol(shift_mean=False)
    assert_identity(kept[batch.mask].mean(), float(mean), atol=atol, what="mean with shift_mean=False vs μ")
    expected = batch.exact_whitened(shift_mean=False)
    assert_identity(kept[batch.mask], expected, atol=atol, what="shift_mean=False vs (x − μ)/√(σ² + ε) + μ")


@pytest.mark.claim("STD-RLHF-5")
@given(batch=masked_batches(), fill=st.floats(-1e6, 1e6), shift_mean=st.booleans())
def test_padding_never_changes_the_result(batch, fill, shift_mean):
    """STD-RLHF-5: the statistics come from the valid entries only; any value under the padding gives the same
    output, bit for bit."""
    padded = np.where(batch.mask, batch.values, fill)
    expected = whiten(batch.values, batch.mask, shift_mean=shift_mean)
    np.testing.assert_array_equal(whiten(padded, batch.mask, shift_mean=shift_mean), expected)


@pytest.mark.claim("STD-RLHF-5")
@given(value=st.floats(-10.0, 10.0), n=st.integers(1, 8))
def test_one_entry_or_zero_spread_whitens_to_zero_not_nan(value, n):
    """STD-RLHF-5: with one valid entry or no spread (σ² = 0) every valid entry whitens to (x − μ)/√ε ≈ 0 —
    the mean's rounding, at most n·eps·|x|, divided by √ε — or to μ with shift_mean=False; never NaN."""
    values = np.full(n, value)
    atol = 4 * n * EPS * abs(value) / math.sqrt(WHITENING_EPSILON)
    assert_identity(whiten(values), 0.0, atol=atol, what="whitened constant")
    assert_identity(whiten(values, shift_mean=False), value, atol=atol, what="constant with its mean kept")


@pytest.mark.claim("STD-RLHF-5")
def test_torch_in_torch_out_float32_stays_float32():
    """STD-RLHF-5: a float32 tensor and a bool mask give a float32 tensor, equal to the numpy float32 result up to
    float32 rounding. Not bit for bit: numpy and torch sum the n valid entries in different orders (numpy's
    SIMD width depends on the CPU), so the mean and the variance may differ by n·eps32 relative, and the output,
    (x − μ)/s + μ, by a few such roundings of the largest term: 8·n·eps32·max|x|/s absolute."""
    values = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -4.0]], dtype=np.float32)
    mask = np.array([[True, True, False], [True, False, True]])
    got = whiten(torch.from_numpy(values), torch.from_numpy(mask), shift_mean=False)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    expected = whiten(values, mask, shift_mean=False)
    assert expected.dtype == np.float32
    n, spread = int(mask.sum()), float(np.std(values[mask], ddof=1))
    atol = ROUNDING_FACTOR * n * float(np.finfo(np.float32).eps) * float(np.abs(values).max()) / spread
    assert_identity(got.numpy(), expected, atol=atol, rtol=0.0, what="torch float32 vs numpy float32 whitening")
