"""The Bradley–Terry loss of the RLHF reward model, ``lineage.rlhf.bradley_terry_loss`` (notes §PPO, RLHF part: the
reward model; claims PPO-2, RLHF-1, STD-RLHF-3): exact values, the gradient σ(−Δ)/N, the symmetry of a swapped
label, invariance to a common shift, the array rule (numpy ↔ torch, dtype, symbolic) and arguments named in errors.

Reference values: log(1 + e^{−Δ}) per pair, computed in float64 with ``math.log1p``/``math.exp`` on the branch
that cannot overflow, or exactly with SymPy. Tolerances: a few correctly rounded operations per pair and a mean
over N ≤ 16 pairs of terms ≤ |Δ| + 1, so |error| ≤ 8·eps·(N + 4)·(max|Δ| + 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.tolerance import ROUNDING_FACTOR
from lineage.rlhf import bradley_terry_loss
from properties.assertions import assert_identity

EPS = np.finfo(np.float64).eps
SCORE_BOUND = 50.0


@st.composite
def pairs(draw) -> tuple[np.ndarray, np.ndarray]:
    """(chosen, rejected) scores of N ∈ [1, 16] pairs in [−50, 50]; sometimes ties (Δ = 0)."""
    n = draw(st.integers(1, 16), label="N")
    chosen = draw(arrays(np.float64, (n,), elements=st.floats(-SCORE_BOUND, SCORE_BOUND)), label="chosen")
    rejected = draw(
        st.one_of(st.just(chosen.copy()), arrays(np.float64, (n,), elements=st.floats(-SCORE_BOUND, SCORE_BOUND))),
        label="rejected",
    )
    return chosen, rejected


def softplus_minus(margin: float) -> float:
    """log(1 + e^{−Δ}) for one pair, in float64 without overflow: −Δ + log(1 + e^{Δ}) when Δ < 0."""
    return math.log1p(math.exp(-margin)) if margin >= 0 else -margin + math.log1p(math.exp(margin))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def atol(chosen: np.ndarray, rejected: np.ndarray) -> float:
    return ROUNDING_FACTOR * EPS * (len(chosen) + 4) * (float(np.abs(chosen - rejected).max()) + 1.0)


TIE = (np.array([0.0]), np.array([0.0]))  # Δ = 0: the loss is log 2, the gradient ∓½
SURE = (np.array([2.0, -1.0]), np.array([-1.0, 2.0]))  # Δ = ±3: (log(1 + e^{−3}) + log(1 + e^{3}))/2


@pytest.mark.claim("PPO-2", "RLHF-1")
@given(pair=pairs())
@example(pair=TIE)
@example(pair=SURE)
def test_loss_is_the_mean_negative_log_likelihood_of_the_preferred_response(pair):
    """PPO-2, RLHF-1 (notes §PPO, RLHF part): loss = (1/N) Σ_i log(1 + e^{−(r_w,i − r_l,i)}) =
    −(1/N) Σ_i log σ(Δ_i), the Bradley–Terry negative log-likelihood, a mean over pairs (not a sum), in numpy and
    in torch."""
    chosen, rejected = pair
    expected = float(np.mean([softplus_minus(m) for m in chosen - rejected]))
    got = bradley_terry_loss(chosen, rejected)
    assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float64
    assert_identity(float(got), expected, atol=atol(chosen, rejected), what="BT loss vs mean log(1 + e^{−Δ})")
    from_torch = bradley_terry_loss(torch.from_numpy(chosen), torch.from_numpy(rejected))
    assert isinstance(from_torch, torch.Tensor) and from_torch.shape == () and from_torch.dtype == torch.float64
    assert_identity(float(from_torch), expected, atol=atol(chosen, rejected), what="BT loss (torch)")


@pytest.mark.claim("PPO-2", "RLHF-1")
def test_pinned_values_tie_is_log_two_and_extremes_stay_finite():
    """PPO-2, RLHF-1: Δ = 0 gives log 2 = 0.693…; Δ = 3 and −3 average to (0.0486 + 3.0486)/2 = 1.5486; a margin
    of ±1000 gives 0 and 1000 (no overflow of e^{1000})."""
    assert float(bradley_terry_loss(*TIE)) == pytest.approx(math.log(2.0), abs=1e-15)
    assert float(bradley_terry_loss(*SURE)) == pytest.approx(1.5485873515737423, abs=1e-15)
    assert float(bradley_terry_loss([1000.0], [0.0])) == 0.0
    assert float(bradley_terry_loss([0.0], [1000.0])) == 1000.0


@pytest.mark.claim("PPO-2", "RLHF-1")
@given(pair=pairs())
@example(pair=TIE)
def test_gradient_is_minus_and_plus_sigmoid_of_minus_the_margin_over_n(pair):
    """PPO-2, RLHF-1 (notes §PPO, RLHF part): autograd gives ∂loss/∂r_w,i = −σ(−Δ_i)/N and ∂loss/∂r_l,i =
    +σ(−Δ_i)/N: the push on a pair fades as its margin grows, and the two scores move apart equally."""
    chosen, rejected = (torch.tensor(a, requires_grad=True) for a in pair)
    bradley_terry_loss(chosen, rejected).backward()
    n = len(pair[0])
    weight = np.array([sigmoid(-m) for m in pair[0] - pair[1]]) / n
    assert_identity(chosen.grad.numpy(), -weight, atol=ROUNDING_FACTOR * EPS, what="∂loss/∂r_w")
    assert_identity(rejected.grad.numpy(), weight, atol=ROUNDING_FACTOR * EPS, what="∂loss/∂r_l")


@pytest.mark.claim("PPO-2", "STD-RLHF-3")
@given(pair=pairs(), shift=st.floats(-SCORE_BOUND, SCORE_BOUND))
def test_swapping_a_label_changes_the_term_by_the_margin_and_a_common_shift_changes_nothing(pair, shift):
    """PPO-2, STD-RLHF-3 (notes §PPO, RLHF part): per pair, ℓ(a, b) − ℓ(b, a) = b − a and e^{−ℓ(a,b)} + e^{−ℓ(b,a)}
    = σ(Δ) + σ(−Δ) = 1 (the two labels are complementary events); adding one constant c to both scores leaves the
    loss unchanged (only differences enter, so r_φ is defined up to a constant per prompt — which π* ∝
    π_ref·e^{r/β} does not see)."""
    chosen, rejected = pair
    for a, b in zip(chosen, rejected, strict=True):
        forward, backward = float(bradley_terry_loss([a], [b])), float(bradley_terry_loss([b], [a]))
        scale = ROUNDING_FACTOR * EPS * (abs(a - b) + 1.0)
        assert_identity(forward - backward, b - a, atol=scale, what="ℓ(a, b) − ℓ(b, a) vs b − a")
        assert_identity(math.exp(-forward) + math.exp(-backward), 1.0, atol=scale, what="σ(Δ) + σ(−Δ)")
    shifted = bradley_terry_loss(chosen + shift, rejected + shift)
    # the shift rounds each score by eps·(|score| + |c|), so each margin by 2·eps·(50 + |c|), and the loss is
    # 1-Lipschitz in every margin
    allowance = atol(chosen, rejected) + 4 * EPS * (SCORE_BOUND + abs(shift))
    assert_identity(float(shifted), float(bradley_terry_loss(chosen, rejected)), atol=allowance, what="shift by c")


@pytest.mark.claim("PPO-2")
def test_array_rule_float32_symbolic_and_arguments_named():
    """PPO-2 (array rule of lineage.arrays): float32 tensors give a float32 tensor; a symbolic call gives
    log(1 + e^{−(a − b)}) exactly; a shape mismatch or a NaN raises ValueError naming the argument."""
    got = bradley_terry_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]))
    assert got.dtype == torch.float32
    a, b = sympy.symbols("a b", real=True)
    exact = bradley_terry_loss(np.array([a], dtype=object), np.array([b], dtype=object))
    assert sympy.simplify(sympy.sympify(exact.item()) - sympy.log(1 + sympy.exp(b - a))) == 0
    with pytest.raises(ValueError, match=r"^rejected_scores:"):
        bradley_terry_loss([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"^chosen_scores:"):
        bradley_terry_loss([float("nan")], [1.0])
