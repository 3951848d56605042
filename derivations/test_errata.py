"""Errata of the notes, refuted symbolically next to their corrections: the λ = 0 case of GAE printed with
a misplaced parenthesis (GAE-8), and the GAE recursion printed without λ (PPO-14, with TC-14)."""

from __future__ import annotations

import pytest
import sympy as sp

from .residual import (
    GAMMA,
    LAM,
    SEGMENT_LENGTH,
    assert_persists,
    assert_vanishes,
    backward_advantages,
    discounted_sum,
    rollout_instance,
    segment,
    td_errors,
)

T = SEGMENT_LENGTH
ARBITRARY_CRITIC = sp.Function("V", real=True)  # s ↦ V(s), nothing assumed
x, c = sp.symbols("x c", real=True)
LINEAR_CRITIC = sp.Lambda(x, c * x)  # V(s) = c·s
TEACHING_GAMMA = sp.Rational(9, 10)  # γ of the spec's teaching fixtures (TC-14)


@pytest.mark.refutes("GAE-8")
def test_printed_lambda_zero_case_misplaces_parenthesis() -> None:
    """GAE-8 (notes §GAE): the printed r_t + γV(s_{t+1} − V(s_t)) is not δ_t = r_t + γV(s_{t+1}) − V(s_t).

    For an arbitrary critic the residual does not simplify to 0; for the linear critic V(s) = c·s it is
    c·s_t·(1 − γc), e.g. 1/2 at c = 1, γ = 1/2, s_t = 1.
    """
    r_t, s_t, s_next = sp.symbols("r_t s_t s_next", real=True)
    V = ARBITRARY_CRITIC
    residual = (r_t + GAMMA * V(s_next - V(s_t))) - (r_t + GAMMA * V(s_next) - V(s_t))
    assert_persists(residual, "GAE-8: printed vs δ_t, arbitrary V")
    linear = assert_persists(
        residual.subs(V, LINEAR_CRITIC),
        "GAE-8: printed vs δ_t, V(s) = c·s",
        {c: 1, GAMMA: sp.Rational(1, 2), s_t: 1},
    )
    assert_vanishes(linear - c * s_t * (1 - GAMMA * c), "GAE-8: residual for V(s) = c·s")


@pytest.mark.claim("GAE-8")
def test_gae_at_lambda_zero_is_td_error() -> None:
    """GAE-8 (notes §GAE), corrected: at λ = 0, A^GAE_t = Σ_l (γλ)^l δ_{t+l} = r_t + γV(s_{t+1}) − V(s_t).

    Checked for an arbitrary critic V (an undefined function of the states) and for V(s) = c·s.
    """
    r, _ = segment()
    states = sp.symbols(f"s_0:{T + 1}", real=True)
    for critic in (ARBITRARY_CRITIC, LINEAR_CRITIC):
        critic_values = [critic(s) for s in states]
        deltas = td_errors(r, critic_values)
        for t in range(T):
            gae = discounted_sum(deltas[t:], GAMMA * LAM).subs(LAM, 0)
            correct = r[t] + GAMMA * critic(states[t + 1]) - critic(states[t])
            assert_vanishes(gae - correct, f"GAE-8, V={critic}, t={t}: λ = 0 case")


@pytest.mark.refutes("PPO-14")
def test_printed_gae_recursion_is_lambda_one_gae() -> None:
    """PPO-14 (notes §PPO): the printed A_t = δ_t + γA_{t+1}, A_T = 0, is Σ_l γ^l δ_{t+l} (GAE at λ = 1).

    It therefore differs from GAE, Σ_l (γλ)^l δ_{t+l}, at every t < T − 1 (at t = T − 1 both are δ_{T−1}).
    """
    r, V = segment()
    deltas = td_errors(r, V)
    printed = backward_advantages(deltas, GAMMA)
    witness = rollout_instance(r, V, [1] * T, [0] * (T + 1), gamma=TEACHING_GAMMA, lam=sp.Rational(1, 2))
    for t in range(T):
        assert_vanishes(printed[t] - discounted_sum(deltas[t:], GAMMA), f"PPO-14, t={t}: printed = λ=1 sum")
    for t in range(T - 1):
        gae = discounted_sum(deltas[t:], GAMMA * LAM)
        assert_persists(printed[t] - gae, f"PPO-14, t={t}: printed recursion vs GAE", witness)


@pytest.mark.refutes("PPO-14")
def test_teaching_counterexample_tc14() -> None:
    """PPO-14 (notes §PPO), TC-14: λ = 0, r = (1, 0), V = (1/2, 1/5, 0), γ = 9/10: A_0 = 17/25, printed 1/2.

    The correct recursion gives A_0 = δ_0 = 1 + 9/10 · 1/5 − 1/2; the printed one adds γδ_1 = −9/50.
    """
    r, V = segment(2)
    tc14_values = (sp.Rational(1, 2), sp.Rational(1, 5), 0)
    instance = rollout_instance(r, V, (1, 0), tc14_values, gamma=TEACHING_GAMMA, lam=0)
    deltas = td_errors(r, V)
    correct = backward_advantages(deltas, GAMMA * LAM)[0]
    printed = backward_advantages(deltas, GAMMA)[0]
    assert_persists(printed - correct, "TC-14: printed vs correct A_0", instance)
    assert correct.subs(instance) == sp.Rational(17, 25) == deltas[0].subs(instance)
    assert printed.subs(instance) == sp.Rational(1, 2)
