"""Repros run as printed: a [T, B] case, a callable instance, a partial, and inputs too large to print (then the
command that reruns the law)."""

import functools
import subprocess
import sys

import numpy as np

import lineage
from lineage.arrays import to_numpy
from lineage.bugzoo.gae import lambda_missing_from_recursion
from lineage.laws import LAWS
from lineage.laws.cases import Segment, SegmentCase, ValueCase
from lineage.oracle.repro import repro
from lineage.oracle.targets import make_target

LAMBDA_ZERO = LAWS["gae.lambda_zero_is_td_error"]
BATCHED = SegmentCase(
    Segment(
        rewards=[[1.0, 0.5], [0.0, 2.0]],
        values=[[0.5, 0.25], [0.2, 1.0]],
        next_values=[[0.2, 1.0], [0.0, 3.0]],
        terminated=[[False, False], [False, False]],
        truncated=[[False, False], [False, False]],
    ),
    gamma=0.9,
    lam=0.0,
)


class GaeWithoutLambda:
    """A callable object, the way some code bases wrap their estimators (λ dropped from the recursion)."""

    def __call__(self, rewards, values, next_values, terminated, truncated, *, gamma, lam):
        return lambda_missing_from_recursion(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


def run(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<repro>", "exec"), namespace)
    return namespace


def test_a_batched_case_prints_as_comments_and_runs():
    """A [T, B] expectation prints on several lines; every one of them is a comment, so the repro compiles."""
    source = repro(make_target("gae", lambda_missing_from_recursion), LAMBDA_ZERO, [BATCHED])
    assert "#     [[" in source, source
    out = run(source)["out"]
    np.testing.assert_array_equal(out, lambda_missing_from_recursion(**BATCHED.inputs(), gamma=0.9, lam=0.0))


def test_a_callable_instance_is_rebuilt_not_its_class_imported():
    target = make_target("gae", GaeWithoutLambda())
    assert target.label.endswith("GaeWithoutLambda instance"), target.label
    source = repro(target, LAMBDA_ZERO, [BATCHED])
    assert "pickle.loads" in source and "import GaeWithoutLambda" not in source, source
    expected = lambda_missing_from_recursion(**BATCHED.inputs(), gamma=0.9, lam=0.0)
    np.testing.assert_array_equal(run(source)["out"], expected)


def test_a_partial_is_rebuilt_with_its_keywords():
    clipped = functools.partial(lineage.ppo.value_loss, variant="clipped")
    case = ValueCase([0.5, 2.0], [0.0, 1.0], [1.0, 1.0], clip_eps=0.2)
    source = repro(make_target("clipped_value_loss", clipped), LAWS["clipped_value_loss.matches_its_form"], [case])
    assert "target = functools.partial(target, variant='clipped')" in source, source
    out = run(source)["out"]
    np.testing.assert_allclose(to_numpy(out), to_numpy(clipped(**case.inputs(), clip_eps=0.2)), rtol=0, atol=0)


def test_inputs_too_large_to_print_give_the_command_that_reruns_the_law(tmp_path):
    rng = np.random.default_rng(0)
    big = SegmentCase(
        Segment(
            rewards=rng.normal(size=(60, 4)).tolist(),
            values=rng.normal(size=(60, 4)).tolist(),
            next_values=rng.normal(size=(60, 4)).tolist(),
            terminated=np.zeros((60, 4), bool).tolist(),
            truncated=np.zeros((60, 4), bool).tolist(),
        ),
        gamma=0.9,
        lam=0.0,
    )
    source = repro(make_target("gae", lambda_missing_from_recursion), LAMBDA_ZERO, [big])
    command = source.splitlines()[-1]
    assert command.startswith("python -m lineage.oracle gae=lineage.bugzoo.gae:lambda_missing_from_recursion"), source
    assert command.endswith("--law lambda_zero_is_td_error"), command
    argv = [sys.executable, *command.split()[1:], "--profile", "oracle-quick"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED           gae.lambda_zero_is_td_error" in done.stdout and "1 laws: 0 passed, 1 failed" in done.stdout
