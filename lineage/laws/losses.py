"""Laws of the PPO loss contracts: the clipped policy loss and both value-clipping losses (notes §PPO; spec
§5 PPO-5…PPO-7, PPO-13, PPO-17, §7.5 STD-PPO-2, STD-PPO-3, STD-PPO-5).

Values are compared with float64 closed forms; derivatives twice: with central finite differences through the
target's ordinary interface, so the laws hold any implementation to them, differentiable or not, and by autograd
through the target itself (:mod:`lineage.laws.autograd`), because the losses are torch code trained by their
gradient: a loss whose value is right but whose gradient is cut (a detached log π_new, an ``.item()`` in the middle)
or leaks into an input the contract holds constant (advantages, returns, log π_old, V_old) is wrong. The autograd
laws need a convention that hands the target tensors (capability ``autograd``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from lineage.laws import exact
from lineage.laws.autograd import differentiate, expect_between, gradient_of
from lineage.laws.cases.losses import ClipCase, ValueCase, clip_cases, value_cases
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import (
    ROUNDING_FACTOR,
    finite_difference_step,
    finite_difference_tolerance,
    scaled_tolerance,
)

CLIP = CONTRACTS["ppo_clip_loss"]
KINK_MARGIN = 0.02  # distance of every ratio from 1 ± ε in the derivative laws (FD steps are ≤ 1e-3)
AUTOGRAD = frozenset({"autograd"})  # the laws that differentiate the target's own output


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


def hull(candidates: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per sample over the candidate derivatives (value, possible) that are possible there."""
    low = np.min([np.where(possible, value, np.inf) for value, possible in candidates], axis=0)
    high = np.max([np.where(possible, value, -np.inf) for value, possible in candidates], axis=0)
    return low, high


