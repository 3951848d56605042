"""Conventions of the policy-loss contract ``ppo_clip_loss`` that differ from lineage's in a declared way
(spec/library-conventions.md §2.4): the sign (an objective to maximise instead of a loss), the reduction
(a sum over samples instead of a mean) and the input (probability ratios instead of log-probabilities).

    objective:  target(logp_new, logp_old, advantages, clip_eps) -> mean min(ρA, clip(ρ)A)      (maximised)
    sum:        target(logp_new, logp_old, advantages, clip_eps) -> −Σ min(ρA, clip(ρ)A)        (minimised)
    rlax:       clipped_surrogate_pg_loss(prob_ratios_t, adv_t, epsilon) -> −mean min(ρA, clip(ρ)A)
"""

from __future__ import annotations

import numpy as np

from lineage.arrays import to_numpy
from lineage.oracle.conventions.base import Convention, TargetCall
from lineage.oracle.numerics import Numerics

ARGUMENTS = ("logp_new", "logp_old", "advantages")


class Objective(Convention):
    name = "objective"
    summary = "PPO-clip objective to maximise (mean over samples): the loss with the opposite sign"
    numerics = Numerics("torch", "float64")
    signatures = {"ppo_clip_loss": "target(logp_new, logp_old, advantages, clip_eps) -> objective (maximised)"}

    def calls(self, contract, arrays, params):
        return [TargetCall(log_prob_arguments(arrays, params), read=lambda out: -to_numpy(out))]


class SumReduction(Convention):
    name = "sum"
    summary = "PPO-clip loss summed over samples instead of averaged"
    numerics = Numerics("torch", "float64")
    signatures = {"ppo_clip_loss": "target(logp_new, logp_old, advantages, clip_eps) -> summed loss"}

    def calls(self, contract, arrays, params):
        samples = max(len(arrays["advantages"]), 1)
        return [TargetCall(log_prob_arguments(arrays, params), read=lambda out: to_numpy(out) / samples)]


def log_prob_arguments(arrays: dict[str, np.ndarray], params: dict) -> list[tuple[str, object]]:
    """The policy loss's positional arguments: log π_new, log π_old, advantages and ε."""
    return [*((name, arrays[name]) for name in ARGUMENTS), ("clip_eps", params["clip_eps"])]


def ratio_arguments(arrays: dict[str, np.ndarray], params: dict) -> list[tuple[str, object]]:
    """rlax's clipped_surrogate_pg_loss takes ratios ρ = exp(log π_new − log π_old), advantages and ε."""
    ratios = np.exp(arrays["logp_new"] - arrays["logp_old"])
    return [("prob_ratios_t", ratios), ("adv_t", arrays["advantages"]), ("epsilon", params["clip_eps"])]
