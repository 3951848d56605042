"""The calling conventions: a correct target written in each convention passes every law the convention
can express (and exactly the others are "not applicable"), a deliberately broken one fails by the law
that names its bug with a repro that is valid Python, and each translation is right on a hand-made case."""

import ast

import numpy as np
import pytest
import torch
from stable_baselines3.common.buffers import RolloutBuffer

import lineage
from lineage.laws.cases.segments import Segment
from lineage.laws.contracts import CONTRACTS, per_step
from lineage.laws.law import LAWS, laws_for
from lineage.laws.profiles import oracle_settings
from lineage.oracle import CONVENTIONS, check
from lineage.oracle.runner import run_law
from lineage.oracle.targets import make_target


def backward_sum(x, factors):
    """y_t = x_t + factors_t · y_{t+1} along the first axis, y_T = 0 (numpy arrays or torch tensors)."""
    y = x * 0
    following = 0.0
    for t in reversed(range(len(x))):
        following = y[t] = x[t] + factors[t] * following
    return y


# --------------------------------------------------------------------------------------------------
# Correct targets, one per convention and contract, each a plain transcription of the convention
# --------------------------------------------------------------------------------------------------
def cleanrl_gae(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """CleanRL: dones[t + 1] says whether step t ended an episode; next_value/next_done after the last step."""
    not_done = 1.0 - torch.cat([dones[1:], next_done[None]])
    following_values = torch.cat([values[1:], next_value[None]])
    advantages = backward_sum(rewards + gamma * following_values * not_done - values, gamma * gae_lambda * not_done)
    return advantages, advantages + values


def torchrl_gae(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    """TorchRL: [B, T, 1], explicit next values, ``terminated`` drops the bootstrap, ``done`` stops the sum."""
    deltas = reward + gamma * torch.where(terminated, 0.0, next_state_value) - state_value
    carry = (~done).to(deltas.dtype) * (gamma * lmbda)
    advantage = backward_sum(deltas.transpose(0, -2), carry.transpose(0, -2)).transpose(0, -2)
    return advantage, advantage + state_value


def torchrl_td1_return(gamma, next_state_value, reward, done, terminated):
    """TorchRL TD(1): G_t = r_t + γG_{t+1} inside an episode, r_t + γ(1 − terminated)V' where it (or the data) ends."""
    ends = done.clone()
    ends[..., -1, :] = True
    bootstrapped = reward + gamma * torch.where(ends & ~terminated, next_state_value, 0.0)
    carry = (~ends).to(reward.dtype) * gamma
    return backward_sum(bootstrapped.transpose(0, -2), carry.transpose(0, -2)).transpose(0, -2)


def tianshou_gae(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    """Tianshou: v_s_ already masked, end_flag stops the sum."""
    return backward_sum(rew + gamma * v_s_ - v_s, gamma * gae_lambda * (1.0 - end_flag))


def rlax_gae(r_t, discount_t, lambda_, values):
    """rlax: T + 1 values, the discount carries γ and the termination."""
    return backward_sum(r_t + discount_t * values[1:] - values[:-1], lambda_ * discount_t)


def rlax_lambda_returns(r_t, discount_t, v_t, lambda_):
    """rlax: G_t = r_t + discount_t((1 − λ)v_t + λG_{t+1}), starting from G_T = v_t[T − 1]."""
    returns, following = np.zeros_like(r_t), v_t[-1]
    for t in reversed(range(len(r_t))):
        following = returns[t] = r_t[t] + discount_t[t] * ((1 - lambda_) * v_t[t] + lambda_ * following)
    return returns


def rlax_discounted_returns(r_t, discount_t, v_t):
    return rlax_lambda_returns(r_t, discount_t, v_t, 1.0)


def spinningup_gae(rews, vals, last_val, gamma, lam):
    """Spinning Up's finish_path: the path's values with last_val appended, (γλ)-discounted TD errors."""
    vals = np.append(vals, last_val)
    return backward_sum(rews + gamma * vals[1:] - vals[:-1], np.full(len(rews), gamma * lam))


def spinningup_returns(rews, last_val, gamma):
    """Spinning Up's finish_path: the γ-discounted sum of the rewards with last_val appended."""
    return backward_sum(np.append(rews, last_val), np.full(len(rews) + 1, gamma))[:-1]


CORRECT = {
    ("cleanrl", "gae"): cleanrl_gae,
    ("cleanrl", "lambda_returns"): cleanrl_gae,
    ("torchrl", "gae"): torchrl_gae,
    ("torchrl", "lambda_returns"): torchrl_gae,
    ("torchrl", "discounted_returns"): torchrl_td1_return,
    ("sb3", "gae"): RolloutBuffer,
    ("sb3", "lambda_returns"): RolloutBuffer,
    ("sb3", "discounted_returns"): RolloutBuffer,
    ("tianshou", "gae"): tianshou_gae,
    ("rlax", "gae"): rlax_gae,
    ("rlax", "lambda_returns"): rlax_lambda_returns,
    ("rlax", "discounted_returns"): rlax_discounted_returns,
    ("spinningup", "gae"): spinningup_gae,
    ("spinningup", "discounted_returns"): spinningup_returns,
}
LIBRARY_CONVENTIONS = sorted(set(CONVENTIONS) - {"canonical"})


def test_every_return_contract_of_every_library_convention_has_a_correct_target():
    """(The loss contracts' correct targets are in test_loss_conventions.)"""
    offered = {
        (name, contract)
        for name in LIBRARY_CONVENTIONS
        for contract in CONVENTIONS[name].signatures
        if CONTRACTS[contract].shape is per_step
    }
    assert offered == set(CORRECT)


@pytest.mark.parametrize(
    ("convention", "missing"),
    [
        ("cleanrl", {"truncation_inside", "separate_flags"}),
        ("torchrl", set()),
        ("sb3", {"separate_flags"}),
        ("tianshou", {"separate_flags"}),
        ("rlax", {"truncation_inside", "separate_flags", "batch_in_call"}),
        ("spinningup", {"separate_flags", "boundaries_in_call", "batch_in_call"}),
        ("trl", {"any_mask_layout"}),
    ],
)
def test_each_convention_declares_what_its_library_cannot_express(convention, missing):
    """(Only the canonical convention hands a target the law's own tensors, so every other one also lacks
    ``autograd``.)"""
    capabilities = CONVENTIONS[convention].capabilities
    assert {name for name, value in vars(capabilities).items() if not value} == missing | {"autograd"}


def test_the_canonical_convention_passes_tensors_to_a_torch_target_only():
    assert CONVENTIONS["canonical"].capabilities.autograd
    torch_target = make_target("ppo_clip_loss", lineage.ppo.ppo_clip_loss).as_contract()
    numpy_target = make_target("ppo_clip_loss", lineage.ppo.ppo_clip_loss, framework="numpy").as_contract()
    assert getattr(torch_target, "passes_tensors", True) and not numpy_target.passes_tensors


@pytest.mark.parametrize(("convention", "contract"), sorted(CORRECT), ids=[f"{c}-{k}" for c, k in sorted(CORRECT)])
def test_a_correct_target_passes_every_law_the_convention_can_express(convention, contract):
    report = check(contract, CORRECT[convention, contract], convention=convention, profile="oracle-quick")
    capabilities = CONVENTIONS[convention].capabilities
    inexpressible = {law.id for law in laws_for(contract) if capabilities.missing(law.requires)}
    statuses = {r.law: r.status for r in report.results}
    assert {law for law, status in statuses.items() if status == "not applicable"} == inexpressible, report.render()
    assert all(status == "passed" for law, status in statuses.items() if law not in inexpressible), report.render()
    assert report.ok and not report.preflight


# --------------------------------------------------------------------------------------------------
# Broken targets: each fails by the law that names its bug
# --------------------------------------------------------------------------------------------------
def cleanrl_gae_without_lambda(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    """λ dropped from the recursion: A_t = δ_t + γ(1 − done)A_{t+1}."""
    return cleanrl_gae(rewards, values, dones, next_value, next_done, gamma, 1.0)


def torchrl_gae_truncation_as_termination(gamma, lmbda, state_value, next_state_value, reward, done, terminated):
    """Every episode end drops its bootstrap, as if a time-limit cut were a terminal state."""
    return torchrl_gae(gamma, lmbda, state_value, next_state_value, reward, done, done)


class RolloutBufferWithoutLambda(RolloutBuffer):
    """Ignores gae_lambda (computes GAE(γ, 1))."""

    def compute_returns_and_advantage(self, last_values, dones):
        self.gae_lambda = 1.0
        super().compute_returns_and_advantage(last_values, dones)


def tianshou_gae_across_episodes(v_s, v_s_, rew, end_flag, gamma, gae_lambda):
    """Ignores end_flag: the sum runs on into the next episode stored after this one."""
    return tianshou_gae(v_s, v_s_, rew, np.zeros_like(end_flag), gamma, gae_lambda)


def rlax_gae_without_gamma_in_the_trace(r_t, discount_t, lambda_, values):
    """Carries λ(1 − terminal) instead of λ·discount_t: γ missing from the trace."""
    return backward_sum(r_t + discount_t * values[1:] - values[:-1], lambda_ * (discount_t > 0))


def spinningup_gae_without_last_val(rews, vals, last_val, gamma, lam):
    """Every path ends in a terminal state: the bootstrap last_val is dropped."""
    return spinningup_gae(rews, vals, 0.0, gamma, lam)


BROKEN = [
    ("cleanrl", cleanrl_gae_without_lambda, "gae.lambda_zero_is_td_error"),
    ("torchrl", torchrl_gae_truncation_as_termination, "gae.final_value_enters_with_its_weight"),
    ("sb3", RolloutBufferWithoutLambda, "gae.lambda_zero_is_td_error"),
    ("tianshou", tianshou_gae_across_episodes, "gae.independent_of_what_follows_an_episode_end"),
    ("rlax", rlax_gae_without_gamma_in_the_trace, "gae.lambda_one_is_monte_carlo"),
    ("spinningup", spinningup_gae_without_last_val, "gae.final_value_enters_with_its_weight"),
]


def failing_result(law_id: str, target, convention: str):
    """The oracle's result for one law of the gae contract (the broken targets are judged by their own law)."""
    law = LAWS.all()[law_id]
    return run_law(make_target("gae", target, convention=convention), law, oracle_settings("oracle-quick"))


@pytest.mark.parametrize(("convention", "target", "law"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_target_fails_by_its_law_with_a_valid_repro(convention, target, law):
    result = failing_result(law, target, convention)
    assert result.status == "failed", result.render()
    assert "SegmentCase(" in result.counterexample
    assert f"# {law} in the {convention} convention" in result.repro
    compile(result.repro, f"<repro of {law}>", "exec")


def test_the_sb3_repro_drives_the_buffer_as_the_oracle_did():
    """The rendered buffer-driving code, run as is, gives what the oracle saw the target give."""
    result = failing_result("gae.lambda_zero_is_td_error", RolloutBufferWithoutLambda, "sb3")
    namespace = {}
    exec(compile(result.repro, "<sb3 repro>", "exec"), namespace)
    gave = " ".join(line.lstrip("# ") for line in result.repro.rsplit("# the target gave:", 1)[1].splitlines())
    np.testing.assert_allclose(namespace["out"].ravel(), np.ravel(ast.literal_eval(gave.strip())), rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------------
# The translations, on a hand-made case
# --------------------------------------------------------------------------------------------------
# Step 1 is cut by a time limit (final observation worth 99), step 2 terminates (its final observation's
# value 5 must not be used), the segment ends after step 3 (next observation worth 77).
CASE = Segment(
    rewards=[1.0, 2.0, 3.0, 4.0],
    values=[10.0, 20.0, 30.0, 40.0],
    next_values=[20.0, 99.0, 5.0, 77.0],
    terminated=[False, False, True, False],
    truncated=[False, True, False, False],
).arrays()
GAMMA, LAM = 0.5, 0.9


def batch_of(*columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.stack([column[name] for column in columns], axis=1) for name in columns[0]}


def named(call) -> dict:
    return {**dict(call.args), **call.kwargs}


def test_cleanrl_flags_episode_starts_and_passes_the_last_steps_termination():
    (call,) = CONVENTIONS["cleanrl"].calls("gae", CASE, {"gamma": GAMMA, "lam": LAM})
    args = named(call)
    np.testing.assert_array_equal(args["dones"][:, 0], [0.0, 0.0, 1.0, 1.0])
    assert args["next_value"].tolist() == [77.0] and args["next_done"].tolist() == [0.0]


def test_torchrl_lays_the_batch_out_batch_major_with_a_feature_dim():
    batch = batch_of(CASE, {**CASE, "rewards": -CASE["rewards"]})
    (call,) = CONVENTIONS["torchrl"].calls("gae", batch, {"gamma": GAMMA, "lam": LAM})
    reward = named(call)["reward"]
    assert reward.shape == (2, 4, 1)
    np.testing.assert_array_equal(reward[1, :, 0], -CASE["rewards"])


def test_sb3_folds_the_truncated_bootstrap_into_the_reward_and_flags_episode_starts():
    (call,) = CONVENTIONS["sb3"].calls("gae", CASE, {"gamma": GAMMA, "lam": LAM})
    args = named(call)
    np.testing.assert_array_equal(args["rewards"][:, 0], [1.0, 2.0 + GAMMA * 99.0, 3.0, 4.0])
    np.testing.assert_array_equal(args["values"][:, 0], CASE["values"])
    np.testing.assert_array_equal(args["episode_starts"][:, 0], [0.0, 0.0, 1.0, 1.0])
    assert args["last_values"].tolist() == [77.0] and args["dones"].tolist() == [False]
    assert (args["gamma"], args["gae_lambda"]) == (GAMMA, LAM)
    assert call.read.name == "advantages"


def test_sb3_discounted_returns_are_returns_of_a_zero_critic_at_lambda_one():
    (call,) = CONVENTIONS["sb3"].calls("discounted_returns", CASE, {"gamma": GAMMA})
    args = named(call)
    assert not args["values"].any() and args["gae_lambda"] == 1.0 and call.read.name == "returns"


def test_sb3_drives_the_real_buffer_to_the_canonical_advantages():
    advantages = CONVENTIONS["sb3"].adapt("gae", RolloutBuffer)(*CASE.values(), gamma=GAMMA, lam=LAM)
    deltas = [1 + GAMMA * 20 - 10, 2 + GAMMA * 99 - 20, 3 - 30, 4 + GAMMA * 77 - 40]
    expected = [deltas[0] + GAMMA * LAM * deltas[1], deltas[1], deltas[2], deltas[3]]
    np.testing.assert_allclose(advantages, expected, rtol=1e-6)


def test_tianshou_masks_next_values_and_ends_every_segment_in_one_buffer():
    other = {**CASE, "terminated": np.zeros(4, bool), "truncated": np.zeros(4, bool), "values": CASE["values"] + 1}
    (call,) = CONVENTIONS["tianshou"].calls("gae", batch_of(CASE, other), {"gamma": GAMMA, "lam": LAM})
    args = named(call)
    np.testing.assert_array_equal(args["v_s"], [10, 20, 30, 40, 11, 21, 31, 41])
    np.testing.assert_array_equal(args["v_s_"], [20, 99, 0, 77, 20, 99, 5, 77])
    np.testing.assert_array_equal(args["end_flag"], [False, True, True, True, False, False, False, True])
    np.testing.assert_array_equal(call.read(np.arange(8.0)), [[0, 4], [1, 5], [2, 6], [3, 7]])


def test_rlax_appends_the_bootstrap_value_and_discounts_by_termination():
    case = {**CASE, "truncated": np.array([False, False, False, True])}  # rlax cuts only at the last step
    calls = {
        c: named(CONVENTIONS["rlax"].calls(c, case, {"gamma": GAMMA, "lam": LAM})[0]) for c in ("gae", "lambda_returns")
    }
    np.testing.assert_array_equal(calls["gae"]["values"], [10, 20, 30, 40, 77])
    np.testing.assert_array_equal(calls["gae"]["discount_t"], [0.5, 0.5, 0.0, 0.5])
    np.testing.assert_array_equal(calls["lambda_returns"]["v_t"], CASE["next_values"])
    assert list(calls["gae"]) == ["r_t", "discount_t", "lambda_", "values"]
    assert list(calls["lambda_returns"]) == ["r_t", "discount_t", "v_t", "lambda_"]


def test_rlax_calls_once_per_batch_column():
    calls = CONVENTIONS["rlax"].calls("discounted_returns", batch_of(CASE, CASE), {"gamma": GAMMA})
    assert [call.place for call in calls] == [(slice(None), 0), (slice(None), 1)]
    assert all(named(call)["r_t"].shape == (4,) for call in calls)


def test_spinningup_splits_at_episode_ends_and_bootstraps_only_unterminated_paths():
    calls = CONVENTIONS["spinningup"].calls("gae", batch_of(CASE, CASE), {"gamma": GAMMA, "lam": LAM})
    paths = [(call.place, named(call)["rews"].tolist(), named(call)["last_val"]) for call in calls]
    column = [((slice(0, 2),), [1.0, 2.0], 99.0), ((slice(2, 3),), [3.0], 0.0), ((slice(3, 4),), [4.0], 77.0)]
    assert paths == [((steps, b), rews, last) for b in (0, 1) for (steps,), rews, last in column]
    returns = CONVENTIONS["spinningup"].calls("discounted_returns", CASE, {"gamma": GAMMA})
    assert [list(named(call)) for call in returns] == [["rews", "last_val", "gamma"]] * 3
