"""TRPO-13 (notes §TRPO): the KL-constrained surrogate problem, solved exactly on a one-state bandit, and TRPO's own
pieces measured against it.

    maximise L(π') = Σ_a π'(a) A(a)   subject to   KL(π ‖ π') ≤ δ

L is linear and KL(π ‖ ·) convex, so a stationary point of the Lagrangian is the global maximiser (TRPO eq. 12 with
one state; Schulman et al. 2015). Stationarity gives π'(a) = c·π(a)/(μ − A(a)) with μ > max A and c normalising;
along this family KL(π ‖ π'_μ) falls continuously from +∞ (μ ↓ max A: the mass piles on the best action) to 0
(μ → ∞: π' → π). The unconstrained maximiser, a point mass on the best action, is never feasible when π has full
support, so the constraint is active at the optimum: KL = δ, and bisection on μ finds it to adjacent floats.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.optim import natural_step, trpo_line_search
from lineage.ppo import categorical_kl
from lineage.tabular import categorical_fisher, softmax
from properties.assertions import EPS, assert_at_least, assert_identity


def kl_to(pi: np.ndarray, other: np.ndarray) -> float:
    """KL(π ‖ π') by lineage's categorical KL on log-probabilities (logits of themselves)."""
    return float(categorical_kl(np.log(pi), np.log(other)))


def kl_rounding(pi: np.ndarray, other: np.ndarray) -> float:
    """What rounding allows between two float64 evaluations of KL(π ‖ π'): each term π(a)(log π(a) − log π'(a)) is
    within a few eps of its logs' sizes, 8·eps·Σ_a π(a)(|log π(a)| + |log π'(a)| + 1)."""
    return 8 * EPS * float(pi @ (np.abs(np.log(pi)) + np.abs(np.log(other)) + 1.0))


def divergence(pi: np.ndarray, other: np.ndarray) -> float:
    """Σ_a π(a) log(π(a)/π'(a)) in plain numpy: the bisection's inner loop (lineage's KL checks the results)."""
    return float(pi @ np.log(pi / other))


def stationary_policy(pi: np.ndarray, advantages: np.ndarray, mu: float) -> np.ndarray:
    """π'_μ(a) ∝ π(a)/(μ − A(a)), the Lagrangian's stationary point for the multiplier μ > max A."""
    weights = pi / (mu - advantages)
    return weights / weights.sum()


def constrained_maximiser(pi: np.ndarray, advantages: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """The feasible end and the infeasible end of the bisection on μ: adjacent floats (or equal up to 1e-15
    relatively) with KL(π ‖ π'_hi) ≤ δ < KL(π ‖ π'_lo)."""
    top = float(advantages.max())
    lo, hi = top, top + 1.0
    while divergence(pi, stationary_policy(pi, advantages, hi)) > delta:
        lo, hi = hi, top + 2.0 * (hi - top)
    for _ in range(2000):
        mid = lo + (hi - lo) / 2
        if mid in (lo, hi):
            break
        if divergence(pi, stationary_policy(pi, advantages, mid)) > delta:
            lo = mid
        else:
            hi = mid
    infeasible = stationary_policy(pi, advantages, lo) if lo > top else None
    return stationary_policy(pi, advantages, hi), infeasible


@st.composite
def bandit_problems(draw):
    """π = softmax(logits in [−4, 4]) over 2–4 actions, advantages in [−1, 1] with a strictly best action, δ from a
    tiny trust region to a wide one."""
    n = draw(st.integers(2, 4), label="actions")
    logits = np.array(draw(st.lists(st.floats(-4, 4), min_size=n, max_size=n)), dtype=np.float64)
    advantages = np.array(draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n)), dtype=np.float64)
    advantages[draw(st.integers(0, n - 1))] = advantages.max() + draw(st.floats(0.01, 1.0))
    delta = draw(st.sampled_from([1e-4, 0.01]) | st.floats(1e-4, 0.5))
    return logits, advantages, delta


@pytest.mark.claim("TRPO-13")
@given(problem=bandit_problems(), noise=st.lists(st.floats(-3, 3), min_size=4, max_size=4))
def test_constrained_maximiser_and_the_trpo_step(problem, noise):
    """TRPO-13 (notes §TRPO): (i) the exact maximiser π* ∝ π/(μ − A) has the constraint active — KL(π ‖ π*) = δ to
    the bisection's resolution and rounding; (ii) no feasible policy drawn (π' = softmax(log π + t·noise), t halved
    until KL ≤ δ) has a larger surrogate; (iii) lineage's natural step (exact Fisher, x = A − E_π A solves Fx = ∇L)
    followed by lineage's line search lands inside the trust region, never below L(π) and never above L(π*)."""
    logits, advantages, delta = problem
    pi = softmax(logits)
    best, infeasible = constrained_maximiser(pi, advantages, delta)
    assert infeasible is not None, "the constraint is not active at the optimum"
    resolution = divergence(pi, infeasible) - divergence(pi, best)  # the bisection's gap in KL, ≥ 0
    assert_identity(kl_to(pi, best), delta, atol=kl_rounding(pi, best) + resolution, rtol=0.0, what="KL(π ‖ π*) vs δ")
    optimum = float(best @ advantages)
    rounding = 8 * EPS * float(np.abs(advantages).max())

    direction = np.array(noise[: len(pi)])
    t = 1.0
    while divergence(pi, softmax(np.log(pi) + t * direction)) > delta:
        t /= 2
    feasible = softmax(np.log(pi) + t * direction)
    assert_at_least(optimum, float(feasible @ advantages), atol=rounding, what="L(π*) vs a feasible L(π')")

    x = advantages - pi @ advantages
    step = natural_step(x, categorical_fisher(pi) @ x, max_kl=delta)
    theta = trpo_line_search(
        lambda th: float(softmax(th) @ advantages),
        lambda th: float(categorical_kl(logits, th)),
        logits,
        step,
        max_kl=delta,
        max_backtracks=10,
        backtrack_ratio=0.5,
    )
    accepted = softmax(theta)
    assert kl_to(pi, accepted) <= delta + kl_rounding(pi, accepted), (kl_to(pi, accepted), delta)
    assert_at_least(
        float(accepted @ advantages), float(pi @ advantages), atol=rounding, what="L after the step vs L(π)"
    )
    assert_at_least(optimum, float(accepted @ advantages), atol=rounding, what="L(π*) vs L after TRPO's step")
