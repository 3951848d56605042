"""The array rule every building block of lineage follows (returns, PPO, RLHF):

    numpy in → numpy out;   torch in → torch out, on the same device and in the same dtype.

* **Framework.** A call is a torch call when at least one of its array arguments is a torch tensor; its other array
  arguments (numpy arrays, lists, Python numbers) are converted to tensors on the device of the first tensor
  argument, and a tensor on another device is refused, as torch refuses it. Otherwise the call stays in numpy and
  never imports torch.
* **dtype.** The floating arguments are promoted together: float32 with float32 stays float32, float32 with float64
  gives float64. Integer input, lists and Python numbers count as float64. Bool flags stay bool and never decide
  the dtype.
* **Autograd.** Each formula is written once against the array namespace of the call (the ``numpy`` or the
  ``torch`` module, :attr:`Backend.xp`) with operations torch can differentiate, so a tensor that requires grad
  keeps its graph through the result. Whoever wants a constant (per-token RLHF rewards and normalised or whitened
  advantages are constants of the PPO loss) detaches it or builds it under ``torch.no_grad()``.
* **Scalars.** A loss comes back as a 0-d array: a 0-d ``numpy.ndarray`` or a 0-d tensor. The few numbers that
  steer training instead of entering a loss (``clip_fraction``, ``adapt_kl_coef``, ``proportional_kl_coef``) are
  Python floats whatever comes in.
* **Validation.** Both frameworks get the same checks and the same ``ValueError`` naming the argument: input that
  cannot be read as numbers, bool or non-real dtypes, non-finite entries, bool flags of another dtype, shapes that
  do not match, and tensors on another device.
* **Symbolic calls.** Without a tensor, a numpy array of dtype object holding SymPy expressions makes the call exact:
  the floating arguments are promoted to dtype object (float arrays enter as Python floats), the parameters (γ, λ,
  ε, …) may be SymPy expressions too, bool flags act as the integers 0 and 1, and the result is an object array of
  the SymPy expressions the formula builds, e.g. ``gae`` on symbols r_t, V_t, γ, λ gives Σ_l (γλ)^l δ_{t+l}
  literally. The checks that need a value (finiteness, ranges) apply to numbers and to what a symbol's assumptions
  decide (:mod:`lineage._symbolic`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lineage._validation import as_bool_array, as_float_array, check_same_shape


def is_torch(x) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch for numpy callers."""
    return type(x).__module__.split(".")[0] == "torch"


