"""Errata of the notes, refuted symbolically next to their corrections: the λ = 0 case of GAE printed with
a misplaced parenthesis (GAE-8), and the GAE recursion printed without λ (PPO-14, with TC-14). The corrections are
lineage's TD errors and GAE, evaluated on symbols."""

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
    backward_advantages,
    discounted_sum,
    k_step_advantage,
    lineage_segment,
    rollout_instance,
    segment,
    td_errors,
    truncated_lambda_average,
)

T = SEGMENT_LENGTH
ARBITRARY_CRITIC = sp.Function("V", real=True)  # s ↦ V(s), nothing assumed
x, c = sp.symbols("x c", real=True)
LINEAR_CRITIC = sp.Lambda(x, c * x)  # V(s) = c·s
TEACHING_GAMMA = sp.Rational(9, 10)  # γ of the spec's teaching fixtures (TC-14)


def _lineage_td_error(r_t: sp.Expr, v_t: sp.Expr, v_next: sp.Expr) -> sp.Expr:
    """lineage's δ_t of the one-step segment (r_t; V(s_t), V(s_{t+1}))."""
    seg = lineage_segment([r_t], [v_t, v_next])
    return lineage.td_errors(seg["rewards"], seg["values"], seg["next_values"], seg["terminated"], gamma=GAMMA)[0]


@pytest.mark.refutes("GAE-8")
def test_printed_lambda_zero_case_misplaces_parenthesis() -> None:
    """GAE-8 (notes §GAE): the printed r_t + γV(s_{t+1} − V(s_t)) is not lineage's δ_t = r_t + γV(s_{t+1}) − V(s_t).

    For an arbitrary critic the residual does not simplify to 0; for the linear critic V(s) = c·s it is
    c·s_t·(1 − γc), e.g. 1/2 at c = 1, γ = 1/2, s_t = 1.
    """
    r_t, s_t, s_next = sp.symbols("r_t s_t s_next", real=True)
    V = ARBITRARY_CRITIC
    residual = (r_t + GAMMA * V(s_next - V(s_t))) - _lineage_td_error(r_t, V(s_t), V(s_next))
    assert_persists(residual, "GAE-8: printed vs δ_t, arbitrary V")
    linear = assert_persists(
        residual.subs(V, LINEAR_CRITIC),
        "GAE-8: printed vs δ_t, V(s) = c·s",
        {c: 1, GAMMA: sp.Rational(1, 2), s_t: 1},
    )
    assert_vanishes(linear - c * s_t * (1 - GAMMA * c), "GAE-8: residual for V(s) = c·s")


@pytest.mark.claim("GAE-8")
def test_gae_at_lambda_zero_is_td_error() -> None:
    """GAE-8 (notes §GAE), corrected: at λ = 0, A^GAE_t = r_t + γV(s_{t+1}) − V(s_t).

    Derived from GAE as the λ-average of the k-step advantages in their reward form (no δ in sight), where λ = 0
    leaves the weight 1 on A^(1)_t alone; lineage's GAE at λ = 0 must be that form. Checked for an arbitrary critic V
    (an undefined function of the states) and for V(s) = c·s.
    """
    r, _ = segment()
    states = sp.symbols(f"s_0:{T + 1}", real=True)
    for critic in (ARBITRARY_CRITIC, LINEAR_CRITIC):
        critic_values = [critic(s) for s in states]
        advantages = lineage.gae(**lineage_segment(r, critic_values), gamma=GAMMA, lam=0)
        for t in range(T):
            correct = r[t] + GAMMA * critic(states[t + 1]) - critic(states[t])
            estimators = [k_step_advantage(r, critic_values, t, k) for k in range(1, T - t + 1)]
            average = truncated_lambda_average(estimators).subs(LAM, 0)
            assert_vanishes(average - correct, f"GAE-8, V={critic}, t={t}: λ = 0 average of A^(k)")
            assert_vanishes(advantages[t] - correct, f"GAE-8, V={critic}, t={t}: lineage's GAE at λ = 0")


@pytest.mark.refutes("PPO-14")
def test_printed_gae_recursion_is_lambda_one_gae() -> None:
    """PPO-14 (notes §PPO): the printed A_t = δ_t + γA_{t+1}, A_T = 0, is Σ_l γ^l δ_{t+l}, lineage's GAE at λ = 1.

    It therefore differs from lineage's GAE(γ, λ) at every t < T − 1 (at t = T − 1 both are δ_{T−1}).
    """
    r, V = segment()
    seg = lineage_segment(r, V)
    deltas = td_errors(r, V)
    printed = backward_advantages(deltas, GAMMA)
    lambda_one = lineage.gae(**seg, gamma=GAMMA, lam=1)
    gae = lineage.gae(**seg, gamma=GAMMA, lam=LAM)
    witness = rollout_instance(r, V, [1] * T, [0] * (T + 1), gamma=TEACHING_GAMMA, lam=sp.Rational(1, 2))
    for t in range(T):
        assert_vanishes(printed[t] - discounted_sum(deltas[t:], GAMMA), f"PPO-14, t={t}: printed = λ=1 sum")
        assert_vanishes(printed[t] - lambda_one[t], f"PPO-14, t={t}: printed = lineage's GAE(γ, 1)")
    for t in range(T - 1):
        assert_persists(printed[t] - gae[t], f"PPO-14, t={t}: printed recursion vs lineage's GAE", witness)


@pytest.mark.refutes("PPO-14")
def test_teaching_counterexample_tc14() -> None:
    """PPO-14 (notes §PPO), TC-14: λ = 0, r = (1, 0), V = (1/2, 1/5, 0), γ = 9/10: A_0 = 17/25, printed 1/2.

    lineage's GAE on these exact numbers gives A_0 = δ_0 = 1 + 9/10 · 1/5 − 1/2; the printed recursion adds
    γδ_1 = −9/50.
    """
    r, V = segment(2)
    tc14_rewards, tc14_values = (1, 0), (sp.Rational(1, 2), sp.Rational(1, 5), 0)
    instance = rollout_instance(r, V, tc14_rewards, tc14_values, gamma=TEACHING_GAMMA, lam=0)
    deltas = td_errors(r, V)
    correct = lineage.gae(**lineage_segment(tc14_rewards, tc14_values), gamma=TEACHING_GAMMA, lam=0)[0]
    printed = backward_advantages(deltas, GAMMA)[0]
    assert_persists(printed - backward_advantages(deltas, GAMMA * LAM)[0], "TC-14: printed vs correct A_0", instance)
    assert correct == sp.Rational(17, 25) == deltas[0].subs(instance)
    assert printed.subs(instance) == sp.Rational(1, 2)
