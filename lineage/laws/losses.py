"""Laws of the PPO loss contracts: the clipped policy loss and both value-clipping losses (notes §PPO; spec
§5 PPO-5…PPO-7, PPO-17, §7.5 STD-PPO-2, STD-PPO-3, STD-PPO-5).

Values are compared with float64 closed forms; derivatives with central finite differences through the
target's ordinary interface, so the laws hold any implementation to them, differentiable or not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from lineage.laws import exact
from lineage.laws.cases.losses import ClipCase, ValueCase, clip_cases, value_cases
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import (
    finite_difference_step,
    finite_difference_tolerance,
    scaled_tolerance,
)

CLIP = CONTRACTS["ppo_clip_loss"]
KINK_MARGIN = 0.02  # distance of every ratio from 1 ± ε in the derivative laws (FD steps are ≤ 1e-3)


def expect_scalar(what: str, got: np.ndarray, expected: float, atol: float) -> None:
    expect_close(what, np.reshape(got, 1), np.reshape(expected, 1), np.array([atol]))


def central_differences(contract, target, case, field: str) -> tuple[np.ndarray, float]:
    """∂ output / ∂ case.<field>_i by central differences (and the target's machine epsilon)."""
    _, eps = call(contract, target, case)
    step, base = finite_difference_step(eps), np.array(getattr(case, field), dtype=np.float64)
    gradient = np.zeros_like(base)
    for i in range(len(base)):
        sides = []
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[i] += sign * step
            sides.append(float(call(contract, target, dataclasses.replace(case, **{field: moved.tolist()}))[0]))
        gradient[i] = (sides[0] - sides[1]) / (2 * step)
    return gradient, eps


# --------------------------------------------------------------------------------------------------
# ppo_clip_loss
# --------------------------------------------------------------------------------------------------
def clip_scale(case: ClipCase) -> float:
    return float(np.mean(np.abs(case.inputs()["advantages"]) * np.maximum(case.ratios(), 1 + case.clip_eps)))


@law("ppo_clip_loss", claims=("PPO-5", "STD-PPO-2"), section="§PPO (PPO-clip)", cases=clip_cases())
def piecewise_form(target, case: ClipCase):
    """The loss is −mean over samples of min(ρA, clip(ρ, 1 − ε, 1 + ε)A), ρ = exp(log π_new − log π_old),
    i.e. A·min(ρ, 1 + ε) where A ≥ 0 and A·max(ρ, 1 − ε) where A < 0."""
    got, eps = call(CLIP, target, case)
    atol = scaled_tolerance(eps, clip_scale(case), len(case.advantages))
    expect_scalar("clipped surrogate loss", got, exact.ppo_clip_loss(case), atol)


@law(
    "ppo_clip_loss",
    claims=("STD-PPO-2",),
    section="§PPO",
    cases=clip_cases().map(lambda c: dataclasses.replace(c, logp_new=list(c.logp_old))),
)
def ratio_one_gives_minus_mean_advantage(target, case: ClipCase):
    """At θ = θ_old (every ratio 1) the clipped loss equals the unclipped one: −mean(A). Normalising or
    rescaling the advantages inside the loss breaks it."""
    got, eps = call(CLIP, target, case)
    a = case.inputs()["advantages"]
    expect_scalar("loss at ρ = 1", got, -np.mean(a), scaled_tolerance(eps, float(np.mean(np.abs(a))), len(a)))


@law("ppo_clip_loss", claims=("STD-PPO-2", "IS-3"), section="§PPO; §IS", cases=clip_cases())
def pessimistic_bound(target, case: ClipCase):
    """L^CLIP ≤ L^CPI: the clipped loss is never below the unclipped importance-sampled loss −mean(ρA)."""
    got, eps = call(CLIP, target, case)
    unclipped = -float(np.mean(case.ratios() * case.inputs()["advantages"]))
    slack = float(got) - unclipped
    atol = scaled_tolerance(eps, clip_scale(case), len(case.advantages))
    if slack < -atol:
        expect_scalar(f"loss {float(got)!r} below the unclipped loss {unclipped!r}", got, unclipped, atol)


@law(
    "ppo_clip_loss",
    claims=("STD-PPO-3", "PPO-6", "PPO-7"),
    section="§PPO (clip)",
    cases=clip_cases(max_samples=4, away_from_kinks=KINK_MARGIN),
)
def zero_gradient_exactly_on_the_clipped_side(target, case: ClipCase):
    """∂loss/∂log π_new(a_i) = −ρ_i A_i / N, except exactly where the clip binds on the side that would improve
    the objective, (A_i > 0 ∧ ρ_i > 1 + ε) or (A_i < 0 ∧ ρ_i < 1 − ε), where it is 0: the clip removes the
    incentive to move the ratio further, it does not bound it."""
    gradient, eps = central_differences(CLIP, target, case, "logp_new")
    a, ratios = case.inputs()["advantages"], case.ratios()
    flat = ((a > 0) & (ratios > 1 + case.clip_eps)) | ((a < 0) & (ratios < 1 - case.clip_eps))
    expected = np.where(flat, 0.0, -ratios * a / len(a))
    atol = finite_difference_tolerance(eps, max(1.0, clip_scale(case)))
    expect_close("∂loss/∂log π_new by central differences", gradient, expected, np.full(len(a), atol))


# --------------------------------------------------------------------------------------------------
# value_loss ("max", baselines / CleanRL) and clipped_value_loss (SB3)
# --------------------------------------------------------------------------------------------------
def value_scale(case: ValueCase) -> float:
    a = case.inputs()
    return float(np.mean((np.abs(a["values_new"]) + np.abs(a["returns"]) + np.abs(a["values_old"]) + 1) ** 2))


def near_value_kink(case: ValueCase) -> bool:
    """Within KINK_MARGIN of |V − V_old| = ε or of equal clipped and unclipped errors (no derivative there)."""
    a = case.inputs()
    moved = np.abs(a["values_new"] - a["values_old"])
    errors = np.abs((a["values_new"] - a["returns"]) ** 2 - (case.clipped() - a["returns"]) ** 2)
    return bool(np.any(np.abs(moved - case.clip_eps) < KINK_MARGIN) or np.any((errors > 0) & (errors < KINK_MARGIN)))


def value_form_law(contract: str, exact: Callable, claims: tuple[str, ...], formula: str) -> None:
    @law(contract, claims=claims, section="§PPO (value clipping)", cases=value_cases())
    def matches_its_form(target, case: ValueCase):
        got, eps = call(CONTRACTS[contract], target, case)
        atol = scaled_tolerance(eps, value_scale(case), len(case.returns))
        expect_scalar(f"{contract} vs {formula}", got, exact(case), atol)

    matches_its_form.__doc__ = f"""The loss is {formula}, V_clip = V_old + clip(V_new − V_old, −ε, ε): the bounds in
    that order (the notes print them swapped, which makes V_clip the constant V_old + ε)."""


value_form_law("value_loss", exact.value_loss, ("PPO-17", "STD-PPO-5"), "½·mean max((V − R)², (V_clip − R)²)")
value_form_law("clipped_value_loss", exact.clipped_value_loss, ("PPO-17",), "mean (V_clip − R)²")


@law(
    "value_loss",
    claims=("PPO-17",),
    section="§PPO (value clipping)",
    cases=value_cases(),
)
def never_below_the_unclipped_loss(target, case: ValueCase):
    """L^VF ≥ ½·mean (V − R)²: taking the max makes clipping pessimistic, never a discount on the error."""
    got, eps = call(CONTRACTS["value_loss"], target, case)
    a = case.inputs()
    unclipped = 0.5 * float(np.mean((a["values_new"] - a["returns"]) ** 2))
    atol = scaled_tolerance(eps, value_scale(case), len(case.returns))
    if float(got) < unclipped - atol:
        expect_scalar(f"loss {float(got)!r} below the unclipped loss {unclipped!r}", got, unclipped, atol)


@law(
    "value_loss",
    claims=("PPO-17", "STD-PPO-5"),
    section="§PPO (value clipping)",
    cases=value_cases(max_samples=4, edges=False).filter(lambda c: not near_value_kink(c)),
)
def gradient_vanishes_where_the_clipped_error_is_larger(target, case: ValueCase):
    """∂L^VF/∂V_new,i = 0 where the clipped error is strictly the larger (which forces |V_new − V_old| > ε),
    and (V_new,i − R_i)/N otherwise."""
    gradient, eps = central_differences(CONTRACTS["value_loss"], target, case, "values_new")
    a = case.inputs()
    clipped_larger = (case.clipped() - a["returns"]) ** 2 > (a["values_new"] - a["returns"]) ** 2
    expected = np.where(clipped_larger, 0.0, (a["values_new"] - a["returns"]) / len(case.returns))
    atol = finite_difference_tolerance(eps, value_scale(case))
    expect_close("∂loss/∂V_new by central differences", gradient, expected, np.full(len(expected), atol))
