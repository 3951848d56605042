"""Value clipping of the PPO critic loss, corrected (notes §PPO; claims PPO-17, STD-PPO-5): the clip with its bounds
in order, the baselines "max" loss and the SB3 "clipped" loss, on lineage's torch implementation in float64 with
gradients by autograd. The notes' printed clip (bounds swapped) is refuted in ``test_ppo_errata``.

Tolerances: a squared error of values up to |V_new| + |V_old| + |R| + ε rounds within a few eps of its square;
``scaled_tolerance`` allows 8·eps·(N + 1) times that for a mean over N samples.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given

from lineage.laws.cases.losses import ValueCase, value_cases
from lineage.laws.tolerance import scaled_tolerance
from lineage.ppo import clip_value, value_loss
from properties.assertions import assert_at_least, assert_identity
from properties.ppo_strategies import EPS, TC15, gradient, tensor

# V_new above, inside, below the band and on both edges; R chosen so that both branches of the max occur.
EDGES = ValueCase(
    values_new=[1.0, 0.1, -1.0, 0.2, -0.2], values_old=[0.0] * 5, returns=[2.0, 0.0, 0.5, -1.0, 0.3], clip_eps=0.2
)


def squared_scale(case: ValueCase) -> float:
    a = case.inputs()
    return float(
        np.max((np.abs(a["values_new"]) + np.abs(a["values_old"]) + np.abs(a["returns"]) + case.clip_eps) ** 2)
    )


@pytest.mark.claim("PPO-17", "STD-PPO-5")
@given(case=value_cases())
@example(case=TC15)
@example(case=EDGES)
def test_corrected_clip_and_the_losses_it_enters(case):
    """PPO-17 (ii, iii), STD-PPO-5 (notes §PPO), corrected: V_clip = clip(V_new, V_old − ε, V_old + ε) lies in
    [V_old − ε, V_old + ε], is V_new itself inside the band, is unchanged by clipping again, and equals baselines'
    ``vpredclipped = OLDVPRED + clip(vf − OLDVPRED, −ε, ε)`` up to rounding (TC-15: V_old = 0, ε = 0.2, V_new = 0
    gives 0). The "max" loss is baselines' ``.5 * mean(maximum(vf_losses1, vf_losses2))`` and never below
    ½·mean (V_new − R)²; the "clipped" loss is SB3's ``mse_loss(returns, values_pred)`` on V_clip."""
    a = case.inputs()
    v, v_old, r = a["values_new"], a["values_old"], a["returns"]
    got = clip_value(v, v_old, clip_eps=case.clip_eps)  # numpy in, numpy out
    low, high = v_old - case.clip_eps, v_old + case.clip_eps
    assert np.all((low <= got) & (got <= high)), (got, low, high)
    inside = (low <= v) & (v <= high)
    assert np.array_equal(got[inside], v[inside])
    assert np.array_equal(clip_value(got, v_old, clip_eps=case.clip_eps), got)
    vpredclipped = v_old + np.clip(v - v_old, -case.clip_eps, case.clip_eps)
    atol = 4 * EPS * float(np.max(np.abs(v_old) + np.abs(v) + case.clip_eps))
    assert_identity(got, vpredclipped, atol=atol, what="V_clip vs V_old + clip(V_new − V_old, −ε, ε)")

    loss_atol = scaled_tolerance(EPS, squared_scale(case), len(r))
    baselines = 0.5 * np.mean(np.maximum((v - r) ** 2, (vpredclipped - r) ** 2))
    sb3 = np.mean((r - vpredclipped) ** 2)
    for variant, expected in (("max", baselines), ("clipped", sb3)):
        loss = value_loss(v, v_old, r, clip_eps=case.clip_eps, variant=variant).item()
        assert_identity(loss, expected, atol=loss_atol, what=f"value_loss({variant!r})")
    max_loss = value_loss(v, v_old, r, clip_eps=case.clip_eps).item()
    unclipped = 0.5 * float(np.mean((v - r) ** 2))
    assert_at_least(max_loss, unclipped, atol=loss_atol, what="L^VF vs ½·mean (V_new − R)²")


def autograd_value_loss(case: ValueCase, variant: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(V_clip, ∂L/∂V_new by autograd) for lineage's loss ``variant``; V_clip as lineage computes it."""
    a = case.inputs()
    v = tensor(a["values_new"], grad=True)
    loss = value_loss(v, a["values_old"], a["returns"], clip_eps=case.clip_eps, variant=variant)
    v_clip = torch.clamp(v.detach(), tensor(a["values_old"] - case.clip_eps), tensor(a["values_old"] + case.clip_eps))
    return v_clip, gradient(loss, v)


@pytest.mark.claim("PPO-17", "STD-PPO-5")
@given(case=value_cases())
@example(case=EDGES)
def test_loss_gradients_vanish_exactly_where_the_clip_takes_over(case):
    """PPO-17 (iv), STD-PPO-5 (notes §PPO): by autograd, ∂L^VF/∂V_new,i of the "max" loss is exactly 0 where
    (V_clip − R)² > (V_new − R)² — which forces |V_new − V_old| > ε — and (V_new,i − R_i)/N otherwise, ties
    included; the "clipped" loss has 2(V_clip − R)/N inside the band and exactly 0 outside it."""
    a = case.inputs()
    v, r = tensor(a["values_new"]), tensor(a["returns"])
    v_clip, grad = autograd_value_loss(case, "max")
    clipped_larger = (v_clip - r) ** 2 > (v - r) ** 2
    assert bool(torch.all(grad[clipped_larger] == 0)), grad
    assert bool(torch.all(v_clip[clipped_larger] != v[clipped_larger])), "clipped error larger inside the band"
    expected = (v - r) / len(r)
    atol = 4 * EPS * float(expected.abs().max())
    assert_identity(grad[~clipped_larger].numpy(), expected[~clipped_larger].numpy(), atol=atol, what="∂L^VF/∂V_new")

    v_clip, grad = autograd_value_loss(case, "clipped")
    outside = v_clip != v
    assert bool(torch.all(grad[outside] == 0)), grad
    expected = 2 * (v_clip - r) / len(r)
    atol = 4 * EPS * float(expected.abs().max())
    assert_identity(grad[~outside].numpy(), expected[~outside].numpy(), atol=atol, what="∂L^clipped/∂V_new")
