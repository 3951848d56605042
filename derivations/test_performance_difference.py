"""The performance-difference lemma, exactly: on a 2-state, 2-action MDP with rational dynamics and a
policy that is symbolic on state s0, J(π') − J(π) and the visitation form (1/(1 − γ)) E_{ν^{π'}} E_{π'}[A^π]
are the same rational function of (p, q, γ) (TRPO-5, TRPO-7)."""

from __future__ import annotations

import pytest
import sympy as sp

from .residual import GAMMA, assert_persists, assert_vanishes


def _dist(*weights: int) -> tuple[sp.Rational, ...]:
    """The probability distribution proportional to the integer ``weights``."""
    return tuple(sp.Rational(w, sum(weights)) for w in weights)


P = ((_dist(3, 1), _dist(1, 4)), (_dist(1, 1), _dist(1, 2)))  # P[s][a][s']
R = ((1, 0), (sp.Rational(1, 2), 2))  # R[s][a], expected reward
NU0 = sp.Matrix(_dist(2, 1))  # distribution of s_0
FIXED_S1 = _dist(1, 3)  # π(·|s1) for both policies
STATES = ACTIONS = range(2)


def _policy(p: sp.Expr) -> sp.Matrix:
    """π(a|s) with π(a0|s0) = p on s0 and the fixed π(·|s1) = (1/4, 3/4)."""
    return sp.Matrix([[p, 1 - p], FIXED_S1])


def _transition(pi: sp.Matrix) -> sp.Matrix:
    """P_π[s, s'] = Σ_a π(a|s) P(s'|s, a)."""
    return sp.Matrix(2, 2, lambda s, s2: sum(pi[s, a] * P[s][a][s2] for a in ACTIONS))


def _value(pi: sp.Matrix) -> sp.Matrix:
    """V^π = (I − γP_π)⁻¹ r_π with r_π(s) = Σ_a π(a|s) R(s, a)."""
    r_pi = sp.Matrix([sum(pi[s, a] * R[s][a] for a in ACTIONS) for s in STATES])
    return (sp.eye(2) - GAMMA * _transition(pi)).inv() * r_pi


def _visitation(pi: sp.Matrix) -> sp.Matrix:
    """ν^π = (1 − γ)(I − γP_πᵀ)⁻¹ ν0, the normalised discounted state visitation."""
    return (1 - GAMMA) * (sp.eye(2) - GAMMA * _transition(pi).T).inv() * NU0


def _advantage(value: sp.Matrix) -> sp.Matrix:
    """A(s, a) = Q(s, a) − V(s) with Q(s, a) = R(s, a) + γ Σ_{s'} P(s'|s, a) V(s')."""

    def q(s: int, a: int) -> sp.Expr:
        return R[s][a] + GAMMA * sum(P[s][a][s2] * value[s2] for s2 in STATES)

    return sp.Matrix(2, 2, lambda s, a: q(s, a) - value[s])


def _objective(pi: sp.Matrix) -> sp.Expr:
    """J(π) = ν0ᵀ V^π."""
    return (NU0.T * _value(pi))[0]


@pytest.mark.claim("TRPO-5", "TRPO-7")
def test_performance_difference_lemma_exact() -> None:
    """TRPO-5, TRPO-7 (notes §TRPO): J(π') − J(π) = (1/(1 − γ)) Σ_s ν^{π'}(s) Σ_a π'(a|s) A^π(s, a).

    π(a0|s0) = p (old), π'(a0|s0) = q (new); γ stays symbolic, so the identity holds for every γ at which
    I − γP is invertible. The gain itself is not identically 0, so the check cannot pass as 0 = 0.
    """
    p, q = sp.symbols("p q", positive=True)
    old, new = _policy(p), _policy(q)
    advantage, visitation = _advantage(_value(old)), _visitation(new)
    expected_advantage = sum(visitation[s] * new[s, a] * advantage[s, a] for s in STATES for a in ACTIONS)
    gain = _objective(new) - _objective(old)
    witness = {p: sp.Rational(1, 2), q: sp.Rational(1, 3), GAMMA: sp.Rational(9, 10)}
    assert_persists(gain, "TRPO-5: J(π') − J(π), which must not be identically 0", witness)
    assert_vanishes(gain - expected_advantage / (1 - GAMMA), "TRPO-5: performance difference")
