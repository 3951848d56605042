"""A calling convention: how one case of a contract becomes the call(s) a library's function expects.

A convention describes, for each contract it supports, the :class:`TargetCall` list for a case (the
arguments as numpy arrays and scalars, and how to read each result back into the contract's steps); the
generic machinery here converts the arrays to the target's framework and dtype, runs the calls,
reassembles the contract's output and renders the same calls as a copy-paste repro.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lineage.arrays import is_torch, to_numpy
from lineage.laws.contracts import CONTRACTS, describe_output, not_one_array
from lineage.laws.law import LawViolation
from lineage.oracle import calls
from lineage.oracle.capabilities import Capabilities
from lineage.oracle.errors import describe_exception
from lineage.oracle.numerics import Numerics


class InputWritten(LawViolation):
    """The target wrote into an array it was given (checked on every call)."""


@dataclass
class TargetCall:
    """One call of the target: positional ``args`` and keyword ``kwargs`` (name → numpy array or scalar),
    ``read`` turning its result into a numpy array, and ``place`` saying where those values go in the
    contract's output (an index expression into the [T] or [T, B] result)."""

    args: list[tuple[str, object]]
    kwargs: dict[str, object] = field(default_factory=dict)
    read: Callable[[object], np.ndarray] = to_numpy
    place: object = Ellipsis


class Convention:
    """Base class; subclasses set the class attributes and implement :meth:`calls`."""

    name: str = ""
    summary: str = ""
    capabilities: Capabilities = Capabilities()
    numerics: Numerics = Numerics()
    fixed_numerics: bool = False  # the target computes in ``numerics`` whatever the user asks for
    signatures: dict[str, str] = {}  # contract -> the target's signature in this convention
    imports: tuple[str, ...] = ()  # modules ``execute`` imports (imported before the first timed call)

    def calls(self, contract: str, arrays: dict[str, np.ndarray], params: dict) -> list[TargetCall]:
        raise NotImplementedError

    def prepare(self, call: TargetCall, numerics: Numerics) -> tuple[list[tuple[str, object]], dict[str, object]]:
        """The call's arguments converted to the target's framework and dtype."""
        args = [(name, numerics.convert(value)) for name, value in call.args]
        return args, {name: numerics.convert(value) for name, value in call.kwargs.items()}

    def execute(self, function: Callable, args: list[tuple[str, object]], kwargs: dict[str, object]):
        """Make the call with prepared arguments (overridden where a call is more than a function call)."""
        return function(*(value for _, value in args), **kwargs)

    def render(self, label: str, call: TargetCall, numerics: Numerics) -> list[str]:
        """Source lines that make ``call`` by hand (the function is imported as ``target``)."""
        lines = [line for name, value in [*call.args, *call.kwargs.items()] for line in _define(name, value, numerics)]
        arguments = [name for name, _ in call.args] + [f"{name}={name}" for name in call.kwargs]
        return [*lines, f"out = target({', '.join(arguments)})"]

    def adapt(self, contract: str, function: Callable, numerics: Numerics | None = None) -> Callable:
        """``function`` (in this convention) as a callable with the signature of ``contract``."""
        numerics = numerics or self.numerics
        arguments = CONTRACTS[contract].arguments

        def as_contract(*args, **params):
            arrays = {  # function arguments (matvec, surrogate, kl) pass through as they are
                name: value if np.isscalar(value) or callable(value) else np.asarray(value)
                for name, value in zip(arguments, args, strict=True)
            }
            out, low_precision = None, None
            for call in self.calls(contract, arrays, params):
                args, kwargs = self.prepare(call, numerics)
                before = snapshot(args, kwargs)
                result = invoke(self, function, args, kwargs)
                written = [
                    name for name, value in before.items() if not np.array_equal(value, _arguments(args, kwargs)[name])
                ]
                if written:
                    raise InputWritten(f"the target wrote into its input {', '.join(map(repr, written))}")
                piece = _read_output(self, contract, call, result)
                low_precision = low_precision or _half_precision(result)
                if out is None:
                    out = np.zeros(CONTRACTS[contract].shape(arrays), dtype=piece.dtype)
                slot = out[call.place].shape
                if _squeezed(piece.shape) != _squeezed(slot):
                    raise LawViolation(
                        f"the target's output has shape {piece.shape}; shape {slot} expected (lineage's time-major "
                        f"layout: steps first); the {self.name} convention calls "
                        f"{self.signatures.get(contract, contract)}"
                    )
                out[call.place] = piece.reshape(slot)
            if out is None:
                return np.zeros(CONTRACTS[contract].shape(arrays))
            if low_precision is not None:  # bfloat16 / float16: returned as such, held to that dtype's tolerance
                import torch

                return torch.from_numpy(np.asarray(out, dtype=np.float32)).to(low_precision)
            # Held to the coarser of the dtype it was given and the dtype it returned.
            return out.astype(np.float32) if numerics.dtype == "float32" and out.dtype == np.float64 else out

        as_contract.__name__ = f"{self.name}_{contract}"
        return as_contract


def _define(name: str, value, numerics: Numerics) -> list[str]:
    """Source lines binding ``name`` to ``value``: a literal, or for a function argument of a case the lines that
    define it (``SourceFunction.source``)."""
    if hasattr(value, "source") and callable(value):
        lines = value.source(numerics)
        return lines if value.name == name else [*lines, f"{name} = {value.name}"]
    return [f"{name} = {numerics.literal(value)}"]


