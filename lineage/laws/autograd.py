"""Calling a torch loss with tensors that require grad, and reading back what autograd gives for its inputs.

The value laws read a target's output through :func:`lineage.laws.contracts.call`, which hands it numpy arrays: a
loss whose value is right but whose gradient is wrong or missing passes them. The gradient laws of the loss contracts
(:mod:`lineage.laws.losses`) call the target through :func:`differentiate` instead: the case's arrays become float64
torch tensors (those named ``requires_grad``), the target's own output tensor is differentiated by autograd, and the
law compares the gradients with the exact derivative.

What a law learns from a target's answer:

* a tensor in the autograd graph: the gradient of each input, ``None`` where no path leads from it to the loss;
* a tensor outside the graph (no ``grad_fn``): ``in_graph`` is False and every gradient is ``None`` — the loss was
  cut from its inputs (``.detach()``, ``.item()``, a numpy round trip, ``torch.tensor(...)`` of a computed value);
* anything else (a numpy array, a Python float) raises :class:`LawViolation`: the loss contracts' framework is torch,
  and a loss handed tensors that comes back as numpy has lost its gradient.

A target that never receives tensors — an oracle adapter that hands the function under test numpy arrays says so
with ``passes_tensors = False`` — makes the gradient laws pass vacuously: :func:`differentiate` returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage.arrays import is_torch
from lineage.laws.contracts import Contract, describe_output, not_one_array, output_eps
from lineage.laws.law import LawViolation, expect_close, record_call


def passes_tensors(target) -> bool:
    """Whether torch tensors given to ``target`` reach the function under test (a plain function: yes; an oracle
    adapter says so with its ``passes_tensors`` attribute)."""
    return getattr(target, "passes_tensors", True)


@dataclass(frozen=True)
class Differentiated:
    """A target's loss on a case and the gradients autograd gives for its inputs."""

    value: float
    eps: float  # machine epsilon of the output's dtype
    in_graph: bool  # the output tensor has a grad_fn (False: it was cut from every input)
    gradients: dict[str, np.ndarray | None]  # input → ∂loss/∂input (None: no autograd path from it)


def differentiate(contract: Contract, target, case, requires_grad: tuple[str, ...]) -> Differentiated | None:
    """Call ``target`` on ``case`` with float64 torch tensors, those in ``requires_grad`` leaves that require grad, and
    differentiate its output; None if the target does not pass tensors on (the gradient cannot be observed)."""
    if not passes_tensors(target):
        return None
    import torch

    record_call(case)
    arrays = case.inputs()
    tensors = {
        name: torch.tensor(arrays[name], dtype=torch.float64, requires_grad=name in requires_grad)
        for name in contract.arguments
    }
    params = {p: getattr(case, p) for p in contract.parameters}
    try:
        with torch.enable_grad():
            out = target(*tensors.values(), **params)
    except LawViolation:
        raise
    except Exception as exc:
        raise LawViolation(
            f"the target raised {type(exc).__name__}: {exc} (called with float64 torch tensors, "
            f"{', '.join(requires_grad)} requiring grad)"
        ) from None
    if not_one_array(out):
        raise LawViolation(
            f"{contract.output}: the target returned {describe_output(out)}; the contract's output is one"
        )
    if not is_torch(out):
        kind = f"a numpy array ({out.dtype})" if isinstance(out, np.ndarray) else f"a {type(out).__name__}"
        raise LawViolation(
            f"{contract.output}: the target returned {kind} for torch tensor inputs: the gradient is lost (the "
            f"{contract.name} contract's framework is torch; a loss must stay a tensor in the autograd graph)"
        )
    if out.numel() != 1:
        raise LawViolation(f"{contract.output}: expected one number, got a tensor of shape {tuple(out.shape)}")
    value = float(out.detach().reshape(()).double())
    if not np.isfinite(value):
        raise LawViolation(f"{contract.output}: non-finite output {value} for finite input")
    eps = output_eps(out)
    leaves = [tensors[name] for name in requires_grad]
    if not out.requires_grad:
        return Differentiated(value, eps, False, dict.fromkeys(requires_grad))
    grads = torch.autograd.grad(out.reshape(()), leaves, allow_unused=True)
    gradients = {
        name: None if grad is None else grad.detach().double().numpy()
        for name, grad in zip(requires_grad, grads, strict=True)
    }
    return Differentiated(value, eps, True, gradients)


def gradient_of(result: Differentiated, contract: Contract, name: str) -> np.ndarray:
    """The gradient of ``name``; a LawViolation saying how the loss lost it if autograd gives none."""
    gradient = result.gradients[name]
    if gradient is not None:
        return gradient
    if not result.in_graph:
        raise LawViolation(
            f"∂{contract.output}/∂{name}: the output tensor is not in the autograd graph of its inputs (no grad_fn): "
            "the loss was cut from them (.detach(), .item(), a numpy round trip or torch.tensor(...) of a computed "
            "value), so an optimiser step changes nothing"
        )
    raise LawViolation(
        f"∂{contract.output}/∂{name}: no autograd path from {name} to the loss ({name} is detached or unused), so an "
        f"optimiser step never moves it"
    )


def expect_between(what: str, got: np.ndarray, low: np.ndarray, high: np.ndarray, atol: np.ndarray) -> None:
    """Raise :class:`LawViolation` at the first entry outside [low − atol, high + atol]: the exact derivative where
    low = high, anything between the one-sided derivatives at a kink."""
    nearest = np.clip(got, low, high)
    kinks = int(np.sum(low < high))
    note = (
        f" ({kinks} entries at a kink, where any value between the one-sided derivatives is accepted)" if kinks else ""
    )
    expect_close(what + note, got, nearest, atol)
