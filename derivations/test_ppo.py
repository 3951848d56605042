"""PPO's objectives on lineage's losses evaluated on symbols: the piecewise form of the clipped term (PPO-5), the
gradient of the penalised objective at the old policy (PPO-4), the expectations of the KL estimators (STD-KL-1) and
the gradient of a softmax policy's entropy (STD-PPO-4).

Softmax policies over three actions are written with x_a = e^{θ_a} (positive symbols): lineage gets the logits
θ_a = log x_a, π_a = x_a / Σ_b x_b, and ∂/∂θ_a = x_a·∂/∂x_a, so every gradient is a rational function in the x's
(and their logarithms) that ``cancel`` decides.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from lineage import ppo

from .residual import assert_persists, assert_vanishes, symbolic_array

ACTIONS = range(3)
X = sp.symbols("x_0:3", positive=True)  # e^{θ_a} of the new policy
X_OLD = sp.symbols("k_0:3", positive=True)  # e^{θ_k,a} of the old policy
ADVANTAGE = sp.symbols("A_0:3", real=True)
BETA = sp.Symbol("beta", positive=True)
OLD_LOGP = sp.Symbol("ell", real=True)  # log π_old(a|s) of every clipped sample: only the ratio matters


def softmax(weights) -> list[sp.Expr]:
    total = sp.Add(*weights)
    return [w / total for w in weights]


def logits(weights, rows: int = 1) -> np.ndarray:
    """The logits log x_a of the policy with weights x_a, repeated on ``rows`` rows: lineage's [N, K] input."""
    return np.array([[sp.log(w) for w in weights]] * rows, dtype=object)


def logit_gradient(expr: sp.Expr, weights=X) -> list[sp.Expr]:
    """∂ expr / ∂θ_a = x_a·∂ expr / ∂x_a for each action a."""
    return [w * sp.diff(expr, w) for w in weights]


def at_old_policy(expr: sp.Expr) -> sp.Expr:
    """θ = θ_k: x_a ↦ k_a."""
    return expr.subs(dict(zip(X, X_OLD, strict=True)), simultaneous=True)


def expected_under_old_policy(per_action) -> sp.Expr:
    """E_{a~π_old}[f(a)] = Σ_a π_old(a) f(a), for per-action values f(0), f(1), f(2)."""
    return sp.Add(*(p * f for p, f in zip(softmax(X_OLD), per_action, strict=True)))


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


def assert_clipped_surrogate_is_piecewise(ratios, advantages, eps) -> None:
    """lineage's clipped term of each sample (log π_old = ℓ, log π_new = ℓ + log ρ) is the notes' min form and the
    piecewise form, and lineage's loss is minus their mean."""
    logp_old = symbolic_array([OLD_LOGP] * len(ratios))
    logp_new = symbolic_array([OLD_LOGP + sp.log(ratio) for ratio in ratios])
    arguments = {"logp_new": logp_new, "logp_old": logp_old, "advantages": symbolic_array(advantages)}
    terms = ppo.clipped_surrogate(**arguments, clip_eps=eps)
    for term, ratio, advantage in zip(terms, ratios, advantages, strict=True):
        where = f"r={ratio}, A={advantage}, ε={eps}"
        assert_vanishes(term - clip_term(ratio, advantage, eps), f"PPO-5 at {where}: min form")
        assert_vanishes(term - piecewise_term(ratio, advantage, eps), f"PPO-5 at {where}: piecewise form")
    mean = sp.Add(*(piecewise_term(r, a, eps) for r, a in zip(ratios, advantages, strict=True))) / len(ratios)
    assert_vanishes(ppo.ppo_clip_loss(**arguments, clip_eps=eps)[()] + mean, f"PPO-5, ε={eps}: loss")


@pytest.mark.claim("PPO-5")
def test_clipped_term_is_piecewise_on_a_rational_grid() -> None:
    """PPO-5 (notes §PPO): lineage's clipped term is min(rA, clip(r, 1 − ε, 1 + ε)A) = A·min(r, 1 + ε) for A ≥ 0 and
    A·max(r, 1 − ε) for A < 0, exactly, on every (r, A, ε) of a rational grid that includes r = 1 ± ε and A = 0."""
    for eps in (sp.Rational(1, 10), sp.Rational(1, 5), sp.Rational(1, 2)):
        ratios = (sp.Rational(1, 20), sp.Rational(1, 4), 1 - eps, sp.Rational(9, 10), 1, 1 + eps, sp.Rational(3, 2), 3)
        grid = list(itertools.product(ratios, (-2, sp.Rational(-1, 2), 0, sp.Rational(1, 3), 3)))
        assert_clipped_surrogate_is_piecewise([r for r, _ in grid], [a for _, a in grid], eps)


@pytest.mark.claim("PPO-5")
def test_clipped_term_is_piecewise_for_symbolic_eps_and_advantage() -> None:
    """PPO-5 (notes §PPO): with ε > 0 and |A| > 0 symbolic, lineage's clipped term equals the min form and the
    piecewise form for A = +a and A = −a, at r = 1 + c·ε inside and on the edges of the band (a grid of c) and at
    r = 1 ± (ε + u), u > 0, on both sides outside it."""
    eps, size, excess = sp.symbols("epsilon a u", positive=True)
    inside = [1 + c * eps for c in (-1, sp.Rational(-1, 2), 0, sp.Rational(1, 2), 1)]
    ratios = [*inside, 1 + eps + excess, 1 - eps - excess]
    for advantage in (size, -size):
        assert_clipped_surrogate_is_piecewise(ratios, [advantage] * len(ratios), eps)