def _arguments(args: list[tuple[str, object]], kwargs: dict[str, object]) -> dict[str, object]:
    return {**dict(args), **kwargs}


def snapshot(args: list[tuple[str, object]], kwargs: dict[str, object]) -> dict[str, np.ndarray]:
    """Copies of the array arguments of a call, to tell afterwards whether the target wrote into one."""
    return {
        name: np.array(to_numpy(value), copy=True)
        for name, value in _arguments(args, kwargs).items()
        if isinstance(value, np.ndarray) or is_torch(value)
    }


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape without its length-1 axes: [T] and [T, 1] hold the same values in the same order, [B, T] and [T, B]
    do not."""
    return tuple(n for n in shape if n != 1)


def _half_precision(result):
    """The torch dtype of a bfloat16 or float16 tensor output (numpy keeps float16 by itself), else None."""
    dtype = str(getattr(result, "dtype", ""))
    if is_torch(result) and dtype in ("torch.bfloat16", "torch.float16"):
        return result.dtype
    return None


def _read_output(convention: Convention, contract: str, call: TargetCall, result) -> np.ndarray:
    signature = convention.signatures.get(contract, contract)
    if result is None:
        raise LawViolation(f"the target returned None; the {convention.name} convention calls {signature}")
    if call.read is to_numpy and not_one_array(result):
        raise LawViolation(
            f"the target returned {describe_output(result)}; the {convention.name} convention expects one array from "
            f"{signature}"
        )
    try:
        return np.asarray(call.read(result))
    except Exception as exc:
        raise LawViolation(
            f"the target's output could not be read in the {convention.name} convention ({type(exc).__name__}: "
            f"{exc}); it calls {convention.signatures.get(contract, contract)}"
        ) from None


def invoke(convention: Convention, function: Callable, args: list, kwargs: dict):
    """Make one call with prepared arguments, in a worker thread under the time limit (:mod:`lineage.oracle.calls`).
    Whatever the target raises (``SystemExit`` and ``KeyboardInterrupt`` included) becomes a LawViolation that says
    where it happened; a call that does not return in time raises :class:`~lineage.oracle.calls.CallTimedOut`."""
    try:
        return calls.run(function, lambda: convention.execute(function, args, kwargs))
    except calls.TargetRaised as raised:
        exc = raised.error
    if isinstance(exc, LawViolation):
        raise exc
    violation = LawViolation(f"the target raised {describe_exception(exc)}{_where(exc)}")
    # Raised outside the except block so that its context is the target's exception, not TargetRaised: Hypothesis
    # tells distinct failures apart by where they were raised, context included (two crashes at two lines of the
    # target are two bugs to it), as when the target ran in this thread.
    violation.__context__, violation.__suppress_context__ = exc, True
    raise violation


def _where(exc: BaseException) -> str:
    """' (at file:line in function)' for the innermost frame outside lineage, if any."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/lineage/" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {frame.filename}:{frame.lineno} in {frame.name})"


def episode_start_flags(done: np.ndarray) -> np.ndarray:
    """dones[t] = 1 when observation t starts a new episode, i.e. step t − 1 ended one (dones[0] = 0)."""
    starts = np.zeros_like(done, dtype=np.float64)
    starts[1:] = done[:-1]
    return starts


def as_batch(array: np.ndarray) -> np.ndarray:
    """[T] → [T, 1]; [T, B] unchanged."""
    return array[:, None] if array.ndim == 1 else array


def columns(arrays: dict[str, np.ndarray]) -> list[tuple[object, dict[str, np.ndarray]]]:
    """Each trajectory of a [T] or [T, B] case as (its place in the contract's output, an index tuple whose
    first entry selects the steps; its [T] arrays): one pair for a [T] case, one per batch column otherwise
    (for conventions that take one trajectory per call)."""
    if arrays["rewards"].ndim == 1:
        return [((slice(None),), arrays)]
    width = arrays["rewards"].shape[1]
    return [((slice(None), b), {name: array[:, b] for name, array in arrays.items()}) for b in range(width)]


def pick(out, index: int) -> np.ndarray:
    """The advantages (index 0) or returns (index 1) of a function that may return both."""
    if isinstance(out, tuple | list):
        out = out[index]
    return to_numpy(out)


def log_prob_arguments(arrays: dict[str, np.ndarray], params: dict) -> list[tuple[str, object]]:
    """The policy loss's positional arguments: log π_new, log π_old, advantages and ε."""
    return [
        *((name, arrays[name]) for name in ("logp_new", "logp_old", "advantages")),
        ("clip_eps", params["clip_eps"]),
    ]


def ratio_arguments(arrays: dict[str, np.ndarray], params: dict) -> list[tuple[str, object]]:
    """rlax's clipped_surrogate_pg_loss takes ratios ρ = exp(log π_new − log π_old), advantages and ε."""
    ratios = np.exp(arrays["logp_new"] - arrays["logp_old"])
    return [("prob_ratios_t", ratios), ("adv_t", arrays["advantages"]), ("epsilon", params["clip_eps"])]
