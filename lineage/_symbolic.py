"""Symbolic calls: the building blocks evaluated exactly on SymPy expressions (the array rule of
:mod:`lineage.arrays`).

A numpy array of dtype object whose entries are SymPy expressions makes a call symbolic. Its formulas run unchanged
with this module as their array namespace ``xp``: numpy's object loops apply the entries' own +, −, ·, /, ** and
comparisons, and the functions numpy would look up as methods of the entries (exp, expm1, log, sqrt) go through
SymPy instead. The result is the exact expression the formula builds: the derivations compare it with the closed
forms of the notes.

* **Entries.** Only SymPy expressions. A number is checked as a float would be (finite and real); an expression
  with free symbols cannot be, so it is refused only when its assumptions make it non-real or infinite.
* **Parameters** (γ, λ, ε, β, …). SymPy expressions or real numbers, returned as SymPy expressions (Python integers
  stay exact); refused when their value, or for a symbol its assumptions, puts them outside the allowed range.
* **Branches.** A clip, a maximum or the condition of a ``where`` compares entries; SymPy must decide each comparison
  from the assumptions (a positive u decides 1 + ε + u > 1 + ε), otherwise it raises ``TypeError``.
"""

from __future__ import annotations

import numbers

import numpy as np
import sympy
from numpy import abs, clip, concatenate, ones_like, stack, where, zeros_like

__all__ = [
    "abs",
    "checked_entries",
    "checked_parameter",
    "clip",
    "concatenate",
    "exp",
    "expm1",
    "log",
    "ones_like",
    "sqrt",
    "stack",
    "where",
    "zeros_like",
]

# e^x, e^x − 1, log x and √x of every entry: the elementwise functions numpy cannot apply to SymPy entries.
exp = np.frompyfunc(sympy.exp, 1, 1)
expm1 = np.frompyfunc(lambda x: sympy.exp(x) - 1, 1, 1)
log = np.frompyfunc(sympy.log, 1, 1)
sqrt = np.frompyfunc(sympy.sqrt, 1, 1)


def checked_entries(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` (dtype object) itself, once every entry is known to be a SymPy expression that may be a finite real;
    otherwise ``ValueError`` naming ``name`` and the first bad index."""
    for index, entry in np.ndenumerate(array):
        if not isinstance(entry, sympy.Expr):
            raise ValueError(
                f"{name}: an object array must hold SymPy expressions, found {type(entry).__name__} at index {index}"
            )
        if not _may_be_real(entry):
            raise ValueError(f"{name}: every entry must be finite and real, found {entry} at index {index}")
    return array


def checked_parameter(name: str, x, low, high, *, left_open: bool = False, right_open: bool = False) -> sympy.Expr:
    """``x`` as an exact SymPy expression, refused (``ValueError`` naming ``name``) when it is not a real number or
    expression, or when its value or assumptions put it outside the interval from ``low`` to ``high`` (±∞ allowed)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real | sympy.Expr):
        raise ValueError(f"{name}: expected a real number or a SymPy expression, got {x!r}")
    value = sympy.sympify(x)
    interval = sympy.Interval(low, high, left_open, right_open)
    if not _may_be_real(value) or interval.contains(value) is sympy.false:
        opening = "(" if interval.left_open else "["
        closing = ")" if interval.right_open else "]"
        raise ValueError(f"{name}: must lie in {opening}{interval.start}, {interval.end}{closing}, got {value}")
    return value


def _may_be_real(expr: sympy.Expr) -> bool:
    """A number must be a finite real (SymPy's ``is_real``); an expression with symbols must not be known not to be."""
    return expr.is_real is True if expr.is_number else expr.is_real is not False
