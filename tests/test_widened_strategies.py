"""Bugs that only show outside the narrow strategies the laws used to draw from (issue 9 of the outside review).

Each target here is right on the old domain and wrong on the contract's: the laws passed it while ratios stayed in
[e^−1, e], masks were right-padded, the measured KL was never negative and advantage batches always had a spread of
at least 0.05. With the strategies widened to the contract's domain (``lineage.laws.cases.domain``) its law fails
it, by its own derandomized search.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

from lineage.laws.law import LAWS, LawViolation
from lineage.oracle import check

SEARCH = settings(database=None, derandomize=True, max_examples=200)


def tianshou_dual_clip_loss(logp_new, logp_old, advantages, *, clip_eps):
    """Tianshou's PPO with ``dual_clip=3``: for A < 0 the clipped term is bounded below by c·A, c = 3
    (Ye et al. 2020). Right for the standard clip whenever ρ ≤ 3; for A < 0 and ρ > 3 it gives 3A instead of ρA."""
    ratios = np.exp(np.asarray(logp_new, dtype=np.float64) - np.asarray(logp_old, dtype=np.float64))
    a = np.asarray(advantages, dtype=np.float64)
    surrogate = np.minimum(ratios * a, np.clip(ratios, 1 - clip_eps, 1 + clip_eps) * a)
    return -np.mean(np.where(a < 0, np.maximum(surrogate, 3.0 * a), surrogate))


def rewards_assuming_right_padding(scores, logp, ref_logp, mask, *, beta):
    """The score on token (number of valid tokens − 1) of each row, as TRL-style code computes the sequence length:
    right only when the response is a prefix of the row."""
    mask = np.asarray(mask, dtype=bool)
    rewards = np.where(mask, -beta * (np.asarray(logp) - np.asarray(ref_logp)), 0.0)
    rewards[np.arange(len(rewards)), mask.sum(axis=1) - 1] += np.asarray(scores, dtype=np.float64)
    return rewards


def kl_coef_of_the_absolute_kl(beta, kl, *, kl_target):
    """The paper's rule applied to |KL|: a negative k1 estimate (the new policy more likely on the samples) doubles β
    instead of halving it once |KL| > 1.5·d_targ."""
    kl = abs(kl)
    if kl < kl_target / 1.5:
        return beta / 2
    return beta * 2 if kl > 1.5 * kl_target else beta


def normalization_skipped_below_a_small_std(advantages):
    """Zeros when the std is below 1e-3 (treated as "no spread"): far more than the ε ≤ 1e-6 the contract allows."""
    a = np.asarray(advantages, dtype=np.float64)
    std = a.std(ddof=1) if a.size > 1 else 0.0
    return np.zeros_like(a) if std < 1e-3 else (a - a.mean()) / (std + 1e-8)


@pytest.mark.parametrize(
    ("law_id", "target"),
    [
        ("ppo_clip_loss.piecewise_form", tianshou_dual_clip_loss),
        ("token_rewards.per_token_form", rewards_assuming_right_padding),
        ("adapt_kl_coef.paper_rule", kl_coef_of_the_absolute_kl),
        ("normalize_advantages.standardised", normalization_skipped_below_a_small_std),
    ],
    ids=["dual-clip-ratio-above-3", "score-assumes-right-padding", "kl-coef-of-abs-kl", "zeros-below-std-1e-3"],
)
def test_a_bug_outside_the_old_domain_fails_its_law(law_id, target):
    with pytest.raises(LawViolation):
        LAWS[law_id].verify(target, settings=SEARCH)


def test_the_trl_convention_draws_right_padded_responses_only():
    """TRL's responses are right-padded by construction, so the oracle hands a TRL-convention target right-padded
    masks (capability ``any_mask_layout``): the same placement of the score passes there, with the padding mask
    TRL's code derives it from."""
    import torch

    def trl_rewards_assuming_right_padding(scores, logprobs, ref_logprobs, padding_mask, kl_coef):
        rewards = torch.where(padding_mask, 0.0, -kl_coef * (logprobs - ref_logprobs))
        rewards[torch.arange(len(rewards)), (~padding_mask).sum(dim=1) - 1] += scores
        return rewards

    report = check("token_rewards", trl_rewards_assuming_right_padding, convention="trl", profile="oracle-quick")
    assert report.ok and {r.status for r in report.results} == {"passed"}, report.render()
