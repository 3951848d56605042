"""Preflight: a broken target gets one clear message per problem, and its laws are skipped, not failed."""

import time

import numpy as np
import pytest

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
