"""Laws of the ``reinforce_gradient`` contract: REINFORCE's estimate of a batch of episodes, the mean over episodes of
Σ_t γ^t G_t ∇log π(a_t|s_t) (notes §PG; PG-7, PG-8, STD-REINF-1).

The headline law is exact and statistical at once: on a small absorbing MDP every episode is enumerated with its
probability, and the target's estimate averaged over them must be the exact ∇J of the tabular softmax policy
(:func:`lineage.tabular.softmax_policy_gradient`). The target is called once, on all episodes as one batch with
episode n's rewards scaled by N·p(τ_n): an estimate linear in the rewards (the second law) then returns the
probability-weighted mean. The notes' formula without γ^t (PG-7) fails it in general once γ < 1 and episodes last
two steps or more (M1: 0.25 instead of 0.125).
"""

from __future__ import annotations

import numpy as np

from lineage.laws import exact
from lineage.laws.cases.pg import (
    M1,
    TRIVIAL_BATCH,
    EpisodicPolicy,
    ReinforceBatch,
    RewardMix,
    episodic_policies,
    reinforce_batches,
    reward_mixes,
)
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import scaled_tolerance, value_scale
from lineage.tabular import softmax_policy_gradient

CONTRACT = CONTRACTS["reinforce_gradient"]


def rounding(batch: ReinforceBatch, eps: float) -> np.ndarray:
    """Per entry k: what a float evaluation of the batch mean may round by, from the magnitudes it adds,
    max_n Σ_t (Σ_{t' ≥ t} |r_{n,t'}|) |∇log π_{n,t,k}| (γ ≤ 1), over N + 2T terms."""
    a = batch.inputs()
    rewards, scores = np.abs(a["rewards"]), np.abs(a["scores"])
    to_go = np.cumsum(rewards[:, ::-1], axis=1)[:, ::-1]
    magnitude = np.einsum("nt,ntk->nk", to_go, scores).max(axis=0)
    return scaled_tolerance(eps, magnitude, sum(rewards.shape) + rewards.shape[1])


@law("reinforce_gradient", claims=("PG-7", "PG-8"), section="§PG", cases=reinforce_batches(), examples=(TRIVIAL_BATCH,))
def matches_its_form(target, batch: ReinforceBatch):
    """ĝ = (1/N) Σ_n Σ_t γ^t G_{n,t} ∇log π_{n,t} with G_{n,t} = Σ_{t' ≥ t} γ^{t'−t} r_{n,t'}: the mean over the
    batch's episodes of the discounted reward-to-go times the score, each step weighted by γ^t."""
    got, eps = call(CONTRACT, target, batch)
    expect_close("REINFORCE estimate vs its form", got, exact.reinforce_gradient(batch), rounding(batch, eps))


@law("reinforce_gradient", claims=("PG-8", "STD-REINF-1"), section="§PG", cases=reward_mixes())
def linear_in_the_rewards(target, mix: RewardMix):
    """For fixed scores the estimate is linear in the rewards: ĝ(r + c·r') = ĝ(r) + c·ĝ(r') (and ĝ(0) = 0)."""
    mixed, eps = call(CONTRACT, target, mix.mixed())
    base, _ = call(CONTRACT, target, mix.batch)
    other, _ = call(CONTRACT, target, mix.other())
    allowance = rounding(mix.mixed(), eps) + rounding(mix.batch, eps) + abs(mix.weight) * rounding(mix.other(), eps)
    what = f"ĝ(r + {mix.weight!r}·r') vs ĝ(r) + {mix.weight!r}·ĝ(r')"
    expect_close(what, mixed, base + mix.weight * other, allowance)


@law(
    "reinforce_gradient",
    claims=("PG-7", "PG-8", "STD-REINF-1"),
    section="§PG",
    cases=episodic_policies(),
    examples=(M1,),
)
def expectation_is_the_policy_gradient(target, case: EpisodicPolicy):
    """Averaged over every episode of an absorbing MDP, weighted by its probability under the tabular softmax
    policy, the estimate is the exact gradient of J = E[Σ_t γ^t r_t]: E[ĝ] = ∇J, ∂J/∂θ[s, a] = d^π(s) π(a|s) A^π(s, a)
    (Sutton et al. 2000). Without the γ^t of each step (the notes' REINFORCE formula) M1 gives 0.25 for 0.125."""
    batch, paths = case.weighted_batch()
    got, eps = call(CONTRACT, target, batch)
    mdp = case.mdp
    expected = softmax_policy_gradient(mdp, case.logits).ravel()
    allowance = rounding(batch, eps) + 1e-9 * value_scale(mdp.R, mdp.gamma) / (1.0 - mdp.gamma)
    expect_close(f"E[ĝ] over {len(paths.probabilities)} episodes vs ∇J", got, expected, allowance)
