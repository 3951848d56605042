"""Backward recursions of PPO's advantage and value targets, on lineage's GAE, λ-returns and value loss evaluated on
symbols: GAE obeys the corrected recursion and unrolls to the (γλ)-discounted δ sum (PPO-14, corrected form), the
return target A_t + V_t is the TD(λ) return (PPO-15, STD-GAE-3), and the critic loss expands as the notes print it
(PPO-16)."""

from __future__ import annotations

import pytest
import sympy as sp

import lineage
from lineage import ppo

from .residual import (
    GAMMA,
    LAM,
    SEGMENT_LENGTH,
    assert_vanishes,
    discounted_sum,
    k_step_advantage,
    lambda_returns,
    lineage_segment,
    segment,
    symbolic_array,
    td_errors,
    truncated_lambda_average,
    values,
)

T = SEGMENT_LENGTH


def _n_step_returns(r, V, t: int) -> list[sp.Expr]:
    """G^(k)_t = Σ_{l<k} γ^l r_{t+l} + γ^k V_{t+k} = A^(k)_t + V_t for k = 1..T − t, in the reward form."""
    return [k_step_advantage(r, V, t, k) + V[t] for k in range(1, T - t + 1)]


@pytest.mark.claim("PPO-14")
def test_gae_recursion_unrolls_to_discounted_td_sum() -> None:
    """PPO-14 (notes §PPO), corrected: lineage's GAE obeys A_t = δ_t + γλA_{t+1}, A_T = 0, and equals its unrolled
    form Σ_l (γλ)^l δ_{t+l}."""
    r, V = segment()
    deltas = td_errors(r, V)
    advantages = [*lineage.gae(**lineage_segment(r, V), gamma=GAMMA, lam=LAM), 0]
    for t in range(T):
        recursion = deltas[t] + GAMMA * LAM * advantages[t + 1]
        assert_vanishes(advantages[t] - recursion, f"PPO-14, t={t}: A_t vs δ_t + γλA_(t+1)")
        assert_vanishes(advantages[t] - discounted_sum(deltas[t:], GAMMA * LAM), f"PPO-14, t={t}: A_t vs Σ(γλ)^l δ")


@pytest.mark.claim("PPO-15", "STD-GAE-3")
def test_return_target_is_td_lambda_return() -> None:
    """PPO-15, STD-GAE-3 (notes §PPO): lineage's λ-return and its GAE plus V_t are R^λ_t, the TD(λ) return.

    R^λ_t = r_t + γ[(1 − λ)V_{t+1} + λR^λ_{t+1}] with the bootstrap R^λ_T = V_T.
    """
    r, V = segment()
    seg = lineage_segment(r, V)
    advantages = lineage.gae(**seg, gamma=GAMMA, lam=LAM)
    targets = lineage.lambda_returns(**seg, gamma=GAMMA, lam=LAM)
    returns = lambda_returns(r, V)
    for t in range(T):
        assert_vanishes(targets[t] - returns[t], f"PPO-15, t={t}: lineage's λ-return vs R^λ_t")
        assert_vanishes(advantages[t] + V[t] - returns[t], f"PPO-15, t={t}: A_t + V_t vs R^λ_t")


@pytest.mark.claim("PPO-15")
def test_return_target_as_printed() -> None:
    """PPO-15 (notes §PPO): R_t = A_t + V^old_t = (r_t + γV^old_{t+1}) + γλA_{t+1}, derived from the definitions.

    The left side is the λ-average of the n-step returns (1 − λ)Σ_k λ^{k−1} G^(k)_t + λ^{T−t−1} G^(T−t)_t, the right
    side takes A_{t+1} = Σ_l (γλ)^l δ_{t+1+l}: neither is a recursion, so the identity is derived, not restated. Then
    lineage's λ-return must equal the printed right side.
    """
    r, V = segment()
    deltas = td_errors(r, V)
    targets = lineage.lambda_returns(**lineage_segment(r, V), gamma=GAMMA, lam=LAM)
    for t in range(T):
        printed = (r[t] + GAMMA * V[t + 1]) + GAMMA * LAM * discounted_sum(deltas[t + 1 :], GAMMA * LAM)
        average = truncated_lambda_average(_n_step_returns(r, V, t))
        assert_vanishes(average - printed, f"PPO-15, t={t}: λ-average of G^(k) vs printed target")
        assert_vanishes(targets[t] - printed, f"PPO-15, t={t}: lineage's λ-return vs printed target")


