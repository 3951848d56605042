"""PPO's clipped surrogate, L^CLIP = mean min(ρA, clip(ρ, 1 − ε, 1 + ε)A) (notes §PPO, §IS; claims PPO-5, STD-PPO-2,
STD-PPO-3, IS-3), on lineage's torch implementation in float64: values against the min and the piecewise forms bit
for bit, gradients by autograd.

Why exact comparisons hold: the test computes ρ with the same operation as lineage (exp of the log-ratio), and
rounding a product is monotone in each factor, so min(ρA, cA) is the rounded (min or max of ρ and c)·A — whichever
branch lineage picks, the same float comes out.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, find, given
from hypothesis import strategies as st

from lineage.laws.cases.losses import ClipCase, clip_cases, clip_ranges
from lineage.ppo import clip_fraction, clipped_surrogate, ppo_clip_loss, probability_ratio
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import (
    EPS,
    SEARCH,
    CategoricalBatch,
    categorical_batches,
    finite,
    gradient,
    tensor,
)

# One sample on each side of the band and on its edges, with both signs of A and A = 0.
EDGES = ClipCase(
    logp_new=[math.log(1.5), math.log(0.5), math.log1p(0.2), math.log1p(-0.2), math.log(1.5), math.log(0.5), 0.3],
    logp_old=[0.0] * 7,
    advantages=[1.0, 1.0, 2.0, -2.0, -1.0, -1.0, 0.0],
    clip_eps=0.2,
)

# ρ = 1.2000000000000002, just past 1 + ε, yet ρA and (1 + ε)A round to the same number for A = 1.7: the clip
# binds, so the gradient must be 0 (an implementation taking torch.minimum of the two would split it in half).
ROUNDING_TIE = ClipCase(logp_new=[0.1823215567939547], logp_old=[0.0], advantages=[1.7], clip_eps=0.2)


def evaluate(case: ClipCase) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ρ, A, lineage's per-sample surrogate, ∂ ppo_clip_loss / ∂ log π_new by autograd)."""
    a = case.inputs()
    logp_new, logp_old, adv = tensor(a["logp_new"], grad=True), tensor(a["logp_old"]), tensor(a["advantages"])
    surrogate = clipped_surrogate(logp_new, logp_old, adv, clip_eps=case.clip_eps)
    grad = gradient(ppo_clip_loss(logp_new, logp_old, adv, clip_eps=case.clip_eps), logp_new)
    return torch.exp(logp_new - logp_old).detach(), adv, surrogate.detach(), grad


def binds(ratio: torch.Tensor, adv: torch.Tensor, eps: float) -> torch.Tensor:
    """Where the clip binds on the side that would improve the objective: (A > 0 ∧ ρ > 1 + ε) or (A < 0 ∧ ρ < 1 − ε)."""
    return ((adv > 0) & (ratio > 1 + eps)) | ((adv < 0) & (ratio < 1 - eps))


