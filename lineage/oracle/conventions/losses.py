"""Conventions of the policy-loss contract ``ppo_clip_loss`` that differ from lineage's in a declared way: the sign (an
objective to maximise instead of a loss), the reduction (a sum over samples instead of a mean) and the input
(probability ratios instead of log-probabilities).

    objective:  target(logp_new, logp_old, advantages, clip_eps) -> mean min(ρA, clip(ρ)A)      (maximised)
    sum:        target(logp_new, logp_old, advantages, clip_eps) -> −Σ min(ρA, clip(ρ)A)        (minimised)
    rlax:       clipped_surrogate_pg_loss(prob_ratios_t, adv_t, epsilon) -> −mean min(ρA, clip(ρ)A)

"""

from __future__ import annotations

from lineage.arrays import to_numpy
from lineage.oracle.conventions.base import Convention, TargetCall, log_prob_arguments
from lineage.oracle.numerics import Numerics


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
