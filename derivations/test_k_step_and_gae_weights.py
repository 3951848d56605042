"""k-step advantages and the weights of GAE: A^(k)_t as a δ sum and as a reward sum (GAE-6), GAE as the
λ-weighted average of the A^(k)_t — infinite coefficients and the finite segment (GAE-7) — and the
truncated-segment form of the PPO paper, whose printed last exponent T − t + 1 is a typo (STD-GAE-7). The k-step
advantages and GAE are lineage's, evaluated on symbols."""

from __future__ import annotations

import pytest
import sympy as sp

import lineage

from .residual import (
    GAMMA,
    LAM,
    SEGMENT_LENGTH,
    assert_persists,
    assert_vanishes,
    discounted_sum,
    k_step_advantage,
    lineage_segment,
    rollout_instance,
    segment,
    td_errors,
    truncated_lambda_average,
)

T = SEGMENT_LENGTH


@pytest.mark.claim("GAE-6")
@pytest.mark.parametrize("k", range(1, T + 1))
def test_k_step_advantage_identities(k: int) -> None:
    """GAE-6 (notes §GAE): lineage's A^(k)_t = Σ_{l<k} γ^l δ_{t+l} = −V_t + Σ_{l<k} γ^l r_{t+l} + γ^k V_{t+k}.

    Checked at every start t: where t + k > T the segment ends first, and the sums stop at its end (k = T − t).
    """
    r, V = segment()
    deltas = td_errors(r, V)
    advantages = lineage.n_step_advantages(**lineage_segment(r, V), gamma=GAMMA, n=k)
    for t in range(T):
        steps = min(k, T - t)
        assert_vanishes(advantages[t] - discounted_sum(deltas[t : t + steps], GAMMA), f"GAE-6, t={t}, k={k}: δ sum")
        assert_vanishes(advantages[t] - k_step_advantage(r, V, t, steps), f"GAE-6, t={t}, k={k}: reward sum")


@pytest.mark.claim("GAE-7")
def test_gae_coefficients_are_lambda_powers() -> None:
    """GAE-7 (notes §GAE): Σ_{k>l}(1 − λ)λ^{k−1} = λ^l, the weight of γ^l δ_{t+l} in (1 − λ)Σλ^{k−1}A^(k)_t.

    δ_{t+l} enters A^(k)_t exactly when k > l. SymPy cannot assume λ < 1 (a positive λ leaves a λ^∞ term),
    so 0 < λ < 1 is written λ = 1/(1 + u) with u > 0.
    """
    u = sp.Symbol("u", positive=True)
    k, ell = sp.symbols("k l", integer=True, nonnegative=True)
    lam = 1 / (1 + u)
    weight = sp.summation((1 - lam) * lam ** (k - 1), (k, ell + 1, sp.oo))
    assert_vanishes(weight - lam**ell, "GAE-7: coefficient of γ^l δ_(t+l)")


@pytest.mark.claim("GAE-7")
@pytest.mark.parametrize("start", range(T))
def test_finite_segment_gae_is_lambda_average_of_k_step(start: int) -> None:
    """GAE-7 (notes §GAE): lineage's GAE A_t = (1 − λ)Σ_{k<T−t} λ^{k−1} A^(k)_t + λ^{T−t−1} A^(T−t)_t.

    On a finite segment all remaining weight sits on the longest estimator A^(T−t)_t; the A^(k)_t are
    taken in their reward form, so the check does not reuse the δ sums.
    """
    r, V = segment()
    gae = lineage.gae(**lineage_segment(r, V), gamma=GAMMA, lam=LAM)[start]
    average = truncated_lambda_average([k_step_advantage(r, V, start, k) for k in range(1, T - start + 1)])
    assert_vanishes(gae - average, f"GAE-7, T={T}, t={start}: finite-segment weights")


def _with_last_exponent(xs: list[sp.Expr], factor: sp.Expr, last_exponent: int) -> sp.Expr:
    """x_0 + factor·x_1 + … + factor^last_exponent · x_{m−1}: a "…" sum printed with its last power."""
    return discounted_sum(xs[:-1], factor) + factor**last_exponent * xs[-1]


def _ppo_eq10(r, V, t: int, last_exponent: int) -> sp.Expr:
    """PPO eq. (10): −V(s_t) + r_t + γr_{t+1} + … + γ^e r_{T−1} + γ^{T−t} V(s_T)."""
    return -V[t] + _with_last_exponent(r[t:], GAMMA, last_exponent) + GAMMA ** (T - t) * V[T]


def _ppo_eq11(deltas, t: int, last_exponent: int) -> sp.Expr:
    """PPO eq. (11): δ_t + (γλ)δ_{t+1} + … + (γλ)^e δ_{T−1}."""
    return _with_last_exponent(deltas[t:], GAMMA * LAM, last_exponent)


@pytest.mark.claim("STD-GAE-7")
@pytest.mark.parametrize("start", range(T))
def test_truncated_gae_with_exponent_t_minus_t_minus_1(start: int) -> None:
    """STD-GAE-7 (notes §PPO; PPO eq. 10–11): with last exponent T − t − 1, eq. (11) at λ = 1 is eq. (10).

    Eq. (11) is lineage's GAE for every λ, and eq. (10) its k-step advantage with k ≥ T − t.
    """
    r, V = segment()
    seg = lineage_segment(r, V)
    deltas = td_errors(r, V)
    exponent = T - start - 1
    assert_vanishes(
        lineage.gae(**seg, gamma=GAMMA, lam=LAM)[start] - _ppo_eq11(deltas, start, exponent),
        f"STD-GAE-7, t={start}: GAE vs eq. (11)",
    )
    assert_vanishes(
        lineage.n_step_advantages(**seg, gamma=GAMMA, n=T)[start] - _ppo_eq10(r, V, start, exponent),
        f"STD-GAE-7, t={start}: A^(T) vs eq. (10)",
    )
    assert_vanishes(
        _ppo_eq11(deltas, start, exponent).subs(LAM, 1) - _ppo_eq10(r, V, start, exponent),
        f"STD-GAE-7, t={start}: λ = 1 telescoping to eq. (10)",
    )


@pytest.mark.claim("STD-GAE-7")
@pytest.mark.parametrize("start", range(T))
def test_printed_exponent_t_minus_t_plus_1_breaks_telescoping(start: int) -> None:
    """STD-GAE-7 (notes §PPO; PPO eq. 10–11): the PPO paper's printed last exponent T − t + 1 is a typo.

    With it, eq. (10) is not lineage's GAE(γ, 1) (residual γ^{T−t−1}(1 − γ²) r_{T−1}), and the printed eq. (11)
    at λ = 1 does not telescope to the printed eq. (10) either.
    """
    r, V = segment()
    deltas = td_errors(r, V)
    printed = T - start + 1
    witness = rollout_instance(r, V, [1] * T, range(1, T + 2), gamma=sp.Rational(1, 2))
    residual = assert_persists(
        lineage.gae(**lineage_segment(r, V), gamma=GAMMA, lam=1)[start] - _ppo_eq10(r, V, start, printed),
        f"STD-GAE-7, t={start}: GAE(γ, 1) vs printed eq. (10)",
        witness,
    )
    assert_vanishes(residual - GAMMA ** (T - start - 1) * (1 - GAMMA**2) * r[-1], f"STD-GAE-7, t={start}: residual")
    assert_persists(
        _ppo_eq11(deltas, start, printed).subs(LAM, 1) - _ppo_eq10(r, V, start, printed),
        f"STD-GAE-7, t={start}: printed eq. (11) at λ = 1 vs printed eq. (10)",
        witness,
    )