@pytest.mark.claim("PPO-5", "STD-PPO-2")
@given(case=clip_cases())
@example(case=EDGES)
def test_surrogate_is_the_min_form_its_piecewise_form_and_a_pessimistic_bound(case):
    """PPO-5, STD-PPO-2 (notes §PPO): lineage's per-sample term is min(ρA, clip(ρ, 1 − ε, 1 + ε)A) with the notes'
    clip(x, l, r) = max(min(x, r), l), and equals A·min(ρ, 1 + ε) where A ≥ 0 and A·max(ρ, 1 − ε) where A < 0 —
    exactly, no tolerance; the loss is −mean of it. Below L^CPI = ρA it sits by A·(ρ − (1 + ε)) where
    A > 0 ∧ ρ > 1 + ε and by A·(ρ − (1 − ε)) where A < 0 ∧ ρ < 1 − ε — both positive — and it equals ρA exactly
    everywhere else (ρ in the band, A > 0 below it, A < 0 above it, A = 0), so the loss is never below −mean(ρA)."""
    ratio, adv, got, _ = evaluate(case)
    low, high = 1 - case.clip_eps, 1 + case.clip_eps
    notes_clip = torch.clamp(torch.clamp(ratio, max=high), min=low)
    min_form = torch.minimum(ratio * adv, notes_clip * adv)
    piecewise = torch.where(adv >= 0, adv * torch.clamp(ratio, max=high), adv * torch.clamp(ratio, min=low))
    assert torch.equal(got, min_form), (got, min_form)
    assert torch.equal(got, piecewise), (got, piecewise)
    a = {name: tensor(array) for name, array in case.inputs().items()}
    loss = ppo_clip_loss(a["logp_new"], a["logp_old"], a["advantages"], clip_eps=case.clip_eps)
    assert torch.equal(loss, -got.mean()), (loss, got)

    clipped = binds(ratio, adv, case.clip_eps)
    unclipped = ratio * adv
    assert torch.equal(got[~clipped], unclipped[~clipped]), "L^CLIP ≠ ρA off the binding set"
    edge = torch.where(adv > 0, tensor(high), tensor(low))
    gap = adv * (ratio - edge)
    # ρA and (1 ± ε)A each round once (relative EPS), the difference once more.
    atol = 4 * EPS * float((adv.abs() * (ratio + edge)).max())
    assert_identity(unclipped[clipped] - got[clipped], gap[clipped], atol=atol, what="ρA − L^CLIP where the clip binds")
    assert bool(torch.all(gap[clipped] > -atol)), "negative gap"
    assert_at_least(loss.item(), -unclipped.mean().item(), atol=len(ratio) * atol, what="loss vs −mean(ρA)")


@pytest.mark.claim("STD-PPO-2")
@given(batch=categorical_batches(new_equals_old=True), eps=clip_ranges())
def test_clip_matches_the_unclipped_surrogate_to_first_order_at_the_old_policy(batch: CategoricalBatch, eps):
    """STD-PPO-2 (notes §PPO): at θ = θ_old every ρ is 1, inside the band for any ε > 0, so the clipped loss and the
    unclipped −mean(ρA) have the same value, −mean A, and the same gradient in the policy's logits (one sample per
    action of each state, the advantages the batch's Q values)."""
    states, actions = batch.every_action()
    adv = tensor(batch.q_values).reshape(-1)
    logits = tensor(batch.logits_new, grad=True)
    logp_new = torch.log_softmax(logits, dim=-1)[states, actions]
    logp_old = torch.log_softmax(tensor(batch.logits_old), dim=-1)[states, actions]
    clip_loss = ppo_clip_loss(logp_new, logp_old, adv, clip_eps=eps)
    cpi_loss = -(probability_ratio(logp_new, logp_old) * adv).mean()
    atol = 8 * EPS * len(adv) * batch.magnitude()
    assert_identity(clip_loss.item(), -adv.mean().item(), atol=atol, what="clipped loss at θ_old vs −mean A")
    assert_identity(cpi_loss.item(), clip_loss.item(), atol=atol, what="unclipped vs clipped loss at θ_old")
    g_clip, g_cpi = gradient(clip_loss, logits), gradient(cpi_loss, logits)
    assert_identity(g_clip.numpy(), g_cpi.numpy(), atol=atol, what="∇θ of the clipped vs the unclipped loss at θ_old")


# baselines ppo2 counts |ρ − 1| > ε as clipped; here ρ = 0.5 with A = +1 has the unclipped gradient −ρA.
BELOW_BAND_GOOD_ACTION = ClipCase(logp_new=[math.log(0.5)], logp_old=[0.0], advantages=[1.0], clip_eps=0.2)


def baselines_clipfrac(case: ClipCase) -> float:
    """openai/baselines ppo2: mean(|ρ − 1| > ε)."""
    ratio, *_ = evaluate(case)
    return float(((ratio - 1).abs() > case.clip_eps).double().mean())


