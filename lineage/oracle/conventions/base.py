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

from lineage.arrays import to_numpy
from lineage.laws.contracts import CONTRACTS
from lineage.laws.law import LawViolation
from lineage.oracle import calls
from lineage.oracle.capabilities import Capabilities
from lineage.oracle.errors import describe_exception
from lineage.oracle.numerics import Numerics


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
        lines = [f"{name} = {numerics.literal(value)}" for name, value in call.args]
        lines += [f"{name} = {numerics.literal(value)}" for name, value in call.kwargs.items()]
        arguments = [name for name, _ in call.args] + [f"{name}={name}" for name in call.kwargs]
        return [*lines, f"out = target({', '.join(arguments)})"]

    def adapt(self, contract: str, function: Callable, numerics: Numerics | None = None) -> Callable:
        """``function`` (in this convention) as a callable with the signature of ``contract``."""
        numerics = numerics or self.numerics
        arguments = CONTRACTS[contract].arguments

        def as_contract(*args, **params):
            arrays = {
                name: value if np.isscalar(value) else np.asarray(value)
                for name, value in zip(arguments, args, strict=True)
            }
            out = None
            for call in self.calls(contract, arrays, params):
                piece = _read_output(self, contract, call, invoke(self, function, *self.prepare(call, numerics)))
                if out is None:
                    out = np.zeros(CONTRACTS[contract].shape(arrays), dtype=piece.dtype)
                slot = out[call.place].shape
                if piece.size != int(np.prod(slot)):
                    raise LawViolation(
                        f"the target's output has shape {piece.shape}: {int(np.prod(slot))} values expected "
                        f"(shape {slot} in lineage's time-major layout); the {self.name} convention calls "
                        f"{self.signatures.get(contract, contract)}"
                    )
                out[call.place] = piece.reshape(slot)
            if out is None:
                return np.zeros(CONTRACTS[contract].shape(arrays))
            # Held to the coarser of the dtype it was given and the dtype it returned.
            return out.astype(np.float32) if numerics.dtype == "float32" and out.dtype == np.float64 else out

        as_contract.__name__ = f"{self.name}_{contract}"
        return as_contract


def _read_output(convention: Convention, contract: str, call: TargetCall, result) -> np.ndarray:
    if result is None:
        raise LawViolation(
            f"the target returned None; the {convention.name} convention calls "
            f"{convention.signatures.get(contract, contract)}"
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
