"""Algorithm runs on exact tabular MDPs (notes §PG, §TRPO; claims PG-2, STD-NG-3, STD-TRPO-2): natural policy gradient
from the uniform policy, exact softmax gradient ascent with step (1 − γ)³/8, and TRPO's minorise-maximise algorithm.

Every quantity is exact (linear solves): V^π, A^π, ν^π, J, V* (policy iteration) and the closed-form gradients. The
runs are short in the default profile; the long gradient-ascent run that approaches J* is ``thorough``.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import softmax_logits, tabular_mdps
from lineage.tabular import (
    TabularMDP,
    advantages,
    natural_policy_gradient,
    npg_update,
    objective,
    optimal_values,
    random_mdp,
    softmax,
    softmax_policy_gradient,
    state_values,
    state_visitation,
)
from properties.assertions import assert_at_least, assert_identity, value_atol

# Short runs: every step costs a few exact solves, and the default run has a budget of CPU seconds.
NPG_STEPS = 3  # NPG iterations from the uniform policy
ASCENT_STEPS = 2  # exact gradient-ascent steps
MM_ITERATIONS = 3  # iterations of TRPO's MM algorithm
NPG_STEP_SIZES = st.one_of(st.sampled_from([0.1, 10.0]), st.floats(0.1, 10.0))  # η of NPG, both ends drawn
# log10 of the size of a random move of the logits: small moves have M_π(π') > J(π) (gain O(s), KL penalty O(s²))
LOG_SCALES = st.one_of(st.sampled_from([-4.0, 0.5]), st.floats(-4.0, 0.5))
MM_STEP_SIZES = np.concatenate([[0.0], 2.0 ** -np.arange(12)])  # candidates θ_i + η·w along the natural gradient
# The thorough runs on seeded MDPs: long exact gradient ascent from θ = 0 (PG-2), and long NPG and MM runs.
LONG_RUN_STEPS = 5000
# Loose thresholds after LONG_RUN_STEPS steps, from θ = 0: J* − J_T ≤ 0.15·R_max/(1 − γ) (observed on the 8 seeds:
# ≤ 0.09) and J* − J_T ≤ ½(J* − J_0) (observed: ≤ 0.28 of the starting gap, which is 0.16..0.41·R_max/(1 − γ)).
LONG_RUN_GAP = 0.15
LONG_RUN_SHRINK = 0.5
LONG_NPG_STEPS = 1000  # with η = 1 the rate bound is below V*(s) in every state from t = 3..9 on these seeds
LONG_MM_ITERATIONS = 50


@cache
def unit_box(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays in [−1, 1]^shape, one strategy object per shape (Hypothesis validates each new one)."""
    return arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False))


def unit_reward_mdps() -> st.SearchStrategy[TabularMDP]:
    """The tiny MDPs of PG-2 (and of the NPG bound): S ≤ 4, A ≤ 3, γ ≤ 0.8, R ∈ [0, 1], ν0 > 0."""
    return tabular_mdps(max_states=4, max_actions=3, max_gamma=0.8, reward_range=(0.0, 1.0))


