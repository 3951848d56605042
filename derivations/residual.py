"""Shared machinery of the derivations.

* Residual assertions: :func:`assert_vanishes` (an identity holds: its residual simplifies to 0) and
  :func:`assert_persists` (a printed form is wrong: its residual does not simplify to 0 and, given a
  witness, evaluates to a nonzero number there).
* Symbols: the discount γ, the GAE parameter λ and a rollout segment r_0..r_{T−1}, V_0..V_T.
* Rollout algebra on arbitrary SymPy expressions: TD errors, discounted sums, backward recursions,
  k-step advantages, λ-returns and the truncated λ-average of k-step estimators. These closed forms are written
  from the notes' definitions and never call lineage: they are what lineage's functions are compared with.
* Symbolic calls of lineage: :func:`symbolic_array` and :func:`lineage_segment` turn expressions into the numpy
  object arrays on which lineage's own building blocks compute exactly (the array rule of ``lineage.arrays``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

GAMMA = sp.Symbol("gamma", positive=True)
LAM = sp.Symbol("lambda", positive=True)
SEGMENT_LENGTH = 5  # T of the finite-segment derivations (the spec verifies n = 5)


def simplified(expr: sp.Expr) -> sp.Expr:
    """The residual in canonical form, or as simplified as SymPy gets it.

    ``together`` + ``cancel`` give one expanded fraction, which decides polynomial and rational-function
    identities; ``simplify`` (symbolic exponents, undefined functions) runs only if that is not 0.
    """
    for step in (lambda e: sp.cancel(sp.together(e)), sp.simplify):
        expr = step(expr)
        if expr == 0:
            break
    return expr


def assert_vanishes(residual: sp.Expr, what: str) -> None:
    """Assert that ``residual`` (lhs − rhs of an identity) simplifies to 0; show what is left otherwise."""
    left = simplified(residual)
    if left != 0:
        raise AssertionError(f"{what}: the residual should vanish but simplifies to {left}")


def assert_persists(residual: sp.Expr, what: str, witness: Mapping | None = None) -> sp.Expr:
    """Assert that ``residual`` does not simplify to 0 and return its simplified form.

    A ``witness`` (a substitution) turns "SymPy found no zero" into a proof: the residual must evaluate
    there to a nonzero number.
    """
    left = simplified(residual)
    if left == 0:
        raise AssertionError(f"{what}: the residual vanishes, so the printed form is not refuted")
    if witness is not None:
        value = simplified(residual.subs(witness))
        if not value.is_number or value == 0:
            raise AssertionError(f"{what}: at {dict(witness)} the residual {left} is {value}, not nonzero")
    return left


def rewards(length: int) -> tuple[sp.Symbol, ...]:
    """r_0, …, r_{length−1} (real)."""
    return sp.symbols(f"r_0:{length}", real=True)


def values(length: int, name: str = "V") -> tuple[sp.Symbol, ...]:
    """V_0, …, V_length (real): one more than the rewards, for the bootstrap value V_T."""
    return sp.symbols(f"{name}_0:{length + 1}", real=True)


def segment(length: int = SEGMENT_LENGTH) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """A symbolic rollout segment: rewards r_0..r_{T−1} and values V_0..V_T."""
    return rewards(length), values(length)


def td_errors(r: Sequence[sp.Expr], V: Sequence[sp.Expr]) -> list[sp.Expr]:
    """δ_t = r_t + γV_{t+1} − V_t for t < len(r)."""
    return [r[t] + GAMMA * V[t + 1] - V[t] for t in range(len(r))]


def discounted_sum(xs: Sequence[sp.Expr], factor: sp.Expr) -> sp.Expr:
    """Σ_l factor^l · xs[l]."""
    return sp.Add(*(factor**lag * x for lag, x in enumerate(xs)))


def unroll_backward(terms: Sequence[sp.Expr], decay: sp.Expr, last: sp.Expr) -> list[sp.Expr]:
    """x_t = terms[t] + decay · x_{t+1} for t = T−1, …, 0 with x_T = last; returns [x_0, …, x_T]."""
    xs = [last]
    for term in reversed(terms):
        xs.insert(0, term + decay * xs[0])
    return xs


def backward_advantages(deltas: Sequence[sp.Expr], decay: sp.Expr) -> list[sp.Expr]:
    """A_t = δ_t + decay · A_{t+1} with A_T = 0 (decay = γλ is GAE); returns [A_0, …, A_T]."""
    return unroll_backward(deltas, decay, sp.S.Zero)


def k_step_advantage(r: Sequence[sp.Expr], V: Sequence[sp.Expr], t: int, k: int) -> sp.Expr:
    """A^(k)_t = −V_t + Σ_{l<k} γ^l r_{t+l} + γ^k V_{t+k} (the reward form, no δ's)."""
    return -V[t] + discounted_sum(r[t : t + k], GAMMA) + GAMMA**k * V[t + k]


def lambda_returns(r: Sequence[sp.Expr], V: Sequence[sp.Expr]) -> list[sp.Expr]:
    """R^λ_t = r_t + γ[(1 − λ)V_{t+1} + λR^λ_{t+1}] with the bootstrap R^λ_T = V_T; returns [R_0, …, R_T]."""
    terms = [r[t] + GAMMA * (1 - LAM) * V[t + 1] for t in range(len(r))]
    return unroll_backward(terms, GAMMA * LAM, V[len(r)])


def rollout_instance(
    r: Sequence[sp.Symbol],
    V: Sequence[sp.Symbol],
    r_values: Sequence,
    V_values: Sequence,
    gamma: sp.Expr,
    lam: sp.Expr | None = None,
) -> dict:
    """The substitution r_t ↦ r_values[t], V_t ↦ V_values[t], γ ↦ gamma and, if given, λ ↦ lam."""
    instance = {GAMMA: gamma, **dict(zip(r, r_values, strict=True)), **dict(zip(V, V_values, strict=True))}
    if lam is not None:
        instance[LAM] = lam
    return instance


def truncated_lambda_average(estimates: Sequence[sp.Expr]) -> sp.Expr:
    """(1 − λ) Σ_{k=1}^{m−1} λ^{k−1} E_k + λ^{m−1} E_m for the estimators E_1..E_m of a finite segment."""
    *shorter, longest = estimates
    return (1 - LAM) * discounted_sum(shorter, LAM) + LAM ** len(shorter) * longest


def symbolic_array(xs: Sequence) -> np.ndarray:
    """``xs`` as a numpy array of SymPy expressions (dtype object): lineage computes on it exactly."""
    return np.array([sp.sympify(x) for x in xs], dtype=object)


def lineage_segment(r: Sequence[sp.Expr], V: Sequence[sp.Expr], *, terminal: bool = False) -> dict[str, np.ndarray]:
    """lineage's segment arguments for rewards r_0..r_{T−1} and values V_0..V_T: ``values`` V_0..V_{T−1},
    ``next_values`` V_1..V_T and bool flags. One episode runs through the segment and is cut by its end (so V_T is the
    bootstrap) or, if ``terminal``, ends in a terminal state after step T − 1 (no bootstrap)."""
    steps = len(r)
    terminated = np.zeros(steps, dtype=bool)
    terminated[-1] = terminal
    return {
        "rewards": symbolic_array(r),
        "values": symbolic_array(V[:steps]),
        "next_values": symbolic_array(V[1 : steps + 1]),
        "terminated": terminated,
        "truncated": np.zeros(steps, dtype=bool),
    }
