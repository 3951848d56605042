"""The gradient laws of the torch losses have teeth: a loss whose value is right but whose gradient is cut, wrong or
leaks into a constant fails them, while lineage's losses and correct hand-written torch losses pass.

None of these targets is in the bug zoo: they are the classic ways a torch loss goes wrong in training code (a
detached input, an ``.item()`` in the middle, a straight-through clip, advantages or returns left in the graph), each
one flaw away from a correct loss. The value laws pass every one of them — the finite-difference laws too, since
they see only values — and the autograd laws fail each by their own derandomized search.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import settings

from lineage import ppo
from lineage.laws.cases.losses import ClipCase, ValueCase
from lineage.laws.law import LAWS, LawViolation, laws_for
from lineage.oracle import check

SEARCH = settings(database=None, derandomize=True, max_examples=100)


# --------------------------------------------------------------------------------------------------
# Policy losses
# --------------------------------------------------------------------------------------------------
def torch_clip_loss(logp_new, logp_old, advantages, *, clip_eps):
    """A correct CleanRL-style loss, constants detached: −mean min(ρA, clip(ρ)A) with torch.min (which splits the
    gradient where the two terms are equal, at ρ = 1 ± ε)."""
    advantages = advantages.detach()
    ratio = torch.exp(logp_new - logp_old.detach())
    return -torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages).mean()


def detached_logp_new(logp_new, logp_old, advantages, *, clip_eps):
    """log π_new detached before the ratio: the right value, no gradient at all."""
    return torch_clip_loss(logp_new.detach(), logp_old, advantages, clip_eps=clip_eps)


def item_in_the_middle(logp_new, logp_old, advantages, *, clip_eps):
    """The loss rebuilt from ``.item()`` (as logging code does): a fresh tensor outside the graph."""
    return torch.tensor(torch_clip_loss(logp_new, logp_old, advantages, clip_eps=clip_eps).item(), dtype=torch.float64)


def item_returned(logp_new, logp_old, advantages, *, clip_eps):
    """A Python float instead of a tensor."""
    return torch_clip_loss(logp_new, logp_old, advantages, clip_eps=clip_eps).item()


def straight_through_clip(logp_new, logp_old, advantages, *, clip_eps):
    """The clipped value with the unclipped gradient (value + (clipped − value).detach()): the clip never zeroes the
    gradient, so the ratio is pushed out of the band without limit. Values are exact, so are central differences."""
    advantages, ratio = advantages.detach(), torch.exp(logp_new - logp_old.detach())
    unclipped = -(ratio * advantages).mean()
    return unclipped + (torch_clip_loss(logp_new, logp_old, advantages, clip_eps=clip_eps) - unclipped).detach()


# --------------------------------------------------------------------------------------------------
# Value losses
# --------------------------------------------------------------------------------------------------
def torch_value_loss(values_new, values_old, returns, *, clip_eps):
    """A correct baselines-style ½·mean max((V − R)², (V_clip − R)²) with torch.max, constants detached."""
    values_old, returns = values_old.detach(), returns.detach()
    clipped = values_old + torch.clamp(values_new - values_old, -clip_eps, clip_eps)
    return 0.5 * torch.max((values_new - returns) ** 2, (clipped - returns) ** 2).mean()


def detached_values_new(values_new, values_old, returns, *, clip_eps):
    return torch_value_loss(values_new.detach(), values_old, returns, clip_eps=clip_eps)


def value_clip_without_gradient_stop(values_new, values_old, returns, *, clip_eps):
    """V_clip computed from V_new.detach(): the right value, but the clipped branch never has a gradient, also inside
    the band where V_clip = V_new (SB3's clipped loss then gives ∂/∂V = 0 everywhere)."""
    values_old, returns = values_old.detach(), returns.detach()
    clipped = values_old + torch.clamp(values_new.detach() - values_old, -clip_eps, clip_eps)
    return ((clipped - returns) ** 2).mean() + 0 * values_new.sum()


@pytest.mark.parametrize(
    ("law_id", "target"),
    [
        ("ppo_clip_loss.gradient_by_autograd", detached_logp_new),
        ("ppo_clip_loss.gradient_by_autograd", item_in_the_middle),
        ("ppo_clip_loss.gradient_by_autograd", item_returned),
        ("ppo_clip_loss.gradient_by_autograd", straight_through_clip),
        ("value_loss.gradient_by_autograd", detached_values_new),
        ("clipped_value_loss.gradient_by_autograd", value_clip_without_gradient_stop),
    ],
    ids=lambda x: x if isinstance(x, str) else x.__name__,
)
def test_a_wrong_gradient_fails_its_law(law_id, target):
    with pytest.raises(LawViolation):
        LAWS[law_id].verify(target, settings=SEARCH)


VALUE_LAWS = [law for law in [*laws_for("ppo_clip_loss"), *laws_for("value_loss")] if law.requires != {"autograd"}]


@pytest.mark.parametrize("target", [detached_logp_new, item_in_the_middle, straight_through_clip])
def test_the_value_laws_cannot_see_it(target):
    """Every value law of ppo_clip_loss (the finite-difference gradient law included) passes these targets."""
    for law in laws_for("ppo_clip_loss"):
        if law.requires != {"autograd"}:
            law.verify(as_numpy_in(target), settings=SEARCH)


def as_numpy_in(loss):
    """The loss as the value laws call it (numpy arrays in)."""

    def call(*arrays, **params):
        return loss(*(torch.as_tensor(np.asarray(a)) for a in arrays), **params)

    return call


@pytest.mark.parametrize(
    ("contract", "target"),
    [
        ("ppo_clip_loss", ppo.ppo_clip_loss),
        ("ppo_clip_loss", torch_clip_loss),
        ("value_loss", ppo.value_loss),
        ("value_loss", torch_value_loss),
    ],
    ids=["lineage-clip", "torch-min-clip", "lineage-value", "torch-max-value"],
)
def test_correct_torch_losses_pass_the_gradient_laws(contract, target):
    for law in laws_for(contract):
        if law.requires == {"autograd"}:
            law.verify(target, settings=settings(database=None, derandomize=True, max_examples=300))


def test_torch_min_splits_the_gradient_at_a_kink_and_passes():
    """At ρ = 1 + ε exactly with A > 0, torch.min gives half of each branch: −ρA/(2N), between the one-sided
    derivatives −ρA/N (inside the band) and 0 (clipped), which the law accepts there and only there."""
    at_edge = ClipCase(logp_new=[float(np.log1p(0.25))], logp_old=[0.0], advantages=[2.0], clip_eps=0.25)
    LAWS["ppo_clip_loss.gradient_by_autograd"].check(torch_clip_loss, at_edge)
    inside = ClipCase(logp_new=[0.1], logp_old=[0.0], advantages=[2.0], clip_eps=0.25)
    with pytest.raises(LawViolation, match="by autograd"):
        LAWS["ppo_clip_loss.gradient_by_autograd"].check(halved_gradient, inside)


def halved_gradient(logp_new, logp_old, advantages, *, clip_eps):
    """Half the right gradient everywhere (the value scaled back up): wrong off the kinks."""
    loss = torch_clip_loss(logp_new, logp_old, advantages, clip_eps=clip_eps)
    return 2 * loss.detach() - loss.detach() + 0.5 * (loss - loss.detach())


def test_a_value_loss_tie_accepts_either_side():
    """Outside the band with |V − R| = |V_clip − R| (V reflected about R), ½·max has the one-sided derivatives
    (V − R)/N and 0: lineage takes the unclipped branch, torch.max splits."""
    tie = ValueCase(values_new=[1.0], values_old=[0.0], returns=[0.6], clip_eps=0.2)
    for target in (ppo.value_loss, torch_value_loss):
        LAWS["value_loss.gradient_by_autograd"].check(target, tie)


# --------------------------------------------------------------------------------------------------
# Through the oracle
# --------------------------------------------------------------------------------------------------
def statuses(report) -> dict[str, str]:
    return {result.law.partition(".")[2]: result.status.value for result in report.results}


def test_the_oracle_fails_a_detached_loss_in_the_canonical_convention():
    report = check("ppo_clip_loss", detached_logp_new, profile="oracle-quick")
    assert statuses(report)["gradient_by_autograd"] == "failed", report.render()
    assert "not in the autograd graph" in report.render()
    assert {s for law, s in statuses(report).items() if law != "gradient_by_autograd"} == {"passed"}


def test_a_numpy_target_passes_the_gradient_laws_vacuously():
    """A target checked with numpy arrays (framework numpy) never receives tensors: its gradient cannot be observed,
    and the gradient laws have nothing to say (they pass; the report's other laws still check its values)."""

    def numpy_loss(logp_new, logp_old, advantages, *, clip_eps):
        return ppo.ppo_clip_loss(logp_new, logp_old, advantages, clip_eps=clip_eps).item()

    report = check("ppo_clip_loss", numpy_loss, framework="numpy", profile="oracle-quick")
    assert report.ok and set(statuses(report).values()) == {"passed"}, report.render()


def test_conventions_that_read_numpy_back_report_the_gradient_laws_not_applicable():
    from torchrl.objectives import ClipPPOLoss

    report = check("ppo_clip_loss", ClipPPOLoss, convention="torchrl-ppo", profile="oracle-quick")
    got = statuses(report)
    assert got["gradient_by_autograd"] == "not applicable", report.render()
    assert "gradients through the target are not observed" in report.render()
