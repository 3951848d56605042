"""Per-batch advantage normalisation of PPO implementations (notes §PPO; spec library conventions §0, bugs 4 and 24),
held to the spec's law for whitened advantages (STD-RLHF-5: mean 0 and std 1 when the spread is positive), with the
ddof convention explicit and the degenerate batches defined.

Tolerances: the output has entries up to n^{1/2} in size (|A − mean| ≤ √n·std); its mean and std are sums of n of
them, exact to ``scaled_tolerance`` of that size.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import normalize_advantages
from properties.assertions import assert_identity
from properties.ppo_strategies import EPS, finite

advantage_batches = st.integers(1, 32).flatmap(
    lambda n: arrays(np.float64, (n,), elements=st.one_of(st.just(1.5), finite(-100.0, 100.0)))
)


SUBNORMAL = 2.0**-1074  # the absolute error of a float64 operation whose result is subnormal


def output_tolerance(n: int) -> float:
    return scaled_tolerance(EPS, math.sqrt(n) + 1, n)


@pytest.mark.claim("STD-RLHF-5")
@given(advantages=advantage_batches, ddof=st.sampled_from([0, 1]), eps=st.sampled_from([0.0, 1e-8]))
@example(advantages=np.array([3.0]), ddof=1, eps=1e-8)
@example(advantages=np.array([1.0, 1.0, 1.0]), ddof=0, eps=0.0)
def test_normalised_advantages_have_mean_zero_and_unit_std_or_are_zero(advantages, ddof, eps):
    """STD-RLHF-5 (notes §PPO): (A − mean)/(std_ddof + eps) has mean 0 and std_ddof σ/(σ + eps) — exactly 1 for
    eps = 0. A batch of one or with all entries equal maps to zeros, never NaN (SB3 gave NaN for [3.0] with the
    unbiased std, Tianshou's TRPO for [1, 1, 1] without eps)."""
    got = normalize_advantages(advantages, ddof=ddof, eps=eps)
    assert got.shape == advantages.shape and got.dtype == advantages.dtype
    if np.ptp(advantages) == 0:
        assert np.array_equal(got, np.zeros_like(advantages)), got
        return
    atol = output_tolerance(len(advantages))
    assert_identity(float(np.mean(got)), 0.0, atol=atol, what="mean of the normalised advantages")
    sigma = float(np.std(advantages, ddof=ddof))  # may underflow to 0 for a tiny spread; lineage's does not
    expected_std = 1.0 if eps == 0.0 else sigma / (sigma + eps)
    assert_identity(float(np.std(got, ddof=ddof)), expected_std, atol=atol, what="their std")


@pytest.mark.claim("STD-RLHF-5")
@given(advantages=advantage_batches, scale=finite(1e-3, 1e3), shift=finite(-100.0, 100.0))
def test_exact_normalisation_is_invariant_to_a_positive_affine_map(advantages, scale, shift):
    """STD-RLHF-5 (notes §PPO): with eps = 0, normalising scale·A + shift (scale > 0) gives the same result as
    normalising A — the convention only fixes the advantages' location and scale, not their ranking."""
    assume(np.ptp(scale * advantages + shift) > 0 and np.ptp(advantages) > 0)  # a spread to normalise on both sides
    # scale·A + shift rounds with |shift| + scale·|A|, plus an absolute 2⁻¹⁰⁷⁴ per operation where the product
    # lands among the subnormals (scale·2e-308 does): relative to the spread σ that is the condition below (σ from
    # the centred entries scaled by their largest magnitude, so that a tiny spread does not underflow to 0).
    centred = advantages - advantages.mean()
    largest = np.abs(centred).max()
    sigma = largest * np.std(centred / largest)
    underflow = 2 * SUBNORMAL / EPS  # two roundings (product, sum), each within 2⁻¹⁰⁷⁴ absolute, in units of eps
    condition = (abs(shift) + scale * np.abs(advantages).max() + underflow) / (scale * sigma)
    atol = output_tolerance(len(advantages)) * (1 + condition)
    # Where rounding alone can move a normalised entry by a hundredth of the unit std, there is nothing to compare.
    assume(atol < 1e-2)
    original = normalize_advantages(advantages, ddof=1, eps=0.0)
    moved = normalize_advantages(scale * advantages + shift, ddof=1, eps=0.0)
    assert_identity(moved, original, atol=atol, what="normalised affine image vs normalised original")


@pytest.mark.claim("STD-RLHF-5")
def test_normalisation_keeps_the_framework_and_the_ddof_matters():
    """STD-RLHF-5: torch in, torch out (a tensor without gradient gives one without gradient; see
    ``test_array_rule`` for the gradient); [1, 3] normalises to (−1, 1) with the population std (ddof 0) and to
    (−1/√2, 1/√2) with the unbiased std (ddof 1), the default, as SB3, CleanRL and Tianshou."""
    got = normalize_advantages(torch.tensor([1.0, 3.0], dtype=torch.float64), ddof=0, eps=0.0)
    assert isinstance(got, torch.Tensor) and not got.requires_grad
    assert got.tolist() == [-1.0, 1.0]
    unbiased = normalize_advantages([1.0, 3.0], ddof=1, eps=0.0)
    np.testing.assert_allclose(unbiased, [-1 / math.sqrt(2), 1 / math.sqrt(2)], rtol=0, atol=4 * EPS)
    np.testing.assert_array_equal(normalize_advantages([1.0, 3.0], eps=0.0), unbiased)


@st.composite
def tiny_spread_batches(draw) -> np.ndarray:
    """n ∈ [2, 16] advantages offset + s·u_i with a spread s from 1e-12 to 1e-2, u_1 = −1, u_2 = 1 and the others in
    [−1, 1] (so σ ≥ s·√(2/n)), and an offset up to 100·s in size (so the centring loses at most a factor ~300·√n
    of the precision)."""
    n = draw(st.integers(2, 16), label="n")
    spread = 10.0 ** draw(st.floats(-12.0, -2.0), label="log10 s")
    offset = spread * draw(st.one_of(st.just(0.0), finite(-100.0, 100.0)), label="offset / s")
    others = draw(arrays(np.float64, (n - 2,), elements=st.one_of(st.just(0.0), finite(-1.0, 1.0))), label="u")
    return offset + spread * np.concatenate([[-1.0, 1.0], others])


def exactly_normalised(advantages: np.ndarray, ddof: int, eps: float) -> np.ndarray:
    """(A_i − mean A)/(σ_ddof + ε) on the given floats: mean and deviations as exact fractions, σ = √(Σ c_i²/(n − ddof))
    and the quotient to 50 digits."""
    entries = [Fraction(float(a)) for a in advantages]
    mean = sum(entries) / len(entries)
    centred = [a - mean for a in entries]
    variance = sum(c * c for c in centred) / (len(entries) - ddof)
    with localcontext() as context:
        context.prec = 50
        denominator = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt() + Decimal(eps)
        return np.array([float(Decimal(c.numerator) / Decimal(c.denominator) / denominator) for c in centred])


@pytest.mark.claim("STD-RLHF-5")
@given(advantages=tiny_spread_batches(), ddof=st.sampled_from([0, 1]), eps=st.sampled_from([1e-8, 1e-6, 0.0]))
def test_eps_is_added_to_the_std_not_under_the_square_root(advantages, ddof, eps):
    """STD-RLHF-5 (notes §PPO; the PPO implementations' convention, spec library conventions: (A − mean)/(std + 1e-8)):
    with a spread σ ≤ 1e-2 the normalised advantages are (A − mean)/(σ + ε) and not (A − mean)/√(σ² + ε), the
    whitening of RLHF rewards. The two denominators differ by a relative ε/(2σ²) − ε/σ ≥ 2e-5 for ε = 1e-8 (and by
    orders of magnitude once σ ≤ √ε), while the rounding allowance stays below 1e-10 of the unit-std output."""
    got = normalize_advantages(advantages, ddof=ddof, eps=eps)
    expected = exactly_normalised(advantages, ddof, eps)
    centred = advantages - advantages.mean()
    sigma = np.std(centred / np.abs(centred).max(), ddof=ddof) * np.abs(centred).max()
    atol = output_tolerance(len(advantages)) * (1 + np.abs(advantages).max() / sigma)
    error = np.abs(got - expected)
    assert np.all(error <= atol), (
        f"normalised advantages vs (A − mean)/(σ + ε) with ddof={ddof}, ε={eps}: largest error {error.max():.3g}, "
        f"allowed {atol:.3g}\nA        {advantages!r}\ngot      {got!r}\nexpected {expected!r}"
    )
