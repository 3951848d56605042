"""The declared variants of the PPO losses: an objective instead of a loss, a sum instead of a mean, ratios
instead of log-probabilities (rlax), masked means over the tokens of padded responses (TRL) and TorchRL's loss
module. A correct target in each convention passes every law; a target in the wrong convention, or one that
averages over the padding, fails, so the convention is declared, never guessed."""

import functools

import numpy as np
import pytest
import torch
from torchrl.objectives import ClipPPOLoss, KLPENPPOLoss

from lineage.laws.contracts import CONTRACTS, per_step
from lineage.laws.law import laws_for
from lineage.optim.conjugate_gradient import conjugate_gradient
from lineage.oracle import CONVENTIONS, check


def clip_objective_terms(ratios, advantages, clip_eps):
    ratios, advantages = np.asarray(ratios, dtype=np.float64), np.asarray(advantages, dtype=np.float64)
    return np.minimum(ratios * advantages, np.clip(ratios, 1 - clip_eps, 1 + clip_eps) * advantages)


def objective(logp_new, logp_old, advantages, clip_eps):
    ratios = np.exp(np.asarray(logp_new, dtype=np.float64) - np.asarray(logp_old, dtype=np.float64))
    return np.mean(clip_objective_terms(ratios, advantages, clip_eps))


def summed_loss(logp_new, logp_old, advantages, clip_eps):
    return -objective(logp_new, logp_old, advantages, clip_eps) * len(advantages)


def rlax_style_loss(prob_ratios_t, adv_t, epsilon):
    return -np.mean(clip_objective_terms(prob_ratios_t, adv_t, epsilon))


def masked_mean(x, mask):
    return (x * mask).sum() / mask.sum()


def trl_token_terms(logp_new, logp_old, advantages, clip_eps):
    """TRL's per-token policy loss max(−Aρ, −A·clip(ρ)) on every entry, padding included."""
    ratio = torch.exp(logp_new - logp_old)
    return torch.max(-advantages * ratio, -advantages * torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps))


def trl_clip_loss(logp_new, logp_old, advantages, mask, clip_eps):
    return masked_mean(trl_token_terms(logp_new, logp_old, advantages, clip_eps), mask)


def trl_clip_loss_over_padding(logp_new, logp_old, advantages, mask, clip_eps):
    """Averages over every entry of the padded batch: the padding dilutes the loss (sb3-contrib bug 8)."""
    return trl_token_terms(logp_new, logp_old, advantages, clip_eps).mean()


def trl_value_loss(values_new, values_old, returns, mask, clip_eps):
    clipped = torch.clamp(values_new, values_old - clip_eps, values_old + clip_eps)
    return 0.5 * masked_mean(torch.max((values_new - returns) ** 2, (clipped - returns) ** 2), mask)


INVALID_LOGPROB = 1.0  # what TRL writes into the padded positions of its log-probabilities


def trl_token_rewards(scores, logprobs, ref_logprobs, padding_mask, kl_coef, *, score_after_eos=False):
    """TRL's per-token rewards: padded log-probabilities overwritten, −kl_coef·(log π − log π_ref) per token and
    the score on the last response token (``score_after_eos``: on the first padded token, as TRL's trainer does
    when the response is shorter than the batch, TRL issues #1893/#3750)."""
    logprobs = torch.masked_fill(logprobs, padding_mask, INVALID_LOGPROB)
    ref_logprobs = torch.masked_fill(ref_logprobs, padding_mask, INVALID_LOGPROB)
    rewards = -kl_coef * (logprobs - ref_logprobs)
    last = (~padding_mask).sum(dim=1) - 1  # right padding: the response is a prefix of the row
    if score_after_eos:
        last = torch.where(last + 1 < rewards.shape[1], last + 1, last)
    rewards[torch.arange(len(rewards)), last] += scores
    return rewards


