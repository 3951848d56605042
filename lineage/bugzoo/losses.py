"""Wrong PPO losses, KL estimators, KL coefficients and RLHF rewards (the contracts' signatures of
``lineage.laws.contracts``), each one flaw away from a correct implementation."""

from __future__ import annotations

import warnings

import numpy as np

from lineage.bugzoo import bug
from lineage.laws.cases import (
    DIRECTION,
    PADDED,
    AdvantageBatch,
    ClipCase,
    KLCoefCase,
    KLSamples,
    TokenRewardCase,
    ValueCase,
)


def _arrays(*values) -> list[np.ndarray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def _surrogate(logp_new, logp_old, advantages, clip_eps, *, inverted=False):
    """(ρA, clip(ρ, 1 − ε, 1 + ε)A) per sample; ``inverted`` uses π_old/π_new for ρ."""
    new, old, a = _arrays(logp_new, logp_old, advantages)
    ratios = np.exp(old - new) if inverted else np.exp(new - old)
    return ratios * a, np.clip(ratios, 1 - clip_eps, 1 + clip_eps) * a


@bug(
    "dual_clip_on_positive_advantages",
    contract="ppo_clip_loss",
    caught_by="ppo_clip_loss.piecewise_form",
    source="Tianshou issue #433 / PR #435",
    counterexample=ClipCase([0.0], [0.0], [1.0], clip_eps=0.2),
)  # A = 1, ρ = 1, c = 3: loss −1, bug −3
def dual_clip_on_positive_advantages(logp_new, logp_old, advantages, *, clip_eps):
    """Dual clip max(min(ρA, clip(ρ)A), c·A) with c = 3 applied to every sample, A > 0 included."""
    unclipped, clipped = _surrogate(logp_new, logp_old, advantages, clip_eps)
    return -np.mean(np.maximum(np.minimum(unclipped, clipped), 3.0 * np.asarray(advantages, dtype=np.float64)))


@bug(
    "clip_without_min",
    contract="ppo_clip_loss",
    caught_by="ppo_clip_loss.piecewise_form",
    source="classic mistake (clip without min)",
    counterexample=ClipCase([float(np.log(0.5))], [0.0], [1.0], clip_eps=0.2),
)  # ρ = 0.5, A = 1: −0.5, bug −0.8
def clip_without_min(logp_new, logp_old, advantages, *, clip_eps):
    """−mean(clip(ρ)A): the pessimistic min with the unclipped term is missing."""
    return -np.mean(_surrogate(logp_new, logp_old, advantages, clip_eps)[1])


@bug(
    "ratio_inverted",
    contract="ppo_clip_loss",
    caught_by="ppo_clip_loss.piecewise_form",
    source="classic mistake (log-prob difference taken the wrong way round)",
    counterexample=ClipCase([-0.1], [-0.5], [1.0], clip_eps=0.2),
)
def ratio_inverted(logp_new, logp_old, advantages, *, clip_eps):
    """ρ = π_old/π_new instead of π_new/π_old."""
    unclipped, clipped = _surrogate(logp_new, logp_old, advantages, clip_eps, inverted=True)
    return -np.mean(np.minimum(unclipped, clipped))


def _value_errors(values_new, values_old, returns, clip_eps, *, low, high):
    v, v_old, r = _arrays(values_new, values_old, returns)
    clipped = np.maximum(
        np.minimum(v, v_old + high * clip_eps), v_old + low * clip_eps
    )  # clip(x, l, r) = max(min(x, r), l)
    return (v - r) ** 2, (clipped - r) ** 2


@bug(
    "value_clip_min_instead_of_max",
    contract="value_loss",
    caught_by="value_loss.never_below_the_unclipped_loss",
    source="classic mistake (Baselines #765 and ray #19291 debate the max)",
    counterexample=ValueCase([2.0], [0.0], [0.0], clip_eps=0.2),
)  # ½·max(4, 0.04) = 2, bug ½·min = 0.02
def value_clip_min_instead_of_max(values_new, values_old, returns, *, clip_eps):
    """½·mean min((V − R)², (V_clip − R)²): clipping then discounts large errors."""
    return 0.5 * np.mean(np.minimum(*_value_errors(values_new, values_old, returns, clip_eps, low=-1, high=1)))


@bug(
    "value_clip_bounds_swapped",
    contract="value_loss",
    caught_by="value_loss.matches_its_form",
    source="the notes' §PPO value clipping (claim PPO-17, TC-15)",
    counterexample=ValueCase([0.0], [0.0], [0.0], clip_eps=0.2),
)  # correct 0, printed form ½·0.2² = 0.02
def value_clip_bounds_swapped(values_new, values_old, returns, *, clip_eps):
    """clip(V, V_old + ε, V_old − ε) as printed: with l > r the clip is the constant V_old + ε."""
    return 0.5 * np.mean(np.maximum(*_value_errors(values_new, values_old, returns, clip_eps, low=1, high=-1)))


@bug(
    "kl_sign_flipped",
    contract="kl_k1",
    caught_by="kl_k1.per_sample_formula",
    source="TRL PR #168 (policykl sign)",
    counterexample=KLSamples([-0.1], [-0.5]),
)  # k1 = log π_old − log π_new = −0.4; bug +0.4
def kl_sign_flipped(logp_new, logp_old):
    """log π_new − log π_old instead of log π_old − log π_new."""
    new, old = _arrays(logp_new, logp_old)
    return new - old


@bug(
    "kl_of_the_current_policy_with_itself",
    contract="kl_k1",
    caught_by="kl_k1.per_sample_formula",
    source="TorchRL issue #1920 / PR #1922 (KLPENPPOLoss rebuilt the old policy from overwritten entries)",
    counterexample=KLSamples([-0.1], [-0.7]),  # k1 = 0.6, bug 0
)
def kl_of_the_current_policy_with_itself(logp_new, logp_old):
    """The "old" log-probabilities are recomputed from the current policy: every estimate is 0 and an adaptive β
    only ever decays."""
    new = np.asarray(logp_new, dtype=np.float64)
    return new - new


@bug(
    "k3_for_the_reverse_direction",
    contract="kl_k3",
    caught_by="kl_k3.unbiased_for_kl_old_new",
    source="CleanRL PPG commit 7dc0baef (KL order swapped); spec STD-KL-2",
    counterexample=DIRECTION,  # old = (0.5, 0.5), new = (0.9, 0.1): KL(old‖new) = 0.511, the swap gives 0.368
)
def k3_for_the_reverse_direction(logp_new, logp_old):
    """k3 with the roles of the policies swapped, r = π_old/π_new: an estimate of another KL."""
    new, old = _arrays(logp_new, logp_old)
    return np.expm1(old - new) - (old - new)


@bug(
    "kl_coef_rule_inverted",
    contract="adapt_kl_coef",
    caught_by="adapt_kl_coef.monotone_in_the_measured_kl",
    source="classic mistake (spec PPO-3: the notes' rationale invites it)",
    counterexample=(KLCoefCase(1.0, 0.0, 0.01), KLCoefCase(1.0, 0.03, 0.01)),
)
def kl_coef_rule_inverted(beta, kl, *, kl_target):
    """β doubled when the KL is small and halved when it is large."""
    if kl < kl_target / 1.5:
        return beta * 2
    return beta / 2 if kl > 1.5 * kl_target else beta


def _token_rewards(scores, logp, ref_logp, mask, beta, *, score_at, sign=-1.0):
    scores, logp, ref_logp = _arrays(scores, logp, ref_logp)
    mask = np.asarray(mask, dtype=bool)
    rewards = np.where(mask, sign * beta * (logp - ref_logp), 0.0)
    rewards[np.arange(len(rewards)), score_at(mask)] += scores
    return rewards


@bug(
    "score_on_first_pad_after_eos",
    contract="token_rewards",
    caught_by="token_rewards.per_token_form",
    source="TRL issues #1893, #3750 (actual_end = sequence_length + 1)",
    counterexample=PADDED,
)
def score_on_first_pad_after_eos(scores, logp, ref_logp, mask, *, beta):
    """The score lands one position after the last valid token when the row is padded."""
    return _token_rewards(
        scores, logp, ref_logp, mask, beta, score_at=lambda m: np.minimum(m.sum(axis=1), m.shape[1] - 1)
    )


@bug(
    "kl_penalty_sign_flipped",
    contract="token_rewards",
    caught_by="token_rewards.sum_is_the_sequence_reward",
    source="classic mistake (KL sign and direction mix-ups)",
    counterexample=TokenRewardCase([0.0], [[-0.1]], [[-0.5]], [[True]], beta=0.1),
)
def kl_penalty_sign_flipped(scores, logp, ref_logp, mask, *, beta):
    """+β(log π − log π_ref): the policy is rewarded for drifting from the reference."""
    last = lambda m: m.shape[1] - 1 - np.argmax(m[:, ::-1], axis=1)  # noqa: E731
    return _token_rewards(scores, logp, ref_logp, mask, beta, score_at=last, sign=1.0)


@bug(
    "normalization_nan_for_a_single_advantage",
    contract="normalize_advantages",
    caught_by="normalize_advantages.finite_without_spread",
    source="SB3 issues #325, #265, #440 / PR #1028 (minibatch of size 1)",
    counterexample=AdvantageBatch([3.0]),  # the unbiased std of one entry is NaN
)
def normalization_nan_for_a_single_advantage(advantages):
    """(A − mean)/(std + 1e-8) with the unbiased std, which is NaN for a single entry."""
    a = np.asarray(advantages, dtype=np.float64)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns of the 0 degrees of freedom
        return (a - a.mean()) / (a.std(ddof=1) + 1e-8)


@bug(
    "normalization_without_epsilon",
    contract="normalize_advantages",
    caught_by="normalize_advantages.finite_without_spread",
    source="Tianshou PR #1298 (NPG/TRPO normalised without an epsilon)",
    counterexample=AdvantageBatch([1.0, 1.0]),  # 0/0
)
def normalization_without_epsilon(advantages):
    """(A − mean)/std with nothing added to the std: 0/0 when every advantage is the same."""
    a = np.asarray(advantages, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (a - a.mean()) / a.std()
