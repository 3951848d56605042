"""Laws of the RLHF per-token reward contract (notes §PPO, RLHF part; RLHF-1, RLHF-2,
STD-RLHF-1, STD-RLHF-2): −β(log π − log π_ref) on every valid response token, the reward-model score added
on the last valid token, nothing on padding.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lineage.laws import exact
from lineage.laws.cases.losses import PADDED, TokenRewardCase, token_reward_cases
from lineage.laws.contracts import CONTRACTS, call
from lineage.laws.law import expect_close, law
from lineage.laws.tolerance import scaled_tolerance

TOKEN_REWARDS = CONTRACTS["token_rewards"]


def token_magnitudes(case: TokenRewardCase) -> np.ndarray:
    """Per token, the size of what its reward adds: β(|log π| + |log π_ref|) + |score|."""
    a = case.inputs()
    return case.beta * (np.abs(a["logp"]) + np.abs(a["ref_logp"])) + np.abs(a["scores"])[:, None]


def reward_tolerance(case: TokenRewardCase, eps: float) -> np.ndarray:
    return scaled_tolerance(eps, token_magnitudes(case), 2)


@law(
    "token_rewards",
    claims=("STD-RLHF-1", "RLHF-1"),
    section="§PPO (RLHF reward)",
    cases=token_reward_cases(),
    examples=(PADDED,),
)
def per_token_form(target, case: TokenRewardCase):
    """r_t = −β(log π(y_t) − log π_ref(y_t)) on valid tokens, 0 on padding, and the reward-model score added on
    the last valid token of each response (not on the padding after it, not on the first token)."""
    got, eps = call(TOKEN_REWARDS, target, case)
    expect_close("per-token rewards", got, exact.token_rewards(case), reward_tolerance(case, eps))


@law(
    "token_rewards",
    claims=("STD-RLHF-2", "RLHF-2"),
    section="§PPO (RLHF reward)",
    cases=token_reward_cases(),
)
def sum_is_the_sequence_reward(target, case: TokenRewardCase):
    """Summed over a response (γ = 1) the rewards give Ziegler et al.'s sequence reward
    score − β·log π(y)/π_ref(y): the reference enters only through the KL term."""
    got, eps = call(TOKEN_REWARDS, target, case)
    a = case.inputs()
    expected = a["scores"] - case.beta * np.sum(np.where(a["mask"], a["logp"] - a["ref_logp"], 0.0), axis=1)
    atol = scaled_tolerance(eps, np.sum(token_magnitudes(case), axis=1), got.shape[1])
    expect_close("Σ_t r_t per response", np.sum(got, axis=1), expected, atol)


def with_other_padding(case: TokenRewardCase) -> TokenRewardCase:
    """The same responses with different log-probabilities written into the padded positions."""
    mask = np.array(case.mask)
    logp = np.where(mask, case.logp, -3.0)
    ref = np.where(mask, case.ref_logp, -0.25)
    return dataclasses.replace(case, logp=logp.tolist(), ref_logp=ref.tolist())


@law(
    "token_rewards",
    claims=("RLHF-1",),
    section="§PPO (RLHF reward)",
    cases=token_reward_cases(),
    examples=(PADDED,),
)
def padding_is_ignored(target, case: TokenRewardCase):
    """Whatever the log-probabilities at padded positions, the rewards are the same: padding carries no KL and
    no score."""
    got, eps = call(TOKEN_REWARDS, target, case)
    other, _ = call(TOKEN_REWARDS, target, with_other_padding(case))
    expect_close("rewards with other values under the padding", other, got, 2 * reward_tolerance(case, eps))
