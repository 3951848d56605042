"""Preflight: a broken target gets one clear message per problem, and its laws are skipped, not failed; where the
user is one option away (framework, convention) the message says which; a target that takes one trajectory per
call is run once per batch column."""

import functools
import re
import time

import numpy as np
import pytest
import torch

import lineage
from lineage.laws import CONTRACTS, LawViolation, call
from lineage.laws.cases import Segment, SegmentCase
from lineage.oracle import check
from lineage.oracle.preflight import preflight
from lineage.oracle.targets import make_target


def writes_into_rewards(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    rewards[...] = 0.0
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


_calls = [0]


def answers_differently_each_call(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    _calls[0] += 1
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam) + _calls[0]


def too_slow(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    time.sleep(2.0)
    return np.zeros(np.shape(rewards))


def wrong_shape(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    return np.zeros(len(rewards) + 1)


def returns_none(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    return None


def test_lineage_passes_preflight():
    assert preflight(make_target("gae", lineage.gae)) == []


def problems(function, **options):
    return [(p.check, p.message) for p in preflight(make_target("gae", function), **options)]


def test_mutating_target():
    assert problems(writes_into_rewards) == [("inputs unchanged", "the target wrote into its input 'rewards'")]


def test_nondeterministic_target():
    [(check_name, message)] = problems(answers_differently_each_call)
    assert check_name == "deterministic" and "two calls on the same input disagree" in message


def slightly_nondeterministic(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    _calls[0] += 1
    out = lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    out[-1] += _calls[0] * 1e-13
    return out


def test_a_nondeterminism_shows_where_and_by_how_much():
    """Two outputs that print alike: the first differing index, both values in full precision, max |diff|."""
    [(_, message)] = problems(slightly_nondeterministic)
    first, second = (float(x) for x in re.search(r"index 1: (\S+) vs (\S+) ", message).groups())
    assert first != second and abs(first - second) < 1e-12, message
    largest = float(re.search(r"max \|diff\| (\S+);", message).group(1))
    assert abs(largest - abs(first - second)) <= 1e-15 and "1 of 2 entries differ" in message, message


def test_slow_target():
    [(check_name, message)] = problems(too_slow, time_limit=0.2)
    assert check_name == "time limit" and "did not return within 0.2 s" in message


def test_wrong_shape_and_unreadable_output():
    [(check_name, message)] = problems(wrong_shape)
    assert check_name == "callable" and "output has shape (3,); shape (2,) expected" in message
    [(check_name, message)] = problems(returns_none)
    assert check_name == "callable" and "the target returned None" in message


def test_failed_preflight_skips_every_law_with_the_reason():
    report = check("gae", writes_into_rewards, profile="oracle-quick")
    assert not report.ok and report.preflight == ["inputs unchanged: the target wrote into its input 'rewards'"]
    assert {r.status for r in report.results} == {"skipped"}
    assert all(r.reason == "skipped: prerequisite 'inputs unchanged' failed" for r in report.results)


def writes_into_rewards_at_episode_ends(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Zeroes the rewards of terminated steps in place: the preflight's input has no episode end."""
    advantages = lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    rewards[np.asarray(terminated)] = 0.0
    return advantages


def test_writing_into_an_input_is_checked_on_every_law_call():
    """The preflight's flag-free input does not show it; the laws' inputs do, in the oracle and in lineage's own
    binding (``call``)."""
    assert problems(writes_into_rewards_at_episode_ends) == []
    report = check("gae", writes_into_rewards_at_episode_ends, profile="oracle-quick")
    failed = [r for r in report.results if r.status == "failed"]
    assert failed and all("wrote into its input 'rewards'" in r.message for r in failed), report.render()
    case = SegmentCase(Segment([1.0], [0.0], [0.0], [True], [False]), gamma=0.5, lam=0.5)
    with pytest.raises(LawViolation, match="wrote into its input 'rewards'"):
        call(CONTRACTS["gae"], writes_into_rewards_at_episode_ends, case)


def torch_only(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Written for torch tensors (``clone``), so numpy arrays fail."""
    arrays = [x.clone().numpy() for x in (rewards, values, next_values, terminated, truncated)]
    return torch.from_numpy(lineage.gae(*arrays, gamma=gamma, lam=lam))


def numpy_only(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Written for numpy arrays (``copy``), so torch tensors fail."""
    arrays = [x.copy() for x in (rewards, values, next_values, terminated, truncated)]
    return lineage.gae(*arrays, gamma=gamma, lam=lam)


def test_a_target_for_the_other_framework_is_told_which_option_to_pass():
    [(check_name, message)] = problems(torch_only)
    assert check_name == "callable" and "has no attribute 'clone'" in message
    assert "with torch tensors instead of numpy arrays the call succeeds: pass framework='torch'" in message
    assert "--framework torch" in message and "--lineage-framework torch" in message
    [(_, message)] = [(p.check, p.message) for p in preflight(make_target("gae", numpy_only, framework="torch"))]
    assert "pass framework='numpy'" in message, message


def cleanrl_style(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    return torch.zeros_like(rewards)


def test_a_target_of_another_convention_is_told_which_convention_matches_its_signature():
    [(check_name, message)] = problems(cleanrl_style)
    assert check_name == "callable" and "unexpected keyword argument 'lam'" in message
    assert "the target's parameters (rewards, values, dones, next_value, next_done, gamma, gae_lambda)" in message
    assert "match the cleanrl convention" in message and "pass convention='cleanrl'" in message, message
    assert "--convention cleanrl" in message and "--lineage-convention cleanrl" in message
    assert message.count("the canonical convention calls") == 1


def test_no_hint_when_nothing_fits():
    def broken(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        raise ValueError("no")

    [(_, message)] = problems(broken)
    assert "pass framework" not in message and "pass convention" not in message


def gae_of_one_trajectory(rewards, values, next_values, terminated, truncated, *, gamma, lam, drop_lambda=False):
    """GAE by a Python loop over a [T] trajectory (``if terminated[t]`` fails on a [T, B] batch)."""
    out, following = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * (0.0 if terminated[t] else next_values[t]) - values[t]
        carry = gamma if drop_lambda else gamma * lam
        following = delta + (0.0 if terminated[t] or truncated[t] else carry * following)
        out[t] = following
    return out


def test_a_target_of_one_trajectory_per_call_runs_once_per_column():
    report = check("gae", gae_of_one_trajectory, profile="oracle-quick")
    assert report.ok, report.render()
    [note] = report.notes
    assert note.startswith("the target takes one trajectory per call") and "ValueError" in note
    assert f"Preflight: {note}" in report.render()
    [batch] = [r for r in report.results if r.status != "passed"]
    assert batch.law == "gae.batch_columns_are_independent" and batch.status == "not applicable"
    assert "the target takes one trajectory per call" in batch.reason


def test_a_broken_target_of_one_trajectory_per_call_fails_with_a_repro_of_one_trajectory():
    report = check("gae", functools.partial(gae_of_one_trajectory, drop_lambda=True), profile="oracle-quick")
    failed = {r.law: r for r in report.results if r.status == "failed"}
    result = failed["gae.lambda_zero_is_td_error"]
    assert "rewards = np.array([" in result.repro and "[[" not in result.repro, result.repro
    namespace = {"target": functools.partial(gae_of_one_trajectory, drop_lambda=True)}
    source = "\n".join(line for line in result.repro.splitlines() if not line.startswith("target = "))
    exec(compile(source, "<repro>", "exec"), namespace)
    assert np.ndim(namespace["out"]) == 1
