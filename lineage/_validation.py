"""Argument checks shared by every public function: bad input raises ``ValueError`` naming the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_float_array(name: str, x) -> np.ndarray:
    """``x`` as a finite floating array; integers are promoted to float64, float32 stays float32."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists, objects numpy cannot convert
        raise ValueError(f"{name}: cannot be read as a numeric array ({exc})") from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name}: every entry must be finite, found {arr[bad]} at index {bad}")
    return arr


def as_bool_array(name: str, x) -> np.ndarray:
    """``x`` as a bool array; 0/1 floats or ints are refused because their meaning is ambiguous."""
    arr = np.asarray(x)
    if arr.dtype != bool:
        raise ValueError(
            f"{name}: expected bool flags (True/False), got dtype {arr.dtype}; "
            f"convert explicitly, e.g. {name}.astype(bool), after checking what your flags mean"
        )
    return arr


def check_same_shape(reference_name: str, reference, **others) -> None:
    """Every array of ``others`` has the shape of ``reference`` (numpy arrays or tensors)."""
    for name, arr in others.items():
        if tuple(arr.shape) != tuple(reference.shape):
            raise ValueError(
                f"{name}: expected shape {tuple(reference.shape)} like {reference_name}, got {tuple(arr.shape)}"
            )


def check_time_major(name: str, arr) -> None:
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name}: expected shape [T] or [T, B] (time first), got {tuple(arr.shape)}")


def check_unit_interval(name: str, x, *, symbolic: bool = False) -> float:
    """A discount-like scalar in [0, 1]; in a symbolic call also a SymPy expression, kept exact (see
    :func:`symbolic_parameter`)."""
    if symbolic:
        return symbolic_parameter(name, x, low=0, high=1)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name}: expected a real number in [0, 1], got {x!r}")
    value = float(x)
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"{name}: must lie in [0, 1], got {value}")
    return value


def check_positive_int(name: str, x) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {x!r}")
    return int(x)


def check_real(name: str, x, *, minimum: float = -math.inf, inclusive: bool = True, symbolic: bool = False) -> float:
    """A finite real scalar ≥ ``minimum`` (> ``minimum`` when not ``inclusive``); bools are refused. In a symbolic
    call also a SymPy expression, kept exact (see :func:`symbolic_parameter`)."""
    if symbolic:
        return symbolic_parameter(name, x, low=minimum, left_open=not inclusive)
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"{name}: expected a finite real number, got {x!r}")
    value = float(x)
    if value < minimum or (not inclusive and value == minimum):
        raise ValueError(f"{name}: must be {'>=' if inclusive else '>'} {minimum}, got {value}")
    return value


def check_ratio_clip(name: str, x, *, symbolic: bool = False) -> float:
    """ε of a ratio band [1 − ε, 1 + ε]: in (0, 1), so that the band is non-empty and 1 − ε > 0. In a symbolic call
    also a SymPy expression, kept exact (see :func:`symbolic_parameter`)."""
    if symbolic:
        return symbolic_parameter(name, x, low=0, high=1, left_open=True, right_open=True)
    value = check_real(name, x, minimum=0.0, inclusive=False)
    if value >= 1.0:
        raise ValueError(f"{name}: must lie in (0, 1), got {value}")
    return value


def symbolic_parameter(name: str, x, *, low=-math.inf, high=math.inf, left_open=False, right_open=False):
    """A scalar parameter of a symbolic call (:mod:`lineage._symbolic`): a real number or a SymPy expression, returned
    as an exact SymPy expression; refused when its value, or a symbol's assumptions, put it outside the interval."""
    from lineage._symbolic import checked_parameter

    return checked_parameter(name, x, low, high, left_open=left_open, right_open=right_open)