def lineage_clip_fraction(case: ClipCase) -> float:
    a = case.inputs()
    return clip_fraction(a["logp_new"], a["logp_old"], a["advantages"], clip_eps=case.clip_eps)


@pytest.mark.claim("STD-PPO-3", "PPO-6", "PPO-7")
@given(case=clip_cases())
@example(case=EDGES)
@example(case=ROUNDING_TIE)
@example(case=BELOW_BAND_GOOD_ACTION)
def test_gradient_vanishes_exactly_where_the_clip_binds_on_the_improving_side(case):
    """STD-PPO-3, PPO-6, PPO-7 (notes §PPO): by autograd, ∂loss/∂log π_new,i is exactly 0 where (A > 0 ∧ ρ > 1 + ε)
    or (A < 0 ∧ ρ < 1 − ε) or A = 0, and −ρ_i A_i / N ≠ 0 everywhere else — at ρ = 1 ± ε, for A > 0 below the band
    and for A < 0 above it. The clip removes the incentive to move ρ further; it does not hold ρ in the band.
    lineage's clip fraction is the share of samples with A ≠ 0 whose gradient is 0 (lm-human-preferences'
    ``pg_losses2 > pg_losses``)."""
    ratio, adv, _, grad = evaluate(case)
    flat = binds(ratio, adv, case.clip_eps) | (adv == 0)
    assert bool(torch.all(grad[flat] == 0)), f"nonzero gradient on the flat set: {grad[flat]}"
    assert bool(torch.all(grad[~flat] != 0)), f"zero gradient off the flat set: {grad[~flat]}"
    expected = -ratio * adv / len(adv)
    atol = 4 * EPS * float(expected.abs().max())  # ρ·A/N in another operation order
    assert_identity(grad[~flat].numpy(), expected[~flat].numpy(), atol=atol, what="∂loss/∂log π_new off the flat set")
    assert lineage_clip_fraction(case) == float(((grad == 0) & (adv != 0)).double().mean())


@pytest.mark.claim("STD-PPO-3")
def test_baselines_clip_fraction_counts_samples_whose_gradient_is_not_zero():
    """STD-PPO-3 (notes §PPO): ρ = 0.5, A = +1, ε = 0.2: the unclipped term is active (gradient −ρA ≠ 0), so nothing
    is clipped, but baselines' |ρ − 1| > ε reports 1.0. hypothesis.find must also come back with a case where
    baselines' count and lineage's clip fraction differ."""
    assert lineage_clip_fraction(BELOW_BAND_GOOD_ACTION) == 0.0
    assert baselines_clipfrac(BELOW_BAND_GOOD_ACTION) == 1.0
    found = find(clip_cases(), lambda c: baselines_clipfrac(c) != lineage_clip_fraction(c), settings=SEARCH)
    assert baselines_clipfrac(found) != lineage_clip_fraction(found), found


@pytest.mark.claim("IS-3")
@given(log_ratio=st.one_of(st.just(math.log(10.0)), finite(-3.0, 7.0)), adv=finite(-10.0, -1e-3), eps=clip_ranges())
@example(log_ratio=math.log(10.0), adv=-1.0, eps=0.2)
def test_clip_does_not_truncate_the_importance_weight_of_a_bad_action(log_ratio, adv, eps):
    """IS-3 (notes §IS, §PPO): for A < 0 the term is A·max(ρ, 1 − ε): the weight ρ on a bad action is never capped
    (ρ = 10, A = −1 gives −10, where a truncated importance weight min(ρ, 1 + ε) would give −1.2). PPO's clip
    removes an incentive; it is a pessimistic surrogate, not a truncated-IS estimator with a bounded weight."""
    got = float(clipped_surrogate([log_ratio], [0.0], [adv], clip_eps=eps)[0])
    ratio = torch.exp(tensor(log_ratio)).item()
    assert got == adv * max(ratio, 1 - eps)
    if ratio > 1 + eps:
        assert got < adv * (1 + eps), f"term {got} not below the truncated-IS value {adv * (1 + eps)}"
