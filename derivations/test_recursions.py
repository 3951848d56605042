"""Backward recursions of PPO's advantage and value targets: the corrected GAE recursion unrolls to the
(γλ)-discounted δ sum (PPO-14, corrected form), the return target A_t + V_t is the TD(λ) return (PPO-15,
STD-GAE-3), and the critic loss expands as the notes print it (PPO-16)."""

from __future__ import annotations

import pytest

from .residual import (
    GAMMA,
    LAM,
    SEGMENT_LENGTH,
    assert_vanishes,
    backward_advantages,
    discounted_sum,
    k_step_advantage,
    lambda_returns,
    segment,
    td_errors,
    truncated_lambda_average,
    values,
)

T = SEGMENT_LENGTH


def _gae_and_returns():
    """The segment (r, V), its GAE A_0..A_T from the recursion A_t = δ_t + γλA_{t+1}, and R^λ_0..R^λ_T."""
    r, V = segment()
    return r, V, backward_advantages(td_errors(r, V), GAMMA * LAM), lambda_returns(r, V)


@pytest.mark.claim("PPO-14")
def test_gae_recursion_unrolls_to_discounted_td_sum() -> None:
    """PPO-14 (notes §PPO), corrected: A_t = δ_t + γλA_{t+1}, A_T = 0, unrolls to Σ_l (γλ)^l δ_{t+l}."""
    r, V = segment()
    deltas = td_errors(r, V)
    advantages = backward_advantages(deltas, GAMMA * LAM)
    for t in range(T):
        residual = advantages[t] - discounted_sum(deltas[t:], GAMMA * LAM)
        assert_vanishes(residual, f"PPO-14, t={t}: unrolled recursion vs Σ(γλ)^l δ")


@pytest.mark.claim("PPO-15", "STD-GAE-3")
def test_return_target_is_td_lambda_return() -> None:
    """PPO-15, STD-GAE-3 (notes §PPO): A_t + V_t = R^λ_t, the TD(λ) return of the segment.

    R^λ_t = r_t + γ[(1 − λ)V_{t+1} + λR^λ_{t+1}] with the bootstrap R^λ_T = V_T (and A_T = 0).
    """
    _, V, advantages, returns = _gae_and_returns()
    for t in range(T + 1):
        assert_vanishes(advantages[t] + V[t] - returns[t], f"PPO-15, t={t}: A_t + V_t vs R^λ_t")


@pytest.mark.claim("PPO-15")
def test_return_target_as_printed() -> None:
    """PPO-15 (notes §PPO): R_t = A_t + V^old_t = (r_t + γV^old_{t+1}) + γλA_{t+1}."""
    r, V, advantages, _ = _gae_and_returns()
    for t in range(T):
        residual = advantages[t] + V[t] - ((r[t] + GAMMA * V[t + 1]) + GAMMA * LAM * advantages[t + 1])
        assert_vanishes(residual, f"PPO-15, t={t}: printed target")


@pytest.mark.claim("STD-GAE-3")
def test_lambda_return_is_lambda_average_of_n_step_returns() -> None:
    """STD-GAE-3 (notes §PPO): R^λ_t = (1 − λ)Σ_{k<T−t} λ^{k−1} G^(k)_t + λ^{T−t−1} G^(T−t)_t.

    G^(k)_t = Σ_{l<k} γ^l r_{t+l} + γ^k V_{t+k} is the k-step return, i.e. A^(k)_t + V_t.
    """
    r, V, _, returns = _gae_and_returns()
    for t in range(T):
        n_step_returns = [k_step_advantage(r, V, t, k) + V[t] for k in range(1, T - t + 1)]
        residual = returns[t] - truncated_lambda_average(n_step_returns)
        assert_vanishes(residual, f"STD-GAE-3, t={t}: λ-average of n-step returns")


@pytest.mark.claim("PPO-16")
def test_critic_loss_expansion() -> None:
    """PPO-16 (notes §PPO): (V^new_t − R_t)² = [(V^new_t − (r_t + γV^old_{t+1})) − γλA_{t+1}]².

    R_t is the TD(λ) return computed by its own recursion, A by the GAE recursion, V^old = V.
    """
    r, V, advantages, returns = _gae_and_returns()
    v_new = values(T, name="Vnew")
    for t in range(T):
        printed = ((v_new[t] - (r[t] + GAMMA * V[t + 1])) - GAMMA * LAM * advantages[t + 1]) ** 2
        assert_vanishes((v_new[t] - returns[t]) ** 2 - printed, f"PPO-16, t={t}: critic loss")


@pytest.mark.claim("PPO-16")
def test_lambda_zero_target_is_td0_target() -> None:
    """PPO-16 (notes §PPO): at λ = 0 the critic target R_t is the TD(0) target r_t + γV^old_{t+1} (cf. AC)."""
    r, V, _, returns = _gae_and_returns()
    for t in range(T):
        assert_vanishes(returns[t].subs(LAM, 0) - (r[t] + GAMMA * V[t + 1]), f"PPO-16, t={t}: λ = 0 target")