@pytest.mark.claim("STD-GAE-3")
def test_lambda_return_is_lambda_average_of_n_step_returns() -> None:
    """STD-GAE-3 (notes §PPO): lineage's R^λ_t = (1 − λ)Σ_{k<T−t} λ^{k−1} G^(k)_t + λ^{T−t−1} G^(T−t)_t.

    G^(k)_t = Σ_{l<k} γ^l r_{t+l} + γ^k V_{t+k} is the k-step return, i.e. A^(k)_t + V_t.
    """
    r, V = segment()
    targets = lineage.lambda_returns(**lineage_segment(r, V), gamma=GAMMA, lam=LAM)
    for t in range(T):
        residual = targets[t] - truncated_lambda_average(_n_step_returns(r, V, t))
        assert_vanishes(residual, f"STD-GAE-3, t={t}: λ-average of n-step returns")


@pytest.mark.claim("PPO-16")
def test_critic_loss_expansion() -> None:
    """PPO-16 (notes §PPO): (V^new_t − R_t)² = [(V^new_t − (r_t + γV^old_{t+1})) − γλA_{t+1}]².

    R_t is lineage's λ-return, A_{t+1} = Σ_l (γλ)^l δ_{t+1+l}, V^old = V.
    """
    r, V = segment()
    targets = lineage.lambda_returns(**lineage_segment(r, V), gamma=GAMMA, lam=LAM)
    deltas = td_errors(r, V)
    v_new = values(T, name="Vnew")
    for t in range(T):
        next_advantage = discounted_sum(deltas[t + 1 :], GAMMA * LAM)
        printed = ((v_new[t] - (r[t] + GAMMA * V[t + 1])) - GAMMA * LAM * next_advantage) ** 2
        assert_vanishes((v_new[t] - targets[t]) ** 2 - printed, f"PPO-16, t={t}: critic loss")


@pytest.mark.claim("PPO-16")
def test_critic_loss_inside_the_clip_band() -> None:
    """PPO-16 (notes §PPO): inside the band |V^new_t − V^old_t| ≤ ε lineage's clipped value losses are the critic loss
    of the notes, ½ (1/T) Σ_t (V^new_t − R_t)² ("max") and (1/T) Σ_t (V^new_t − R_t)² ("clipped").

    V^new_t = V^old_t + c_t ε with a symbolic ε > 0 and c_t on a grid of [−1, 1] (both edges included), and R_t is
    lineage's λ-return.
    """
    r, V = segment()
    eps = sp.Symbol("epsilon", positive=True)
    offsets = (-1, sp.Rational(-1, 2), 0, sp.Rational(1, 3), 1)
    v_new = [V[t] + offsets[t] * eps for t in range(T)]
    targets = lineage.lambda_returns(**lineage_segment(r, V), gamma=GAMMA, lam=LAM)
    deltas = td_errors(r, V)
    printed = [
        ((v_new[t] - (r[t] + GAMMA * V[t + 1])) - GAMMA * LAM * discounted_sum(deltas[t + 1 :], GAMMA * LAM)) ** 2
        for t in range(T)
    ]
    arguments = {"values_new": symbolic_array(v_new), "values_old": symbolic_array(V[:T]), "returns": targets}
    for variant, factor in (("max", sp.Rational(1, 2)), ("clipped", 1)):
        loss = ppo.value_loss(**arguments, clip_eps=eps, variant=variant)
        assert_vanishes(loss[()] - factor * sp.Add(*printed) / T, f"PPO-16: value loss ({variant}) inside the band")


@pytest.mark.claim("PPO-16")
def test_lambda_zero_target_is_td0_target() -> None:
    """PPO-16 (notes §PPO): at λ = 0 the critic target R_t is the TD(0) target r_t + γV^old_{t+1} (cf. AC).

    Derived from the λ-average of the n-step returns, where λ = 0 leaves the weight 1 on G^(1)_t alone; lineage's
    λ-return at λ = 0 must be that target.
    """
    r, V = segment()
    targets = lineage.lambda_returns(**lineage_segment(r, V), gamma=GAMMA, lam=0)
    for t in range(T):
        td0_target = r[t] + GAMMA * V[t + 1]
        average = truncated_lambda_average(_n_step_returns(r, V, t)).subs(LAM, 0)
        assert_vanishes(average - td0_target, f"PPO-16, t={t}: λ = 0 average of G^(k)")
        assert_vanishes(targets[t] - td0_target, f"PPO-16, t={t}: lineage's λ-return at λ = 0")
