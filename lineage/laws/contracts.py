"""Contracts: each function's arguments and output, and how a law calls a target.

A target is any callable with its contract's signature (lineage's own functions satisfy it; the oracle
wraps other libraries' functions into it). A case supplies its arrays through ``case.inputs()`` and its
keyword parameters as attributes; :func:`call` hands the target float64 / bool numpy arrays and reads back
a float64 array of the contract's output shape, or raises :class:`LawViolation` saying why not. Each
contract also names a trivial case for the oracle's preflight and the exact output of a case for repros.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import lineage
from lineage import pg, ppo, rlhf
from lineage.arrays import to_numpy
from lineage.laws import exact, exact_optim
from lineage.laws.cases.losses import AdvantageBatch, ClipCase, KLCoefCase, KLSamples, TokenRewardCase, ValueCase
from lineage.laws.cases.optim import TIANSHOU_FAILED_SEARCH, FisherCase, LinearSystem
from lineage.laws.cases.pg import TRIVIAL_BATCH
from lineage.laws.cases.segments import Segment, SegmentCase
from lineage.laws.law import LawViolation, record_call
from lineage.optim.conjugate_gradient import conjugate_gradient
from lineage.optim.fisher import fisher_vector_product
from lineage.optim.line_search import trpo_line_search

ALL_FIELDS = ("rewards", "values", "next_values", "terminated", "truncated")


def per_step(inputs: dict[str, np.ndarray]) -> tuple[int, ...]:
    """The output shape of the return/advantage contracts: one value per step, like ``rewards``."""
    return inputs["rewards"].shape


def per_sample(inputs: dict[str, np.ndarray]) -> tuple[int, ...]:
    """One estimate per sample, like ``logp_new``."""
    return inputs["logp_new"].shape


def scalar(inputs: dict) -> tuple[int, ...]:
    """A single number (a loss, a coefficient)."""
    return ()


@dataclass(frozen=True)
class Contract:
    name: str
    arguments: tuple[str, ...]
    parameters: tuple[str, ...]
    output: str
    trivial: object  # a case every correct implementation handles (the oracle's preflight input)
    exact: Callable[[object], np.ndarray]  # what the contract requires on a case (exact or float64 closed form)
    reference: Callable  # lineage's own implementation, the target the properties bind every law to
    shape: Callable[[dict[str, np.ndarray]], tuple[int, ...]] = per_step
    framework: str | None = None  # the arrays a target of this contract expects by default (None: numpy)
    differentiable: tuple[str, ...] = ()  # the input a torch loss is trained through (its gradient is checked)

    def signature(self) -> str:
        keywords = f", *, {', '.join(self.parameters)}" if self.parameters else ""
        return f"{self.name}({', '.join(self.arguments)}{keywords}) -> {self.output}"


# Two steps, no episode end, nothing special.
TRIVIAL_SEGMENT = Segment(
    rewards=[1.0, 0.5], values=[0.5, 0.25], next_values=[0.25, 2.0], terminated=[False, False], truncated=[False, False]
)


def _exact(formula, *parameters):
    return lambda case: exact.evaluate(formula, case.segment, *(getattr(case, p) for p in parameters))


def _exact_lambda_returns(case: SegmentCase) -> np.ndarray:
    return exact.evaluate(exact.gae, case.segment, case.gamma, case.lam) + case.segment.arrays()["values"]


def _value_loss_contract(
    name: str, exact_form: Callable, reference: Callable, parameters: tuple[str, ...] = ("clip_eps",)
) -> Contract:
    """The critic losses (every form takes the same arrays; the unclipped one no ε)."""
    return Contract(
        name,
        ("values_new", "values_old", "returns"),
        parameters,
        "loss",
        ValueCase([0.5, 2.0], [0.0, 1.0], [1.0, 1.0], clip_eps=0.2),
        exact_form,
        shape=scalar,
        reference=reference,
        framework="torch",
        differentiable=("values_new",),
    )


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
            reference=lineage.td_errors,
        ),
        Contract(
            "discounted_returns",
            ("rewards", "next_values", "terminated", "truncated"),
            ("gamma",),
            "returns",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5),
            _exact(exact.reward_to_go, "gamma"),
            reference=lineage.discounted_returns,
        ),
        Contract(
            "n_step_advantages",
            ALL_FIELDS,
            ("gamma", "n"),
            "advantages",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5, n=1),
            _exact(exact.n_step_advantages, "gamma", "n"),
            reference=lineage.n_step_advantages,
        ),
        Contract(
            "gae",
            ALL_FIELDS,
            ("gamma", "lam"),
            "advantages",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5, lam=0.5),
            _exact(exact.gae, "gamma", "lam"),
            reference=lineage.gae,
        ),
        Contract(
            "lambda_returns",
            ALL_FIELDS,
            ("gamma", "lam"),
            "returns",
            SegmentCase(TRIVIAL_SEGMENT, gamma=0.5, lam=0.5),
            _exact_lambda_returns,
            reference=lineage.lambda_returns,
        ),
        Contract(
            "ppo_clip_loss",
            ("logp_new", "logp_old", "advantages"),
            ("clip_eps",),
            "loss",
            ClipCase([-0.5, -1.0], [-0.7, -0.9], [1.0, -2.0], clip_eps=0.2),
            exact.ppo_clip_loss,
            shape=scalar,
            reference=ppo.ppo_clip_loss,
            framework="torch",
            differentiable=("logp_new",),
        ),
        _value_loss_contract("value_loss", exact.value_loss, ppo.value_loss),
        _value_loss_contract(
            "clipped_value_loss", exact.clipped_value_loss, functools.partial(ppo.value_loss, variant="clipped")
        ),
        _value_loss_contract(
            "unclipped_value_loss",
            exact.unclipped_value_loss,
            functools.partial(ppo.value_loss, variant="unclipped"),
            parameters=(),
        ),
        *(
            Contract(
                f"kl_{k}",
                ("logp_new", "logp_old"),
                (),
                "estimates",
                KLSamples([-0.1, -2.3], [-0.7, -0.7]),
                exact.kl_estimator(k),
                shape=per_sample,
                reference=getattr(ppo, f"kl_{k}"),
            )
            for k in ("k1", "k2", "k3")
        ),
        Contract(
            "adapt_kl_coef",
            ("beta", "kl"),
            ("kl_target",),
            "beta",
            KLCoefCase(beta=1.0, kl=0.02, kl_target=0.01),
            exact.adapt_kl_coef,
            shape=scalar,
            reference=ppo.adapt_kl_coef,
        ),
        Contract(
            "normalize_advantages",
            ("advantages",),
            (),
            "advantages",
            AdvantageBatch([1.0, 2.0, 4.0]),
            exact.normalized_advantages,
            shape=lambda inputs: inputs["advantages"].shape,
            reference=functools.partial(ppo.normalize_advantages, ddof=1),
        ),
        Contract(
            "token_rewards",
            ("scores", "logp", "ref_logp", "mask"),
            ("beta",),
            "rewards",
            TokenRewardCase([1.0], [[-0.5, -1.0, -0.2]], [[-0.6, -0.9, -0.2]], [[True, True, False]], beta=0.1),
            exact.token_rewards,
            shape=lambda inputs: inputs["logp"].shape,
            reference=rlhf.token_rewards,
        ),
        Contract(
            "reinforce_gradient",
            ("scores", "rewards"),
            ("gamma",),
            "gradient",
            TRIVIAL_BATCH,
            exact.reinforce_gradient,
            shape=lambda inputs: inputs["scores"].shape[-1:],
            reference=pg.reinforce_gradient,
        ),
        # TRPO's optimisation pieces (notes §TRPO): their first arguments are functions (``matvec``, ``surrogate``,
        # ``kl``), built by the case (lineage.laws.cases.optim.SourceFunction).
        Contract(
            "conjugate_gradient",
            ("matvec", "b"),
            ("iters", "tol"),
            "x",
            LinearSystem([[2.0, 1.0], [1.0, 3.0]], [1.0, -1.0], iters=2),
            exact_optim.conjugate_gradient_iterate,
            shape=lambda inputs: inputs["b"].shape,
            reference=conjugate_gradient,
        ),
        Contract(
            "fisher_vector_product",
            ("features", "theta", "v"),
            ("damping",),
            "product",
            FisherCase([[1.0, 0.5]], [[0.2, -0.1], [0.0, 0.3]], [[1.0, 0.0], [0.0, -1.0]], damping=0.1),
            exact_optim.fisher_vector_product,
            shape=lambda inputs: inputs["v"].shape,
            reference=fisher_vector_product,
        ),
        Contract(
            "trpo_line_search",
            ("surrogate", "kl", "theta_old", "full_step"),
            ("max_kl", "max_backtracks", "backtrack_ratio"),
            "theta",
            TIANSHOU_FAILED_SEARCH,
            exact_optim.line_search_result,
            shape=lambda inputs: inputs["theta_old"].shape,
            reference=trpo_line_search,
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
    written = [
        name
        for name, array in case.inputs().items()
        if not callable(array) and not np.array_equal(array, arrays[name])  # function arguments are rebuilt
    ]
    if written:
        raise LawViolation(f"the target wrote into its input {', '.join(map(repr, written))}")
    if not_one_array(out):
        raise LawViolation(
            f"{contract.output}: the target returned {describe_output(out)}; the contract's output is one array"
        )
    try:
        got, eps = np.array(to_numpy(out), dtype=np.float64), output_eps(out)
    except Exception as exc:
        raise LawViolation(f"{contract.output}: the output could not be read as an array ({exc})") from None
    expected_shape = contract.shape(arrays)
    if got.shape != expected_shape:
        raise LawViolation(f"{contract.output}: expected shape {expected_shape}, got {got.shape}")
    if not np.all(np.isfinite(got)):
        raise LawViolation(f"{contract.output}: non-finite output {got.tolist()} for finite input", got=got)
    return got, eps


def not_one_array(out) -> bool:
    """Whether an output is a container (tuple, list of arrays, dict) rather than one array or number."""
    if isinstance(out, dict):
        return True
    return isinstance(out, tuple | list) and any(
        hasattr(item, "shape") or isinstance(item, tuple | list) for item in out
    )


def describe_output(out) -> str:
    """A container output in words: its kind and each item's type, dtype and shape."""
    if isinstance(out, dict):
        items = ", ".join(f"{key!r}: {_describe_item(value)}" for key, value in out.items())
        return f"a dict of {len(out)} entries {{{items}}}"
    return f"a {type(out).__name__} of {len(out)} items ({', '.join(_describe_item(item) for item in out)})"


def _describe_item(item) -> str:
    if hasattr(item, "shape") and hasattr(item, "dtype"):
        return f"{type(item).__module__.split('.')[0]} {str(item.dtype).removeprefix('torch.')} {tuple(item.shape)}"
    return type(item).__name__


def output_eps(out) -> float:
    """Machine epsilon of a floating output's dtype (numpy or torch); float64's for anything else."""
    if hasattr(out, "detach"):
        import torch

        return float(torch.finfo(out.dtype).eps) if out.dtype.is_floating_point else float(np.finfo(float).eps)
    dtype = np.asarray(out).dtype
    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else float(np.finfo(float).eps)
