"""How the oracle reads a target's output: a same-size output of the wrong shape is rejected, not reshaped; a tuple
or dict is described; bfloat16 and float16 are read and held to their own tolerance; a float64 output is called
only float32-accurate when float32 rounding explains it."""

import numpy as np
import pytest
import torch

import lineage
from lineage.arrays import to_numpy
from lineage.bugzoo.gae import lambda_missing_from_recursion
from lineage.laws import LawViolation
from lineage.laws.cases import Segment
from lineage.oracle import check
from lineage.oracle.conventions import get_convention

SEGMENT = Segment(
    rewards=[[1.0, 0.5, 0.0], [0.0, 2.0, 1.0]],
    values=[[0.5, 0.25, 0.0], [0.2, 1.0, 0.5]],
    next_values=[[0.2, 1.0, 0.5], [0.0, 3.0, 1.0]],
    terminated=[[False, False, False], [False, False, True]],
    truncated=[[False, False, False], [False, False, False]],
).arrays()


@pytest.fixture(autouse=True)
def derandomized(monkeypatch):
    monkeypatch.setenv("CI", "1")


def batch_first_gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Right values, returned [B, T] instead of the contract's time-major [T, B]."""
    return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam).T


def gae_and_returns(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    advantages = lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return advantages, advantages + values


def gae_as_dict(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    return {"advantages": gae_and_returns(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)[0]}


def test_a_transposed_output_is_rejected_not_reshaped():
    adapted = get_convention("canonical").adapt("gae", batch_first_gae)
    with pytest.raises(LawViolation, match=r"output has shape \(3, 2\); shape \(2, 3\) expected .*time-major"):
        adapted(
            *(SEGMENT[name] for name in ("rewards", "values", "next_values", "terminated", "truncated")),
            gamma=0.9,
            lam=0.5,
        )


def test_length_one_axes_may_differ():
    """A [T] answer for a [T, 1] question holds the same numbers in the same order."""

    def squeezed(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam).reshape(-1)

    column = {name: array[:, :1] for name, array in SEGMENT.items()}
    out = get_convention("canonical").adapt("gae", squeezed)(*column.values(), gamma=0.9, lam=0.5)
    assert out.shape == (2, 1)


@pytest.mark.parametrize(
    ("target", "described"),
    [
        (gae_and_returns, "a tuple of 2 items (numpy float64 (2,), numpy float64 (2,))"),
        (gae_as_dict, "a dict of 1 entries"),
    ],
)
def test_a_container_output_is_described(target, described):
    report = check("gae", target, profile="oracle-quick")
    assert not report.ok and described in "\n".join(report.preflight), report.render()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_torch_outputs_are_read_and_held_to_their_own_tolerance(dtype):
    """A correct GAE that hands back bfloat16 or float16 passes (its rounding is that dtype's); one that drops λ
    still fails."""

    def half_gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        arrays = (to_numpy(x) for x in (rewards, values, next_values, terminated, truncated))
        return torch.as_tensor(np.asarray(lineage.gae(*arrays, gamma=gamma, lam=lam))).to(dtype)

    def half_gae_without_lambda(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        arrays = (to_numpy(x) for x in (rewards, values, next_values, terminated, truncated))
        return torch.as_tensor(np.asarray(lambda_missing_from_recursion(*arrays, gamma=gamma, lam=lam))).to(dtype)

    report = check("gae", half_gae, framework="torch", dtype="float32", profile="oracle-quick")
    assert report.ok, report.render()
    broken = check("gae", half_gae_without_lambda, framework="torch", dtype="float32", profile="oracle-quick")
    assert not broken.preflight and "gae.lambda_zero_is_td_error" in {
        r.law for r in broken.results if r.status == "failed"
    }


def test_a_float16_numpy_output_is_read():
    def numpy_half_gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        return lineage.gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam).astype(np.float16)

    report = check("gae", numpy_half_gae, dtype="float32", profile="oracle-quick")
    assert report.ok, report.render()


def normalise_with_a_large_epsilon(advantages):
    """float64 throughout, but ε = 1e-5 added to the std: an error of 1e-5/std, not float32 rounding."""
    a = np.asarray(advantages, dtype=np.float64)
    return (a - a.mean()) / (a.std(ddof=1) + 1e-5) if a.size > 1 else np.zeros_like(a)


def test_the_float32_warning_needs_float32_rounding_to_explain_the_output():
    report = check("normalize_advantages", normalise_with_a_large_epsilon)
    statuses = {r.law: r.status for r in report.results}
    assert statuses["normalize_advantages.standardised"] == "failed", report.render()
