"""Telescoping sums: the rewrite of J(θ) through value differences along another policy's trajectory
(TRPO-2) and the collapse of discounted TD errors into the Monte-Carlo advantage (GAE-3)."""

from __future__ import annotations

import pytest

from .residual import (
    GAMMA,
    SEGMENT_LENGTH,
    assert_vanishes,
    discounted_sum,
    segment,
    td_errors,
    values,
)


@pytest.mark.claim("TRPO-2")
@pytest.mark.parametrize("horizon", range(6))
def test_value_differences_telescope(horizon: int) -> None:
    """TRPO-2 (notes §TRPO): Σ_{t=0}^N γ^t V_t − Σ_{t=1}^{N+1} γ^t V_t = V_0 − γ^{N+1} V_{N+1}.

    It also equals −Σ_{t=0}^N γ^t (γV_{t+1} − V_t), i.e. minus the discounted TD errors with r = 0, so the
    two displayed rewrites of J(θ) agree for every finite N (the tail γ^{N+1}V_{N+1} → 0 for γ < 1).
    """
    V = values(horizon + 1)
    difference = discounted_sum(V[:-1], GAMMA) - GAMMA * discounted_sum(V[1:], GAMMA)
    value_increments = discounted_sum(td_errors([0] * (horizon + 1), V), GAMMA)
    assert_vanishes(difference - (V[0] - GAMMA ** (horizon + 1) * V[-1]), f"TRPO-2, N={horizon}: difference of sums")
    assert_vanishes(difference + value_increments, f"TRPO-2, N={horizon}: sum of γ^t(γV_(t+1) − V_t)")


@pytest.mark.claim("GAE-3")
@pytest.mark.parametrize("start", range(SEGMENT_LENGTH))
def test_td_errors_telescope_to_monte_carlo(start: int) -> None:
    """GAE-3 (notes §GAE): Σ_{l<n} γ^l δ_{t+l} = Σ_{l<n} γ^l r_{t+l} − V_t + γ^n V_{t+n}, tail 0 at terminal.

    The sum runs from t to the end T of the segment (n = T − t); with V(terminal) = V_T = 0 it is the
    Monte-Carlo advantage −V_t + Σ_l γ^l r_{t+l} of the notes, for any V.
    """
    r, V = segment()
    steps = SEGMENT_LENGTH - start
    td_sum = discounted_sum(td_errors(r, V)[start:], GAMMA)
    monte_carlo = discounted_sum(r[start:], GAMMA) - V[start]
    assert_vanishes(td_sum - (monte_carlo + GAMMA**steps * V[-1]), f"GAE-3, t={start}: telescoped sum")
    assert_vanishes(td_sum.subs(V[-1], 0) - monte_carlo, f"GAE-3, t={start}: terminal V_T = 0")