def to_numpy(x):
    """A torch tensor as a numpy array (detached, on the CPU, dtype kept; bfloat16, which numpy lacks, becomes the
    float32 holding the same values); anything else is returned as is, for the caller's own validation to read."""
    if not is_torch(x):
        return x
    x = x.detach().cpu()
    return (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()


def is_symbolic(x) -> bool:
    """Whether ``x`` is a numpy array of dtype object, the input of a symbolic call (module docstring)."""
    return isinstance(x, np.ndarray) and x.dtype == object


def backend_of(*arrays) -> Backend:
    """The backend of a call whose array arguments are ``arrays``: torch on the device of the first tensor among
    them if there is one, else the exact namespace of :mod:`lineage._symbolic` if one is an object array, numpy
    otherwise."""
    first = next((x for x in arrays if is_torch(x)), None)
    if first is not None:
        import torch

        return Backend(torch, first.device)
    if any(is_symbolic(x) for x in arrays):
        from lineage import _symbolic

        return Backend(_symbolic)
    return Backend(np)


@dataclass(frozen=True)
class Backend:
    """The array namespace of one call (``xp``: the numpy or the torch module) and, for torch, the device its
    results live on. Formulas call ``xp.exp``, ``xp.where``, ``xp.clip``, ``xp.stack``, ``xp.concatenate``, … which
    both modules provide with the same meaning; the few operations they spell differently are methods here."""

    xp: Any
    device: Any = None

    @property
    def is_torch(self) -> bool:
        return self.xp.__name__ == "torch"

    @property
    def is_symbolic(self) -> bool:
        """Whether the call computes exactly on SymPy expressions (module docstring)."""
        return self.xp.__name__ == "lineage._symbolic"

    def floats(self, **named) -> list:
        """The named arguments as finite floating arrays of this backend, promoted to one dtype (see the module
        docstring), in the order given. Tensors keep their graph; a symbolic call gives object arrays."""
        checked = {name: self._float(name, x) for name, x in named.items()}
        dtype = self.result_dtype(*checked.values())
        return [self.astype(x, dtype) for x in checked.values()]

    def flags(self, **named) -> list:
        """The named arguments as bool arrays of this backend; 0/1 numbers are refused (their meaning is
        ambiguous)."""
        return [self._flag(name, x) for name, x in named.items()]

    def index_array(self, x):
        """A numpy array of integers or bools computed by lineage itself (indices, masks) on this backend."""
        return self.xp.as_tensor(x, device=self.device) if self.is_torch else x

    def no_gradient(self, x):
        """``x`` as a constant of a loss: detached from the autograd graph (torch), unchanged (numpy)."""
        return x.detach() if self.is_torch else x

    def result_dtype(self, *arrays):
        """The floating dtype of arrays computed from ``arrays`` together."""
        if self.is_torch:
            return functools.reduce(self.xp.promote_types, (a.dtype for a in arrays))
        return np.result_type(*arrays)

    def astype(self, x, dtype):
        """``x`` in ``dtype`` (differentiable in torch). Bools become the integers 0 and 1 in dtype object: SymPy
        takes no bools as numbers."""
        if self.is_torch:
            return x.to(dtype)
        if x.dtype == bool and np.dtype(dtype) == np.dtype(object):
            x = x.astype(int)
        return x.astype(dtype, copy=False)

    def scalar(self, x):
        """A reduction's result as a 0-d array (numpy reductions return numpy scalars)."""
        return x if self.is_torch else np.asarray(x)

    def log_softmax(self, logits):
        """log softmax over the last axis (shifted by the maximum against overflow, except in exact arithmetic)."""
        if self.is_torch:
            return self.xp.log_softmax(logits, dim=-1)
        shifted = logits if self.is_symbolic else logits - logits.max(axis=-1, keepdims=True)
        return shifted - self.xp.log(self.xp.exp(shifted).sum(axis=-1, keepdims=True))

    def _float(self, name: str, x):
        if self.is_symbolic and is_symbolic(x):
            from lineage._symbolic import checked_entries

            return checked_entries(name, x)
        if not is_torch(x):
            array = as_float_array(name, x)
            return self.xp.as_tensor(array, device=self.device) if self.is_torch else array
        import torch

        self._check_device(name, x)
        if x.dtype == torch.bool or x.is_complex():
            raise ValueError(f"{name}: expected real numbers, got dtype {x.dtype}")
        if not x.is_floating_point():
            x = x.to(torch.float64)
        finite = torch.isfinite(x.detach())
        if not bool(finite.all()):
            bad = tuple(int(i) for i in torch.argwhere(~finite)[0])
            raise ValueError(f"{name}: every entry must be finite, found {x.detach()[bad].item()} at index {bad}")
        return x

    def _flag(self, name: str, x):
        if not is_torch(x):
            flags = as_bool_array(name, x)
            return self.xp.as_tensor(flags, device=self.device) if self.is_torch else flags
        import torch

        self._check_device(name, x)
        if x.dtype != torch.bool:
            raise ValueError(
                f"{name}: expected bool flags (True/False), got dtype {x.dtype}; "
                f"convert explicitly, e.g. {name}.bool(), after checking what your flags mean"
            )
        return x

    def _check_device(self, name: str, x) -> None:
        if x.device != self.device:
            raise ValueError(f"{name}: a tensor on {x.device}, but the call's first tensor is on {self.device}")


def per_sample_floats(**named) -> tuple[Backend, list]:
    """The backend of a call and its named per-sample arguments as checked floating arrays of it: non-empty, all
    of the first one's shape (a mismatch is blamed on the later argument)."""
    backend = backend_of(*named.values())
    arrays = backend.floats(**named)
    (first_name, first), *others = zip(named, arrays, strict=True)
    if math.prod(first.shape) == 0:
        raise ValueError(f"{first_name}: expected at least one sample, got shape {tuple(first.shape)}")
    check_same_shape(first_name, first, **dict(others))
    return backend, arrays
