"""Telescoping sums: the rewrite of J(θ) through value differences along another policy's trajectory
(TRPO-2) and the collapse of discounted TD errors into the Monte-Carlo advantage (GAE-3), on lineage's TD errors,
GAE and discounted returns evaluated on symbols."""

from __future__ import annotations

import pytest

import lineage

from .residual import (
    GAMMA,
    SEGMENT_LENGTH,
    assert_vanishes,
    discounted_sum,
    lineage_segment,
    segment,
    values,
)


def lineage_td_errors(seg: dict):
    """lineage's δ_t of a segment from :func:`~derivations.residual.lineage_segment`."""
    return lineage.td_errors(seg["rewards"], seg["values"], seg["next_values"], seg["terminated"], gamma=GAMMA)


@pytest.mark.claim("TRPO-2")
@pytest.mark.parametrize("horizon", range(6))
def test_value_differences_telescope(horizon: int) -> None:
    """TRPO-2 (notes §TRPO): Σ_{t=0}^N γ^t V_t − Σ_{t=1}^{N+1} γ^t V_t = V_0 − γ^{N+1} V_{N+1}.

    It also equals −Σ_{t=0}^N γ^t (γV_{t+1} − V_t), minus the discounted sum of lineage's TD errors with r = 0, so
    the two displayed rewrites of J(θ) agree for every finite N (the tail γ^{N+1}V_{N+1} → 0 for γ < 1).
    """
    V = values(horizon + 1)
    difference = discounted_sum(V[:-1], GAMMA) - GAMMA * discounted_sum(V[1:], GAMMA)
    value_increments = discounted_sum(lineage_td_errors(lineage_segment([0] * (horizon + 1), V)), GAMMA)
    assert_vanishes(difference - (V[0] - GAMMA ** (horizon + 1) * V[-1]), f"TRPO-2, N={horizon}: difference of sums")
    assert_vanishes(difference + value_increments, f"TRPO-2, N={horizon}: sum of γ^t(γV_(t+1) − V_t)")


@pytest.mark.claim("GAE-3")
@pytest.mark.parametrize("start", range(SEGMENT_LENGTH))
def test_td_errors_telescope_to_monte_carlo(start: int) -> None:
    """GAE-3 (notes §GAE): Σ_{l<n} γ^l δ_{t+l} = Σ_{l<n} γ^l r_{t+l} − V_t + γ^n V_{t+n}, tail 0 at terminal.

    The sum runs from t to the end T of the segment (n = T − t) over lineage's δ_t, and lineage's GAE(γ, 1) is the
    same telescoped sum. When the episode ends in a terminal state after step T − 1 (no bootstrap), GAE(γ, 1) and
    lineage's discounted return minus V_t are the Monte-Carlo advantage −V_t + Σ_l γ^l r_{t+l} of the notes.
    """
    r, V = segment()
    running, terminal = lineage_segment(r, V), lineage_segment(r, V, terminal=True)
    steps = SEGMENT_LENGTH - start
    monte_carlo = discounted_sum(r[start:], GAMMA) - V[start]
    telescoped = monte_carlo + GAMMA**steps * V[-1]
    td_sum = discounted_sum(lineage_td_errors(running)[start:], GAMMA)
    assert_vanishes(td_sum - telescoped, f"GAE-3, t={start}: telescoped δ sum")
    assert_vanishes(lineage.gae(**running, gamma=GAMMA, lam=1)[start] - telescoped, f"GAE-3, t={start}: GAE(γ, 1)")
    terminal_gae = lineage.gae(**terminal, gamma=GAMMA, lam=1)[start]
    assert_vanishes(terminal_gae - monte_carlo, f"GAE-3, t={start}: GAE(γ, 1), terminal")
    reward_to_go = lineage.discounted_returns(
        terminal["rewards"], terminal["next_values"], terminal["terminated"], terminal["truncated"], gamma=GAMMA
    )[start]
    assert_vanishes(reward_to_go - V[start] - monte_carlo, f"GAE-3, t={start}: G_t − V_t, terminal")
