"""The return/advantage contracts: each function's canonical arguments, and how a law calls a target.

A target is any callable with the canonical signature (lineage's own functions satisfy it; the oracle
wraps other libraries' functions into it). :func:`call` hands it a case as float64 / bool numpy arrays
and reads back a float64 array of the segment's shape, or raises :class:`LawViolation` saying why not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage.properties import exact
from lineage.properties.law import LawViolation, record_call
from lineage.properties.segments import SegmentCase

ALL_FIELDS = ("rewards", "values", "next_values", "terminated", "truncated")


@dataclass(frozen=True)
class Contract:
    name: str
    arguments: tuple[str, ...]
    parameters: tuple[str, ...]
    output: str

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.arguments)}, *, {', '.join(self.parameters)}) -> {self.output}"


CONTRACTS = {
    c.name: c
    for c in (
        Contract("td_errors", ("rewards", "values", "next_values", "terminated"), ("gamma",), "td_errors"),
        Contract("discounted_returns", ("rewards", "next_values", "terminated", "truncated"), ("gamma",), "returns"),
        Contract("n_step_advantages", ALL_FIELDS, ("gamma", "n"), "advantages"),
        Contract("gae", ALL_FIELDS, ("gamma", "lam"), "advantages"),
        Contract("lambda_returns", ALL_FIELDS, ("gamma", "lam"), "returns"),
    )
}


def call(contract: Contract, target, case: SegmentCase) -> tuple[np.ndarray, float]:
    """``target`` applied to ``case``: its output as float64, checked for shape and finiteness, and the
    machine epsilon of the dtype it came in (the precision the target can be held to)."""
    record_call(case)
    arrays = case.segment.arrays()
    params = {p: getattr(case, p) for p in contract.parameters}
    out = target(*(arrays[a] for a in contract.arguments), **params)
    try:
        got, eps = to_numpy(out), output_eps(out)
    except Exception as exc:
        raise LawViolation(f"{contract.output}: the output could not be read as an array ({exc})") from None
    expected_shape = arrays["rewards"].shape
    if got.shape != expected_shape:
        raise LawViolation(f"{contract.output}: expected shape {expected_shape} (like rewards), got {got.shape}")
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


def exact_output(contract: str, case: SegmentCase) -> np.ndarray:
    """What the contract says the output must be, evaluated in exact arithmetic."""
    segment, gamma = case.segment, case.gamma
    if contract == "td_errors":
        return exact.evaluate(exact.td_errors, segment, gamma)
    if contract == "discounted_returns":
        return exact.evaluate(exact.reward_to_go, segment, gamma)
    if contract == "n_step_advantages":
        return exact.evaluate(exact.n_step_advantages, segment, gamma, case.n)
    advantages = exact.evaluate(exact.gae, segment, gamma, case.lam)
    return advantages if contract == "gae" else advantages + segment.arrays()["values"]