def clip_gradient_bounds(case: ClipCase, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The derivatives ∂loss/∂log π_new a correct target may give (low, high per sample) and the rounding allowance.

    Off the kinks that is the derivative: −A·ρ/N where the unclipped term ρA is the minimum, 0 where the clip binds
    ((A > 0 ∧ ρ > 1 + ε) or (A < 0 ∧ ρ < 1 − ε)). Near ρ = 1 ± ε the target's own rounding decides: its ρ lies within
    ROUNDING_FACTOR·eps·(|log π_new| + |log π_old| + 2) (relative) of the exact one, so within that margin of an edge
    its ρA and clip(ρ)A may tie or swap and its clip may pass or stop the gradient; it may then give the gradient of
    either term or, taking a min of tied terms (torch.min), any mix of the two."""
    a = case.inputs()
    adv, ratios, low_edge, high_edge = a["advantages"], case.ratios(), 1 - case.clip_eps, 1 + case.clip_eps
    conditioning = np.abs(a["logp_new"]) + np.abs(a["logp_old"]) + 2  # ρ's relative rounding, in units of eps
    margin = ROUNDING_FACTOR * eps * conditioning * np.maximum(ratios, high_edge)
    clipped = np.clip(ratios, low_edge, high_edge)
    unclipped_gradient = -adv * ratios / len(adv)
    # min(ρA, clip(ρ)A): the unclipped term is the (possibly tied) minimum where A·(ρ − clip(ρ)) ≤ 0 within rounding.
    unclipped_min = adv * (ratios - clipped) <= np.abs(adv) * margin
    clipped_min = adv * (clipped - ratios) <= np.abs(adv) * margin
    clip_passes = (ratios >= low_edge - margin) & (ratios <= high_edge + margin)  # d clip(ρ)/dρ = 1
    clip_stops = (ratios <= low_edge + margin) | (ratios >= high_edge - margin)  # d clip(ρ)/dρ = 0
    low, high = hull(
        [
            (unclipped_gradient, unclipped_min),
            (unclipped_gradient, clipped_min & clip_passes),
            (np.zeros_like(adv), clipped_min & clip_stops),
        ]
    )
    magnitude = conditioning * np.abs(adv) * np.maximum(ratios, high_edge) / len(adv)
    return low, high, scaled_tolerance(eps, magnitude, 1)


@law(
    "ppo_clip_loss",
    claims=("STD-PPO-3", "PPO-6", "PPO-7"),
    section="§PPO (clip)",
    cases=clip_cases(),
    requires=AUTOGRAD,
)
def gradient_by_autograd(target, case: ClipCase):
    """By autograd through the target, ∂loss/∂log π_new(a_i) = −A_i ρ_i / N where the unclipped term is the minimum,
    and 0 where the clip binds on the side that would improve the objective, (A_i > 0 ∧ ρ_i > 1 + ε) or
    (A_i < 0 ∧ ρ_i < 1 − ε); at ρ_i = 1 ± ε (within the target's rounding) the gradient of either term or a mix of
    the two. The loss must stay in the autograd graph of log π_new: a detached input, an ``.item()`` or a numpy round
    trip loses the gradient, and a loss returned as numpy for tensor inputs has lost it too."""
    result = differentiate(CLIP, target, case, ("logp_new",))
    if result is None:  # the function under test is handed numpy arrays: nothing to differentiate
        return
    gradient = gradient_of(result, CLIP, "logp_new")
    low, high, atol = clip_gradient_bounds(case, result.eps)
    expect_between("∂loss/∂log π_new by autograd", gradient, low, high, atol)


# --------------------------------------------------------------------------------------------------
# value_loss ("max", baselines / CleanRL) and clipped_value_loss (SB3)
# --------------------------------------------------------------------------------------------------
def value_scale(case: ValueCase) -> float:
    a = case.inputs()
    return float(np.mean((np.abs(a["values_new"]) + np.abs(a["returns"]) + np.abs(a["values_old"]) + 1) ** 2))


def near_value_kink(case: ValueCase) -> bool:
    """Within KINK_MARGIN of |V − V_old| = ε, or outside the band within KINK_MARGIN of equal clipped and unclipped
    errors (no derivative there). Both in value units: a central-difference step h ≤ 1e-3 moves |V − V_old| by h and
    the gap between |V − R| and |V_clip − R| by at most 2h, so it never crosses a kink KINK_MARGIN = 0.02 away (inside
    the band the two errors are the same function of V, which is no kink)."""
    a = case.inputs()
    moved = np.abs(a["values_new"] - a["values_old"])
    outside = moved > case.clip_eps
    gap = np.abs(np.abs(a["values_new"] - a["returns"]) - np.abs(case.clipped() - a["returns"]))
    return bool(np.any(np.abs(moved - case.clip_eps) < KINK_MARGIN) or np.any(outside & (gap < KINK_MARGIN)))


def value_form_law(contract: str, exact: Callable, claims: tuple[str, ...], formula: str) -> None:
    @law(contract, claims=claims, section="§PPO (value clipping)", cases=value_cases())
    def matches_its_form(target, case: ValueCase):
        got, eps = call(CONTRACTS[contract], target, case)
        atol = scaled_tolerance(eps, value_scale(case), len(case.returns))
        expect_scalar(f"{contract} vs {formula}", got, exact(case), atol)

    clip = (
        ", V_clip = V_old + clip(V_new − V_old, −ε, ε): the bounds in that order (the notes print them swapped, which "
        "makes V_clip the constant V_old + ε)"
        if "V_clip" in formula
        else ": no clipping, V_old plays no part"
    )
    matches_its_form.__doc__ = f"""The loss is {formula}{clip}."""


value_form_law("value_loss", exact.value_loss, ("PPO-17", "STD-PPO-5"), "½·mean max((V − R)², (V_clip − R)²)")
value_form_law("clipped_value_loss", exact.clipped_value_loss, ("PPO-17",), "mean (V_clip − R)²")
value_form_law("unclipped_value_loss", exact.unclipped_value_loss, ("STD-PPO-4",), "½·mean (V − R)²")


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
    # Inside the band V_clip = V_new exactly, so the errors tie whatever the rounding of V_clip: only outside it
    # (and, by the cases' filter, away from a tie) can the clipped error be strictly the larger.
    outside = np.abs(a["values_new"] - a["values_old"]) > case.clip_eps
    larger = np.abs(case.clipped() - a["returns"]) > np.abs(a["values_new"] - a["returns"])
    expected = np.where(outside & larger, 0.0, (a["values_new"] - a["returns"]) / len(case.returns))
    atol = finite_difference_tolerance(eps, value_scale(case))
    expect_close("∂loss/∂V_new by central differences", gradient, expected, np.full(len(expected), atol))


def value_gradient_bounds(contract: str, case: ValueCase, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The derivatives ∂loss/∂V_new a correct target may give (low, high per sample) and the rounding allowance.

    V_clip = V_old + clip(V_new − V_old, −ε, ε) passes the gradient strictly inside the band and stops it outside;
    ½·max((V − R)², (V_clip − R)²) takes the gradient of the larger error: (V − R)/N for the unclipped one,
    (V_clip − R)/N times that of V_clip for the clipped one, which is 0 wherever the clipped error is strictly the
    larger; mean (V_clip − R)² has 2(V_clip − R)/N inside the band and 0 outside. The target's V_old ± ε and errors
    round within ROUNDING_FACTOR·eps·(|V_new| + |V_old| + |R| + ε) (value units): within that margin of the band's
    edge its clip may pass or stop the gradient, and within it of a tie of the two errors (the edge is one: there
    V_clip = V_new) its max may take either branch or, as torch.max does, mix them."""
    a = case.inputs()
    v, old, r, clip_eps = a["values_new"], a["values_old"], a["returns"], case.clip_eps
    size = np.abs(v) + np.abs(old) + np.abs(r) + clip_eps
    margin = ROUNDING_FACTOR * eps * size
    moved, clipped = np.abs(v - old), np.clip(v, old - clip_eps, old + clip_eps)
    clip_passes, clip_stops = moved <= clip_eps + margin, moved >= clip_eps - margin
    zero = np.zeros_like(v)
    atol = scaled_tolerance(eps, 2 * size / len(v), 1)
    if contract == "unclipped_value_loss":
        return (v - r) / len(v), (v - r) / len(v), atol
    if contract == "clipped_value_loss":
        return (*hull([(2 * (clipped - r) / len(v), clip_passes), (zero, clip_stops)]), atol)
    gap = np.abs(v - r) - np.abs(clipped - r)  # > 0: the unclipped error is the larger
    unclipped_max, clipped_max = gap >= -margin, gap <= margin
    low, high = hull(
        [
            ((v - r) / len(v), unclipped_max),
            ((clipped - r) / len(v), clipped_max & clip_passes),
            (zero, clipped_max & clip_stops),
        ]
    )
    return low, high, atol


def value_gradient_law(contract: str, claims: tuple[str, ...], formula: str) -> None:
    @law(contract, claims=claims, section="§PPO (value clipping)", cases=value_cases(), requires=AUTOGRAD)
    def gradient_by_autograd(target, case: ValueCase):
        result = differentiate(CONTRACTS[contract], target, case, ("values_new",))
        if result is None:  # the function under test is handed numpy arrays: nothing to differentiate
            return
        gradient = gradient_of(result, CONTRACTS[contract], "values_new")
        low, high, atol = value_gradient_bounds(contract, case, result.eps)
        expect_between("∂loss/∂V_new by autograd", gradient, low, high, atol)

    clip = (
        " with V_clip = V_old + clip(V_new − V_old, −ε, ε): exactly 0 on the clipped side, including the zero-gradient "
        "set; at the band's edges and where the two errors tie (within the target's rounding) the gradient of either "
        "branch or a mix of the two"
        if "V_clip" in formula
        else ", (V_new,i − R_i)/N"
    )
    derivative = f"∂loss/∂V_new,i is the derivative of {formula}{clip}"
    gradient_by_autograd.__doc__ = f"""By autograd through the target, {derivative}. The loss must stay in the
    autograd graph of V_new (no detach, ``.item()`` or numpy round trip)."""


value_gradient_law("value_loss", ("PPO-17", "STD-PPO-5"), "½·mean max((V − R)², (V_clip − R)²)")
value_gradient_law("clipped_value_loss", ("PPO-17",), "mean (V_clip − R)²")
value_gradient_law("unclipped_value_loss", ("STD-PPO-4",), "½·mean (V − R)²")


# --------------------------------------------------------------------------------------------------
# Constants of the losses receive no gradient
# --------------------------------------------------------------------------------------------------