# ------------------------------------------------------------------------------------------------
# PPO-4
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("PPO-4")
def test_penalised_objective_gradient_at_the_old_policy_is_the_policy_gradient() -> None:
    """PPO-4 (notes §PPO): for a 3-action softmax, E_{a~π_k}[(π_θ/π_k)·A] − β·KL(π_k ‖ π_θ) has at θ = θ_k the
    gradient of Σ_a π_θ A, π_k,a(A_a − Σ_b π_k,b A_b), for every β and A: the KL term's gradient vanishes there.

    The objective is the π_k-expectation of lineage's penalised surrogate (one sample per action), which must first
    be the notes' (π_θ,a/π_k,a)·A_a − β·Σ_b π_k,b log(π_k,b/π_θ,b) at every θ; the KL is lineage's categorical KL.
    """
    pi, pi_old = softmax(X), softmax(X_OLD)
    surrogate = ppo.penalized_surrogate(
        logits(X, 3), logits(X_OLD, 3), np.arange(3), symbolic_array(ADVANTAGE), beta=BETA
    )
    kl = ppo.categorical_kl(logits(X_OLD), logits(X))[0]
    notes_kl = sp.Add(*(q * sp.log(q / p) for p, q in zip(pi, pi_old, strict=True)))
    mean_advantage = sp.Add(*(pi_old[b] * ADVANTAGE[b] for b in ACTIONS))
    objective_gradient = logit_gradient(expected_under_old_policy(surrogate))
    kl_gradient = logit_gradient(kl)
    for a in ACTIONS:
        notes_term = pi[a] / pi_old[a] * ADVANTAGE[a] - BETA * notes_kl
        assert_vanishes(sp.expand_log(surrogate[a] - notes_term, force=True), f"PPO-4: L^KLPEN of action {a}")
        policy_gradient = pi_old[a] * (ADVANTAGE[a] - mean_advantage)
        assert_vanishes(at_old_policy(kl_gradient[a]), f"PPO-4: ∂KL/∂θ_{a} at θ_k")
        assert_vanishes(at_old_policy(objective_gradient[a]) - policy_gradient, f"PPO-4: ∂L/∂θ_{a} at θ_k vs PG")
    assert_vanishes(at_old_policy(kl), "PPO-4: KL(π_k ‖ π_k)")


# ------------------------------------------------------------------------------------------------
# STD-KL-1
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("STD-KL-1")
def test_k1_and_k3_are_unbiased_and_k2_is_not() -> None:
    """STD-KL-1 (notes §PPO): for x ~ π_old, lineage's k1 = −log r and k3 = (r − 1) − log r have expectation
    KL(π_old ‖ π_new) = Σ_x π_old(x) log(π_old(x)/π_new(x)) exactly, and k2 = ½(log r)² does not (3-action softmax,
    r = π_new/π_old; already for a uniform π_old and weights (x_0, 1, 1), with a nonzero bias at x_0 = 2). lineage's
    categorical KL is that KL.
    """
    pi, pi_old = softmax(X), softmax(X_OLD)
    kl = sp.Add(*(q * sp.log(q / p) for p, q in zip(pi, pi_old, strict=True)))
    logp_new = symbolic_array([sp.log(p) for p in pi])
    logp_old = symbolic_array([sp.log(q) for q in pi_old])

    def bias(estimator) -> sp.Expr:
        return sp.expand_log(expected_under_old_policy(estimator(logp_new, logp_old)) - kl, force=True)

    assert_vanishes(bias(ppo.kl_k1), "STD-KL-1: E[k1] − KL")
    assert_vanishes(bias(ppo.kl_k3), "STD-KL-1: E[k3] − KL")
    one_weight_moves = dict(zip(X[1:] + X_OLD, (1, 1, 1, 1, 1), strict=True))
    assert_persists(bias(ppo.kl_k2).subs(one_weight_moves), "STD-KL-1: E[k2] − KL", {X[0]: 2})
    categorical = ppo.categorical_kl(logits(X_OLD), logits(X))[0]
    assert_vanishes(sp.expand_log(categorical - kl, force=True), "STD-KL-1: lineage's categorical KL")


# ------------------------------------------------------------------------------------------------
# STD-PPO-4
# ------------------------------------------------------------------------------------------------
@pytest.mark.claim("STD-PPO-4")
def test_entropy_gradient_of_a_softmax_policy() -> None:
    """STD-PPO-4 (notes §PPO): lineage's entropy H = −Σ_a π_a log π_a of a 3-action softmax has
    ∂H/∂θ_a = −π_a(log π_a + H)."""
    pi = softmax(X)
    entropy = ppo.categorical_entropy(logits(X))[0]
    closed_form = -sp.Add(*(p * sp.log(p) for p in pi))
    assert_vanishes(sp.expand_log(entropy - closed_form, force=True), "STD-PPO-4: H")
    for a, derivative in zip(ACTIONS, logit_gradient(entropy), strict=True):
        residual = derivative + pi[a] * (sp.log(pi[a]) + closed_form)
        assert_vanishes(sp.expand_log(residual, force=True), f"STD-PPO-4: ∂H/∂θ_{a}")
