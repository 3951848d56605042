"""TorchRL's functional value estimators (``torchrl.objectives.value.functional``).

    generalized_advantage_estimate(gamma, lmbda, state_value, next_state_value, reward, done, terminated)
        -> (advantage, value_target)        [also vec_generalized_advantage_estimate]
    td1_return_estimate(gamma, next_state_value, reward, done, terminated) -> value_target

Batch-major tensors with time at dim −2 and a trailing feature dim: ``[B, T, 1]``; ``done`` and
``terminated`` are bool masks; ``next_state_value`` is explicit (the true final observation's value at a
truncation). Every feature of the segment contract is expressible.
"""

from __future__ import annotations

from lineage.oracle.conventions.base import Convention, TargetCall, as_batch, pick
from lineage.oracle.numerics import Numerics


def batch_major(array):
    """[T] or [T, B] → [B, T, 1]."""
    return as_batch(array).T[:, :, None]


class TorchRL(Convention):
    name = "torchrl"
    summary = "TorchRL functional API: [B, T, 1] tensors, bool done/terminated masks, explicit next values"
    numerics = Numerics("torch", "float32")
    signatures = {
        "gae": "target(gamma, lmbda, state_value, next_state_value, reward, done, terminated) -> (advantage, target)",
        "lambda_returns": "target(gamma, lmbda, state_value, next_state_value, reward, done, terminated) -> "
        "(advantage, value_target)",
        "discounted_returns": "target(gamma, next_state_value, reward, done, terminated) -> value_target",
    }

    def calls(self, contract, arrays, params):
        done = batch_major(arrays["terminated"] | arrays["truncated"])
        shared = [
            ("next_state_value", batch_major(arrays["next_values"])),
            ("reward", batch_major(arrays["rewards"])),
            ("done", done),
            ("terminated", batch_major(arrays["terminated"])),
        ]
        if contract == "discounted_returns":
            args = [("gamma", params["gamma"]), *shared]
            return [TargetCall(args, read=lambda out: time_major(pick(out, 0)))]
        args = [("gamma", params["gamma"]), ("lmbda", params["lam"]), ("state_value", batch_major(arrays["values"]))]
        index = 0 if contract == "gae" else 1
        return [TargetCall([*args, *shared], read=lambda out: time_major(pick(out, index)))]


def time_major(array):
    """[B, T, 1] → [T, B]."""
    return array[..., 0].T
