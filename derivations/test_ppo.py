"""PPO's objectives, symbolically: the piecewise form of the clipped term (PPO-5), the gradient of the penalised
objective at the old policy (PPO-4) and the gradient of a softmax policy's entropy (STD-PPO-4).

Softmax policies over three actions are written with x_a = e^{θ_a} (positive symbols): π_a = x_a / Σ_b x_b, and
∂/∂θ_a = x_a·∂/∂x_a, so every gradient is a rational function in the x's (and their logarithms) that ``cancel``
decides.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from .residual import assert_vanishes

ACTIONS = range(3)
X = sp.symbols("x_0:3", positive=True)  # e^{θ_a} of the new policy
X_OLD = sp.symbols("k_0:3", positive=True)  # e^{θ_k,a} of the old policy
ADVANTAGE = sp.symbols("A_0:3", real=True)
BETA = sp.Symbol("beta", positive=True)


def softmax(weights) -> list[sp.Expr]:
    total = sp.Add(*weights)
    return [w / total for w in weights]


def logit_gradient(expr: sp.Expr, weights=X) -> list[sp.Expr]:
    """∂ expr / ∂θ_a = x_a·∂ expr / ∂x_a for each action a."""
    return [w * sp.diff(expr, w) for w in weights]


def at_old_policy(expr: sp.Expr) -> sp.Expr:
    """θ = θ_k: x_a ↦ k_a."""
    return expr.subs(dict(zip(X, X_OLD, strict=True)), simultaneous=True)


# ------------------------------------------------------------------------------------------------
# PPO-5
# ------------------------------------------------------------------------------------------------
def notes_clip(x: sp.Expr, low: sp.Expr, high: sp.Expr) -> sp.Expr:
    """The notes' clip(x, l, r) = max(min(x, r), l)."""
    return sp.Max(sp.Min(x, high), low)


def clip_term(ratio: sp.Expr, advantage: sp.Expr, eps: sp.Expr) -> sp.Expr:
    """min(rA, clip(r, 1 − ε, 1 + ε)A)."""
    return sp.Min(ratio * advantage, notes_clip(ratio, 1 - eps, 1 + eps) * advantage)


def piecewise_term(ratio: sp.Expr, advantage: sp.Expr, eps: sp.Expr) -> sp.Expr:
    """A·min(r, 1 + ε) if A ≥ 0, A·max(r, 1 − ε) if A < 0."""
    return sp.Piecewise(
        (advantage * sp.Min(ratio, 1 + eps), advantage >= 0), (advantage * sp.Max(ratio, 1 - eps), True)
    )


@pytest.mark.claim("PPO-5")
def test_clipped_term_is_piecewise_on_a_rational_grid() -> None:
    """PPO-5 (notes §PPO): min(rA, clip(r, 1 − ε, 1 + ε)A) = A·min(r, 1 + ε) for A ≥ 0 and A·max(r, 1 − ε) for A < 0,
    exactly, on every (r, A, ε) of a rational grid that includes r = 1 ± ε, r = 0 and A = 0."""
    for eps in (sp.Rational(1, 10), sp.Rational(1, 5), sp.Rational(1, 2)):
        ratios = (0, sp.Rational(1, 4), 1 - eps, sp.Rational(9, 10), 1, 1 + eps, sp.Rational(3, 2), 3)
        for ratio, advantage in itertools.product(ratios, (-2, sp.Rational(-1, 2), 0, sp.Rational(1, 3), 3)):
            residual = clip_term(ratio, advantage, eps) - piecewise_term(ratio, advantage, eps)
            assert_vanishes(residual, f"PPO-5 at r={ratio}, A={advantage}, ε={eps}")


@pytest.mark.claim("PPO-5")
def test_clipped_term_is_piecewise_for_symbolic_eps_and_advantage() -> None:
    """PPO-5 (notes §PPO): with ε > 0 and |A| > 0 symbolic, r = 1 + c·ε on a grid of c (inside, on the edges of and
    outside the band on both sides), the min form equals the piecewise form for A = +a and A = −a."""
    eps, size = sp.symbols("epsilon a", positive=True)
    for c in (-3, -1, sp.Rational(-1, 2), 0, sp.Rational(1, 2), 1, 2):
        ratio = 1 + c * eps
        for advantage in (size, -size):
            residual = clip_term(ratio, advantage, eps) - piecewise_term(ratio, advantage, eps)
            assert_vanishes(residual, f"PPO-5 at r = 1 + ({c})ε, A = {advantage}")


# ------------------------------------------------------------------------------------------------
# PPO-4
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("PPO-4")
def test_penalised_objective_gradient_at_the_old_policy_is_the_policy_gradient() -> None:
    """PPO-4 (notes §PPO): for a 3-action softmax, E_{a~π_k}[(π_θ/π_k)·A] − β·KL(π_k ‖ π_θ) has at θ = θ_k the
    gradient of Σ_a π_θ A, π_k,a(A_a − Σ_b π_k,b A_b), for every β and A: the KL term's gradient vanishes there."""
    pi, pi_old = softmax(X), softmax(X_OLD)
    surrogate = sp.Add(*(pi_old[a] * (pi[a] / pi_old[a]) * ADVANTAGE[a] for a in ACTIONS))
    kl = sp.Add(*(pi_old[a] * (sp.log(pi_old[a]) - sp.log(pi[a])) for a in ACTIONS))
    mean_advantage = sp.Add(*(pi_old[b] * ADVANTAGE[b] for b in ACTIONS))
    objective_gradient = logit_gradient(surrogate - BETA * kl)
    kl_gradient = logit_gradient(kl)
    for a in ACTIONS:
        policy_gradient = pi_old[a] * (ADVANTAGE[a] - mean_advantage)
        assert_vanishes(at_old_policy(kl_gradient[a]), f"PPO-4: ∂KL/∂θ_{a} at θ_k")
        assert_vanishes(at_old_policy(objective_gradient[a]) - policy_gradient, f"PPO-4: ∂L/∂θ_{a} at θ_k vs PG")
    assert_vanishes(at_old_policy(kl), "PPO-4: KL(π_k ‖ π_k)")


# ------------------------------------------------------------------------------------------------
# STD-PPO-4
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("STD-PPO-4")
def test_entropy_gradient_of_a_softmax_policy() -> None:
    """STD-PPO-4 (notes §PPO): H = −Σ_a π_a log π_a has ∂H/∂θ_a = −π_a(log π_a + H) for a 3-action softmax."""
    pi = softmax(X)
    entropy = -sp.Add(*(p * sp.log(p) for p in pi))
    for a, derivative in zip(ACTIONS, logit_gradient(entropy), strict=True):
        residual = derivative + pi[a] * (sp.log(pi[a]) + entropy)
        assert_vanishes(sp.expand_log(residual, force=True), f"STD-PPO-4: ∂H/∂θ_{a}")