def minorant(
    mdp: TabularMDP, pi: np.ndarray, value: float, advantage: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """M_π(π') = L_π(π') − C·max_s KL(π(·|s) ‖ π'(·|s)) for each π' of ``candidates`` [K, S, A], with the surrogate
    L_π(π') = J(π) + 1/(1 − γ) Σ_s ν^π(s) Σ_a π'(a|s) A^π(s, a) and C = 4εγ/(1 − γ)², ε = max|A^π| (TRPO
    Theorem 1); ``value`` is J(π) and ``advantage`` A^π."""
    weights = state_visitation(mdp, pi)[:, None] * advantage / (1.0 - mdp.gamma)
    penalty = 4.0 * float(np.abs(advantage).max()) * mdp.gamma / (1.0 - mdp.gamma) ** 2
    max_kl = (pi * (np.log(pi) - np.log(candidates))).sum(axis=-1).max(axis=-1)
    return value + np.einsum("sa,ksa->k", weights, candidates) - penalty * max_kl


@pytest.mark.claim("STD-NG-3", "PG-2", "STD-TRPO-2")
@given(data=st.data(), mdp=unit_reward_mdps())
def test_npg_gradient_ascent_and_mm_runs_never_lose_value(data, mdp):
    """STD-NG-3, PG-2, STD-TRPO-2 (notes §TRPO, §PG) on one draw of a tiny MDP with rewards in [0, 1]: each run is
    checked by its helper below (NPG from the uniform policy, exact gradient ascent with η = (1 − γ)³/8, TRPO's
    MM algorithm along the natural gradient, and its one-step guarantee for an arbitrary π')."""
    eta = data.draw(NPG_STEP_SIZES, label="eta")
    theta = data.draw(softmax_logits(mdp), label="theta")
    noise = data.draw(unit_box((mdp.n_states, mdp.n_actions)), label="noise")
    scale = 10.0 ** data.draw(LOG_SCALES, label="log10 scale")
    check_npg_is_monotone_and_meets_the_rate_bound(mdp, eta)
    check_gradient_ascent_climbs_by_the_ascent_lemma(mdp, theta)
    check_mm_algorithm_is_monotone(mdp, softmax(theta), noise)
    check_minorant_bounds_the_improvement(mdp, softmax(theta), softmax(theta + scale * noise))


def check_npg_is_monotone_and_meets_the_rate_bound(mdp: TabularMDP, eta: float, steps: int = NPG_STEPS) -> None:
    """STD-NG-3 (Agarwal et al. 2021, §5.3): NPG π_{t+1} ∝ π_t·exp(η A^{π_t}/(1 − γ)) from the uniform π_0, rewards in
    [0, 1]: V^{(t)} is non-decreasing in every state, never above V* (lineage's policy iteration, which solves the
    Bellman optimality equation), and V^{(t)}(s) ≥ V*(s) − log|A|/(ηt) − 1/((1 − γ)²t) for every start state s (the
    bound holds for every ρ, point masses included)."""
    atol = value_atol(mdp)
    optimal = optimal_values(mdp)
    bellman = (mdp.R + mdp.gamma * mdp.P @ optimal).max(axis=1)
    assert_identity(optimal, bellman, atol=atol, what="V* = max_a (R + γPV*)")
    pi = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    values = [state_values(mdp, pi)]
    for _ in range(steps):
        pi = npg_update(mdp, pi, eta)
        values.append(state_values(mdp, pi))
    values = np.array(values)  # [t, s] = V^(t)(s); the worst index of a failure is (t − 1, s)
    assert_at_least(values[1:], values[:-1], atol=atol, what="NPG: V^(t) ≥ V^(t−1)")
    assert_at_least(optimal, values[1:], atol=atol, what="NPG: V* ≥ V^(t)")
    t = np.arange(1, steps + 1)[:, None]
    rate = math.log(mdp.n_actions) / (eta * t) + 1.0 / ((1.0 - mdp.gamma) ** 2 * t)
    assert_at_least(values[1:], optimal - rate, atol=atol, what="NPG: V^(t) ≥ V* − log|A|/(ηt) − 1/((1 − γ)²t)")


def check_gradient_ascent_climbs_by_the_ascent_lemma(mdp: TabularMDP, theta: np.ndarray) -> None:
    """PG-2 (Agarwal et al. 2021; Mei et al. 2020): J of the tabular softmax with rewards in [0, 1] is
    β-smooth with β = 8/(1 − γ)³, so the exact step θ ← θ + η∇J with η = 1/β = (1 − γ)³/8 gains at least
    (η/2)‖∇J‖²: J_t is non-decreasing at every step (from any start θ)."""
    step = (1.0 - mdp.gamma) ** 3 / 8.0
    atol = value_atol(mdp)
    values, gains = [objective(mdp, softmax(theta))], []
    for _ in range(ASCENT_STEPS):
        gradient = softmax_policy_gradient(mdp, theta)
        theta = theta + step * gradient
        values.append(objective(mdp, softmax(theta)))
        gains.append(0.5 * step * float((gradient**2).sum()))
    assert_at_least(np.diff(values), gains, atol=atol, what="ascent: J_t − J_(t−1) ≥ (η/2)‖∇J(θ_(t−1))‖²")


def check_mm_algorithm_is_monotone(
    mdp: TabularMDP, pi: np.ndarray, noise: np.ndarray, iterations: int = MM_ITERATIONS
) -> None:
    """STD-TRPO-2 (Schulman et al. 2015, Algorithm 1): at each iteration the candidates softmax(log π_i + η·u) along
    lineage's natural gradient u = w and along a random direction u = ``noise`` (η = 0 included, which keeps π_i
    with M_i = η(π_i)) are ranked by the minorant
    M_i(π') = L_{π_i}(π') − C·D_KL^max(π_i, π'); the best one becomes π_{i+1}. Then
    J(π_{i+1}) − J(π_i) ≥ M_i(π_{i+1}) − J(π_i) ≥ 0: J never decreases."""
    atol = value_atol(mdp)
    values, accepted = [objective(mdp, pi)], []
    for _ in range(iterations):
        direction = natural_policy_gradient(mdp, np.log(pi))  # A^{π_i}/(1 − γ)
        moves = np.concatenate([MM_STEP_SIZES[:, None, None] * direction, MM_STEP_SIZES[1:, None, None] * noise])
        candidates = softmax(np.log(pi) + moves)
        bounds = minorant(mdp, pi, values[-1], (1.0 - mdp.gamma) * direction, candidates)
        best = int(np.argmax(bounds))
        pi = candidates[best]
        accepted.append(bounds[best])
        values.append(objective(mdp, pi))
    values, accepted = np.array(values), np.array(accepted)  # a failure's worst index is the iteration i − 1
    assert_at_least(accepted, values[:-1], atol=atol, what="MM: M_i(π_(i+1)) ≥ M_i(π_i) = η(π_i)")
    assert_at_least(np.diff(values), accepted - values[:-1], atol=atol, what="MM: η(π_(i+1)) − η(π_i) ≥ M_i gain")
    assert_at_least(values[1:], values[:-1], atol=atol, what="MM: J(π_(i+1)) ≥ J(π_i)")


def check_minorant_bounds_the_improvement(mdp: TabularMDP, pi: np.ndarray, pi_new: np.ndarray) -> None:
    """STD-TRPO-2 (one step): for any π', J(π') − J(π) ≥ M_π(π') − J(π), so M_π(π') > J(π) ⇒ J(π') > J(π)."""
    atol = value_atol(mdp)
    value, new_value = objective(mdp, pi), objective(mdp, pi_new)
    bound = float(minorant(mdp, pi, value, advantages(mdp, pi), pi_new[None])[0])
    assert_at_least(new_value - value, bound - value, atol=atol, what="J(π') − J(π) ≥ M_π(π') − J(π)")
    if bound > value + atol:
        assert new_value > value, (new_value, value, bound)


def seeded_unit_reward_mdp(seed: int) -> TabularMDP:
    """A random MDP of the PG-2 class from ``seed``: S ≤ 4, A ≤ 3, γ ≤ 0.8, rewards mapped from [−1, 1] to [0, 1]."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 4)))
    mdp = random_mdp(rng, *shape, gamma=float(rng.uniform(0.0, 0.8)))
    return TabularMDP(mdp.P, (mdp.R + 1.0) / 2.0, mdp.nu0, mdp.gamma)


@pytest.mark.thorough
@pytest.mark.claim("PG-2")
@pytest.mark.parametrize("seed", range(8))
def test_long_gradient_ascent_approaches_the_optimum(seed):
    """PG-2 (notes §PG; Agarwal et al. 2021, Theorem 5.1, asymptotic): exact softmax gradient ascent from θ = 0 with
    η = (1 − γ)³/8 never loses value and, after 5000 steps, is within 0.15·R_max/(1 − γ) of J* = ν0ᵀV* and has
    closed at least half of its starting gap J* − J_0 (loose thresholds: the theorem gives convergence without a rate
    for this step)."""
    mdp = seeded_unit_reward_mdp(seed)
    step = (1.0 - mdp.gamma) ** 3 / 8.0
    atol = value_atol(mdp)
    theta = np.zeros((mdp.n_states, mdp.n_actions))
    values = [objective(mdp, softmax(theta))]
    for _ in range(LONG_RUN_STEPS):
        theta = theta + step * softmax_policy_gradient(mdp, theta)
        values.append(objective(mdp, softmax(theta)))
    values = np.array(values)
    assert_at_least(values[1:], values[:-1], atol=atol, what="ascent: J_t ≥ J_(t−1)")
    best = float(mdp.nu0 @ optimal_values(mdp))
    scale = float(np.abs(mdp.R).max()) / (1.0 - mdp.gamma)
    assert_at_least(values[-1], best - LONG_RUN_GAP * scale, atol=0.0, what=f"J_T vs J* after {LONG_RUN_STEPS} steps")
    shrunk = best - LONG_RUN_SHRINK * (best - values[0])
    assert_at_least(values[-1], shrunk, atol=0.0, what="J* − J_T ≤ ½(J* − J_0)")


@pytest.mark.thorough
@pytest.mark.claim("STD-NG-3", "STD-TRPO-2")
@pytest.mark.parametrize("seed", range(8))
def test_long_npg_and_mm_runs(seed):
    """STD-NG-3, STD-TRPO-2 (notes §TRPO): the checks of the default run over long runs on seeded MDPs: 1000 NPG steps
    (η = 1) from the uniform policy, where the rate bound V* − log|A|/(ηT) − 1/((1 − γ)²T) is no longer vacuous, and
    50 iterations of the MM algorithm from a random policy, with candidates along the natural gradient and a random
    direction."""
    mdp = seeded_unit_reward_mdp(seed)
    rng = np.random.default_rng(seed + 1000)
    shape = (mdp.n_states, mdp.n_actions)
    check_npg_is_monotone_and_meets_the_rate_bound(mdp, 1.0, LONG_NPG_STEPS)
    pi = softmax(rng.uniform(-4.0, 4.0, size=shape))
    check_mm_algorithm_is_monotone(mdp, pi, rng.uniform(-1.0, 1.0, size=shape), LONG_MM_ITERATIONS)