CORRECT = {
    ("objective", "ppo_clip_loss"): objective,
    ("sum", "ppo_clip_loss"): summed_loss,
    ("rlax", "ppo_clip_loss"): rlax_style_loss,
    ("trl", "ppo_clip_loss"): trl_clip_loss,
    ("trl", "value_loss"): trl_value_loss,
    ("trl", "token_rewards"): trl_token_rewards,
    ("torchrl-ppo", "ppo_clip_loss"): ClipPPOLoss,
    ("torchrl-ppo", "value_loss"): ClipPPOLoss,
    ("torchrl-ppo", "adapt_kl_coef"): KLPENPPOLoss,
    ("sb3-contrib", "conjugate_gradient"): lambda matrix_vector_dot_fn, b, max_iter=10, residual_tol=1e-10: (
        conjugate_gradient(matrix_vector_dot_fn, b, iters=max_iter, tol=residual_tol)
    ),  # sb3-contrib's signature from x_0 = 0 (the solver itself: tests/test_peers_optim.py)
}


def test_every_loss_contract_of_every_convention_has_a_correct_target():
    offered = {
        (name, contract)
        for name, convention in CONVENTIONS.items()
        for contract in convention.signatures
        if name != "canonical" and CONTRACTS[contract].shape is not per_step
    }
    assert offered == set(CORRECT)


@pytest.mark.parametrize(("convention", "contract"), sorted(CORRECT), ids=[f"{c}-{k}" for c, k in sorted(CORRECT)])
def test_correct_target_in_its_convention_passes(convention, contract):
    """Every law passes, except those the convention cannot express (the gradient laws where the adapter reads the
    output back as numpy), which are not applicable."""
    report = check(contract, CORRECT[convention, contract], convention=convention, profile="oracle-quick")
    capabilities = CONVENTIONS[convention].capabilities
    expected = {
        law.id: "not applicable" if capabilities.missing(law.requires) else "passed" for law in laws_for(contract)
    }
    assert report.ok and {r.law: r.status for r in report.results} == expected, report.render()


@pytest.mark.parametrize(
    ("convention", "target"),
    [("objective", summed_loss), ("sum", objective), ("trl", trl_clip_loss_over_padding)],
    ids=["objective-given-a-sum", "sum-given-an-objective", "trl-mean-over-padding"],
)
def test_target_in_another_convention_fails(convention, target):
    report = check("ppo_clip_loss", target, convention=convention, profile="oracle-quick")
    failed = {r.law for r in report.results if r.status == "failed"}
    assert "ppo_clip_loss.piecewise_form" in failed, report.render()


def test_trl_layout_is_one_response_and_one_padded_token():
    """A hand-made case: two samples become a [1, 3] batch whose last token is padding."""
    (call,) = CONVENTIONS["trl"].calls(
        "ppo_clip_loss",
        {"logp_new": np.array([-0.5, -1.0]), "logp_old": np.array([-0.7, -0.9]), "advantages": np.array([1.0, -2.0])},
        {"clip_eps": 0.2},
    )
    args = dict(call.args)
    assert args["mask"].tolist() == [[True, True, False]]
    assert args["logp_new"].tolist() == [[-0.5, -1.0, 1.0]]
    assert args["advantages"].tolist() == [[1.0, -2.0, 1.0]]
    assert args["clip_eps"] == 0.2


def test_kl_penalty_module_that_never_adapts_fails():
    """KLPENPPOLoss configured with increment = decrement = 1 keeps β fixed: the paper's rule fails, while a
    constant β is still (weakly) monotone in the KL. (TorchRL refuses increment < 1, so the rule cannot be
    inverted through its arguments.)"""
    fixed = functools.partial(KLPENPPOLoss, increment=1.0, decrement=1.0)
    report = check("adapt_kl_coef", fixed, convention="torchrl-ppo", profile="oracle-quick")
    assert {r.law: r.status for r in report.results} == {
        "adapt_kl_coef.paper_rule": "failed",
        "adapt_kl_coef.monotone_in_the_measured_kl": "passed",
    }, report.render()


def test_trl_score_on_the_first_padded_token_fails():
    """TRL's trainer's placement, in TRL's own layout: caught by the per-token law (the bug zoo holds the same
    mistake in lineage's layout)."""
    after_eos = functools.partial(trl_token_rewards, score_after_eos=True)
    report = check("token_rewards", after_eos, convention="trl", profile="oracle-quick")
    failed = {r.law for r in report.results if r.status == "failed"}
    assert "token_rewards.per_token_form" in failed, report.render()
    assert "score_on_first_pad_after_eos" in report.results[0].likely_cause, report.render()
