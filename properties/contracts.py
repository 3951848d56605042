"""Contracts: each function's canonical arguments and output, and how a law calls a target.

A target is any callable with the canonical signature (lineage's own functions satisfy it; the oracle
wraps other libraries' functions into it). A case supplies its arrays through ``case.inputs()`` and its
keyword parameters as attributes; :func:`call` hands the target float64 / bool numpy arrays and reads back
a float64 array of the contract's output shape, or raises :class:`LawViolation` saying why not. Each
contract also names a trivial case for the oracle's preflight and the exact output of a case for repros.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lineage.properties import exact
from lineage.properties.law import LawViolation, record_call
from lineage.properties.segments import Segment, SegmentCase

ALL_FIELDS = ("rewards", "values", "next_values", "terminated", "truncated")


def per_step(inputs: dict[str, np.ndarray]) -> tuple[int, ...]:
    """The output shape of the return/advantage contracts: one value per step, like ``rewards``."""
    return inputs["rewards"].shape


@dataclass(frozen=True)
class Contract:
    name: str
    arguments: tuple[str, ...]
    parameters: tuple[str, ...]
    output: str
    trivial: object  # a case every correct implementation handles (the oracle's preflight input)
    exact: Callable[[object], np.ndarray]  # what the contract requires on a case, in exact arithmetic
    shape: Callable[[dict[str, np.ndarray]], tuple[int, ...]] = per_step

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.arguments)}, *, {', '.join(self.parameters)}) -> {self.output}"


# Two steps, no episode end, nothing special.
TRIVIAL_SEGMENT = Segment(
    rewards=[1.0, 0.5], values=[0.5, 0.25], next_values=[0.25, 2.0], terminated=[False, False], truncated=[False, False]
)


def _exact(formula, *parameters):
    return lambda case: exact.evaluate(formula, case.segment, *(getattr(case, p) for p in parameters))


def _exact_lambda_returns(case: SegmentCase) -> np.ndarray:
    return exact.evaluate(exact.gae, case.segment, case.gamma, case.lam) + case.segment.arrays()["values"]


CONTRACTS = {
    c.name: c
    for c in (
        Contract(
            "td_errors",
            ("rewards", "values", "next_values", "terminated"),
            ("gamma",),
            "td_errors",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5),
            _exact(exact.td_errors, "gamma"),
        ),
        Contract(
            "discounted_returns",
            ("rewards", "next_values", "terminated", "truncated"),
            ("gamma",),
            "returns",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5),
            _exact(exact.reward_to_go, "gamma"),
        ),
        Contract(
            "n_step_advantages",
            ALL_FIELDS,
            ("gamma", "n"),
            "advantages",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5, n=1),
            _exact(exact.n_step_advantages, "gamma", "n"),
        ),
        Contract(
            "gae",
            ALL_FIELDS,
            ("gamma", "lam"),
            "advantages",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5, lam=0.5),
            _exact(exact.gae, "gamma", "lam"),
        ),
        Contract(
            "lambda_returns",
            ALL_FIELDS,
            ("gamma", "lam"),
            "returns",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5, lam=0.5),
            _exact_lambda_returns,
        ),
    )
}


def call(contract: Contract, target, case) -> tuple[np.ndarray, float]:
    """``target`` applied to ``case``: its output as float64, checked for shape and finiteness, and the
    machine epsilon of the dtype it came in (the precision the target can be held to)."""
    record_call(case)
    arrays = case.inputs()
    params = {p: getattr(case, p) for p in contract.parameters}
    out = target(*(arrays[a] for a in contract.arguments), **params)
    try:
        got, eps = to_numpy(out), output_eps(out)
    except Exception as exc:
        raise LawViolation(f"{contract.output}: the output could not be read as an array ({exc})") from None
    expected_shape = contract.shape(arrays)
    if got.shape != expected_shape:
        raise LawViolation(f"{contract.output}: expected shape {expected_shape}, got {got.shape}")
    if not np.all(np.isfinite(got)):
        raise LawViolation(f"{contract.output}: non-finite output {got.tolist()} for finite input")
    return got, eps


def output_eps(out) -> float:
    """Machine epsilon of a floating output's dtype (numpy or torch); float64's for anything else."""
    if hasattr(out, "detach"):
        import torch

        return float(torch.finfo(out.dtype).eps) if out.dtype.is_floating_point else float(np.finfo(float).eps)
    dtype = np.asarray(out).dtype
    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else float(np.finfo(float).eps)


def to_numpy(out) -> np.ndarray:
    """A float64 numpy copy of an array-like output (numpy, lists, CPU torch tensors)."""
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    return np.array(out, dtype=np.float64)
