"""The Fisher matrix, the natural gradient and TRPO's natural step on exact tabular quantities (notes §TRPO, §PG;
claims STD-NG-1, STD-NG-2, STD-NG-3, STD-PG-2).

The tabular softmax score comes from lineage's LinearSoftmaxPolicy with one-hot features φ(s, a) = e_{s·A+a}, whose
parameters are the flattened logits: ∇_θ log π(a|s) is then the tabular score, computed by a route that does not
share code with the closed-form Fisher matrix. Every identity is exact up to the rounding of a few linear solves.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import softmax_logits, tabular_mdps
from lineage.laws.tolerance import ROUNDING_FACTOR
from lineage.optim.natural import natural_step
from lineage.tabular import (
    LinearSoftmaxPolicy,
    TabularMDP,
    action_values,
    categorical_fisher,
    discounted_visitation,
    natural_policy_gradient,
    npg_update,
    optimal_values,
    random_mdp,
    softmax,
    softmax_fisher,
    softmax_policy_gradient,
    state_values,
    state_visitation,
)
from properties.assertions import DISTRIBUTION_ATOL, EPS, assert_at_least, assert_identity, solve_tolerance

DAMPINGS = (1e-1, 1e-3, 1e-5)  # c of the damped Fisher matrix F + cI, decreasing
SIZES = st.integers(1, 4)  # n of the trust-region problems
DAMPING = st.floats(0.1, 1.0)  # c of F = BBᵀ + cI
RADII = st.one_of(st.sampled_from([1e-4, 1.0]), st.floats(1e-4, 1.0))  # δ, both ends drawn
STEP_SIZES = st.one_of(st.sampled_from([0.0, 2.0]), st.floats(0.0, 2.0))  # η of the NPG update, both ends drawn


def tabular_score(logits: np.ndarray) -> np.ndarray:
    """[S, A, S·A]: ∇_θ log π(a|s) of the tabular softmax, from the one-hot linear-feature policy."""
    n_states, n_actions = logits.shape
    one_hot = np.eye(n_states * n_actions).reshape(n_states, n_actions, n_states * n_actions)
    return LinearSoftmaxPolicy(one_hot).score(logits.ravel())


def probability_floor(logits: np.ndarray) -> float:
    """A lower bound on min_{s,a} softmax(θ)[s, a] from the logits alone: π(a|s) ≥ exp(θ_{s,a} − max_b θ_{s,b}) / A."""
    return float(np.exp(logits - logits.max(axis=1, keepdims=True)).min()) / logits.shape[1]


def fisher_condition(mdp: TabularMDP, logits: np.ndarray) -> float:
    """A bound on the condition number of F on its range, from the inputs: the eigenvalues of F are ≤ max ν ≤ 1, and
    its nonzero ones are ≥ min_s ν(s)·min_a π(a|s) ≥ (1 − γ)·min ν0·min π (ν ≥ (1 − γ)ν0; by interlacing, the second
    smallest eigenvalue of diag(p) − ppᵀ is at least min p)."""
    return 1.0 / ((1.0 - mdp.gamma) * float(mdp.nu0.min()) * probability_floor(logits))


def advantage_bound(mdp: TabularMDP) -> float:
    """|A^π(s, a)| ≤ 2·max|R|/(1 − γ) for every policy (Q and V both lie in [−R_max, R_max]/(1 − γ))."""
    return 2.0 * float(np.abs(mdp.R).max()) / (1.0 - mdp.gamma)


# --------------------------------------------------------------------------------------------------------
# STD-NG-1, STD-NG-3, STD-PG-2 on one draw (θ, MDP): the Hypothesis draw of an MDP costs more than the checks
# --------------------------------------------------------------------------------------------------------
@pytest.mark.claim("STD-NG-1", "STD-NG-3", "STD-PG-2")
@given(data=st.data(), mdp=tabular_mdps())
def test_fisher_matrix_natural_gradient_and_compatible_features(data, mdp):
    """STD-NG-1, STD-NG-3, STD-PG-2 (notes §TRPO, §PG) on one draw of (MDP, θ, η); each fact is checked by its helper
    below: the Fisher matrix as the expected outer product of the score, F w = ∇J with its rank and the NPG update,
    damping of the singular F, and compatible function approximation."""
    theta = data.draw(softmax_logits(mdp), label="theta")
    eta = data.draw(STEP_SIZES, label="eta")
    exact = Exact(
        theta=theta,
        pi=softmax(theta),
        fisher=softmax_fisher(mdp, theta),
        gradient=softmax_policy_gradient(mdp, theta),
        natural=natural_policy_gradient(mdp, theta),
        score=tabular_score(theta),
    )
    check_fisher_is_the_expected_outer_product_of_the_score(mdp, exact)
    check_natural_gradient_solves_the_fisher_system(mdp, exact, eta)
    check_damping_makes_the_singular_fisher_system_solvable(mdp, exact)
    check_compatible_features_give_the_gradient_and_the_natural_gradient(mdp, exact)


@dataclass(frozen=True)
class Exact:
    """lineage's quantities at θ, computed once per draw: π = softmax(θ), F, ∇J, w = A^π/(1 − γ) ([S, A]) and the
    tabular score ([S, A, S·A])."""

    theta: np.ndarray
    pi: np.ndarray
    fisher: np.ndarray
    gradient: np.ndarray
    natural: np.ndarray
    score: np.ndarray


def check_fisher_is_the_expected_outer_product_of_the_score(mdp: TabularMDP, exact: Exact) -> None:
    """STD-NG-1, STD-NG-3: lineage's F = Σ_s ν(s)(diag π_s − π_s π_sᵀ) is E_{s~ν, a~π}[∇log π ∇log πᵀ] with the score
    of the one-hot linear-feature policy (so F is symmetric and positive semi-definite), and each of its blocks is
    ``categorical_fisher``(π_s) weighted by ν(s)."""
    fisher, pi = exact.fisher, exact.pi
    nu = state_visitation(mdp, pi)
    score = exact.score
    expected = np.einsum("sa,sai,saj->ij", nu[:, None] * pi, score, score)
    assert_identity(fisher, expected, atol=DISTRIBUTION_ATOL, what="F vs E_{ν,π}[score scoreᵀ]")
    blocks = np.einsum("st,s,sab->satb", np.eye(mdp.n_states), nu, categorical_fisher(pi)).reshape(fisher.shape)
    assert_identity(fisher, blocks, atol=DISTRIBUTION_ATOL, what="F vs ⊕_s ν(s)·categorical_fisher(π_s)")


def check_natural_gradient_solves_the_fisher_system(mdp: TabularMDP, exact: Exact, eta: float) -> None:
    """STD-NG-3: w = A^π/(1 − γ) solves F w = ∇J (lineage's closed-form gradient); rank F = S(A − 1) (every
    ν(s) > 0 here), each state's all-ones direction spanning the null space; and the NPG update
    π' ∝ π·exp(η A^π/(1 − γ)) is softmax(θ + η w)."""
    theta, fisher, w = exact.theta, exact.fisher, exact.natural
    assert_identity(fisher @ w.ravel(), exact.gradient.ravel(), **solve_tolerance(mdp), what="F w vs ∇J")
    n_states, n_actions = theta.shape
    # F's entries round by a few eps, far below its smallest nonzero eigenvalue (≥ 1/fisher_condition ≥ 1e-10 here)
    assert np.linalg.matrix_rank(fisher, tol=ROUNDING_FACTOR * EPS * fisher.shape[0]) == n_states * (n_actions - 1)
    per_state_ones = np.kron(np.eye(n_states), np.ones(n_actions))  # row s: 1 on the actions of state s
    assert_identity(fisher @ per_state_ones.T, 0.0, atol=DISTRIBUTION_ATOL, what="F·1_s = 0")
    # π' = softmax(θ + η w): an exponent error e moves π' by at most |e|; e is η/(1 − γ) times the advantage's
    # solve error plus the rounding of exponents up to |θ| + η·max|w|.
    exponent = 2 * np.abs(theta).max() + eta * advantage_bound(mdp) / (1.0 - mdp.gamma)
    advantage = solve_tolerance(mdp)
    advantage_error = advantage["atol"] + advantage["rtol"] * advantage_bound(mdp)
    atol = eta / (1.0 - mdp.gamma) * 2 * advantage_error + ROUNDING_FACTOR * EPS * (1.0 + exponent)
    expected = softmax(theta + eta * w)
    assert_identity(npg_update(mdp, exact.pi, eta), expected, atol=atol, what="NPG update vs softmax(θ + ηw)")


def check_damping_makes_the_singular_fisher_system_solvable(mdp: TabularMDP, exact: Exact) -> None:
    """STD-NG-3: F is singular, but F + cI is not: for each damping c the solution x_c of (F + cI)x = ∇J lies in the
    range of F (Σ_a x_c(s, a) = 0) and x_c − x⁺ = −c(F + cI)⁻¹x⁺ for the minimum-norm natural gradient
    x⁺ = w − mean_a w (w lineage's natural gradient), so ‖x_c − x⁺‖ shrinks as c ↓ 0; x⁺ gives the same NPG update
    as w (a constant per state cancels in the softmax)."""
    theta, fisher, gradient, w = exact.theta, exact.fisher, exact.gradient.ravel(), exact.natural
    minimum_norm = (w - w.mean(axis=1, keepdims=True)).ravel()
    n = gradient.size
    magnitude = advantage_bound(mdp) / (1.0 - mdp.gamma) * np.sqrt(n)  # ‖x⁺‖ ≤ ‖w‖ ≤ √n·max|A|/(1 − γ)
    distances = []
    for damping in DAMPINGS:
        damped = fisher + damping * np.eye(n)
        x = np.linalg.solve(damped, gradient)
        condition = min((1.0 + damping) / damping, fisher_condition(mdp, theta))
        atol = ROUNDING_FACTOR * EPS * n * condition * magnitude + solve_tolerance(mdp)["atol"] * condition
        assert_identity(x.reshape(theta.shape).sum(axis=1), 0.0, atol=atol, what=f"x_c in range(F), c = {damping}")
        shift = np.linalg.solve(damped, -damping * minimum_norm)
        assert_identity(x - minimum_norm, shift, atol=atol, what=f"x_c − x⁺ = −c(F + cI)⁻¹x⁺, c = {damping}")
        distances.append(np.linalg.norm(shift))
    assert distances == sorted(distances, reverse=True), distances
    same_update = softmax(theta + minimum_norm.reshape(theta.shape))
    assert_identity(same_update, softmax(theta + w), atol=ROUNDING_FACTOR * EPS * magnitude, what="x⁺ and w")


def check_compatible_features_give_the_gradient_and_the_natural_gradient(mdp: TabularMDP, exact: Exact) -> None:
    """STD-PG-2, STD-NG-3: with the score as features, f_w(s, a) = ∇log π(a|s)ᵀw and w minimising
    Σ_s d^π(s) Σ_a π(a|s)(Q^π(s, a) − f_w(s, a))², ∇J = Σ_s d^π(s) Σ_a ∇π(a|s) f_w(s, a) (lineage's closed form);
    the fit is f_w = A^π, so w is lineage's natural gradient A^π/(1 − γ) times (1 − γ) up to a constant per state
    (the unnormalised d^π weights F by 1/(1 − γ)), the same direction in policy space (Kakade 2001)."""
    theta, pi = exact.theta, exact.pi
    score = exact.score
    d = discounted_visitation(mdp, pi)
    root_weights = np.sqrt(d[:, None] * pi).ravel()
    design = root_weights[:, None] * score.reshape(-1, score.shape[-1])
    # The score is orthogonal to each state's all-ones direction, so the design is rank-deficient; its null singular
    # values round to ~eps·σ_max and its others are ≥ σ_max/√spread ≥ 1e-6·σ_max here: cut at √eps between them.
    w, *_ = np.linalg.lstsq(design, root_weights * action_values(mdp, pi).ravel(), rcond=np.sqrt(EPS))
    fit = score @ w
    # a least-squares solve: error ≤ eps·(κ + κ²) relative, κ² ≤ the weights' spread over F's range
    tolerance = solve_tolerance(mdp)
    spread = fisher_condition(mdp, theta) / (1.0 - mdp.gamma)
    rtol = tolerance["rtol"] + ROUNDING_FACTOR * EPS * w.size * spread
    atol = tolerance["atol"] + rtol * advantage_bound(mdp)
    gradient = np.einsum("sa,sai,sa->i", d[:, None] * pi, score, fit)
    assert_identity(gradient, exact.gradient.ravel(), atol=atol, rtol=rtol, what="Σ d Σ ∇π f_w vs ∇J")
    natural = exact.natural
    assert_identity(fit, (1.0 - mdp.gamma) * natural, atol=atol, rtol=rtol, what="f_w vs (1 − γ)·natural gradient")
    offset = w.reshape(theta.shape) - (1.0 - mdp.gamma) * natural
    per_state = np.broadcast_to(offset.mean(axis=1, keepdims=True), offset.shape)
    assert_identity(offset, per_state, atol=atol, rtol=rtol, what="w − (1 − γ)w_NPG constant per state")


# --------------------------------------------------------------------------------------------------------
# STD-NG-2
# --------------------------------------------------------------------------------------------------------
@cache
def unit_box(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays in [−1, 1]^shape, one strategy object per shape (Hypothesis validates each new one)."""
    return arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False))


@st.composite
def trust_region_problems(draw):
    """(F, g, δ, boundary directions): n ≤ 4, F = BBᵀ + cI with B ∈ [−1, 1]^{n×n}, c ∈ [0.1, 1] (so
    cond F ≤ (n² + 1)/0.1), g ∈ [−1, 1]^n with |g_0| ≥ 0.1, δ ∈ [1e-4, 1], and three directions in [−1, 1]^n."""
    n = draw(SIZES, label="n")
    root = draw(unit_box((n, n)), label="B")
    damping = draw(DAMPING, label="c")
    gradient = draw(unit_box((n,)), label="g")
    gradient[0] = np.copysign(max(abs(gradient[0]), 0.1), gradient[0])  # g ≠ 0: x = F⁻¹g must have curvature
    max_kl = draw(RADII, label="delta")
    directions = draw(unit_box((3, n)), label="directions")
    return root @ root.T + damping * np.eye(n), gradient, max_kl, directions, damping


@pytest.mark.claim("STD-NG-2")
@given(problem=trust_region_problems())
def test_natural_step_is_the_best_step_on_the_kl_ellipsoid(problem):
    """STD-NG-2 (notes §TRPO): with x = F⁻¹g, Δ = natural_step(x, Fx, δ) has ½ΔᵀFΔ = δ and gᵀΔ = √(2δ gᵀF⁻¹g), and
    no direction scaled onto the boundary ½uᵀFu = δ has a larger gᵀu (Cauchy–Schwarz in the F-metric). The torch call
    gives the same step, differentiable in x."""
    fisher, gradient, max_kl, directions, damping = problem
    n = gradient.size
    x = np.linalg.solve(fisher, gradient)
    step = natural_step(x, fisher @ x, max_kl=max_kl)
    condition = (n * n + damping) / damping  # ‖BBᵀ‖ ≤ ‖B‖_F² ≤ n², λ_min ≥ c
    rtol = ROUNDING_FACTOR * EPS * n * condition
    assert_identity(0.5 * step @ fisher @ step, max_kl, atol=0.0, rtol=rtol, what="½ΔᵀFΔ = δ")
    best = np.sqrt(2.0 * max_kl * gradient @ x)
    assert_identity(gradient @ step, best, atol=0.0, rtol=rtol, what="gᵀΔ = √(2δ gᵀF⁻¹g)")
    length = np.linalg.norm(gradient) * np.sqrt(2.0 * max_kl / damping)  # ‖g‖·max ‖u‖ on the ellipsoid
    for u in directions:
        if np.any(u != 0.0):
            u = u / np.abs(u).max()  # the same direction, its squares clear of underflow (u may be ~1e-160)
            on_boundary = u * np.sqrt(2.0 * max_kl / (u @ fisher @ u))
            assert_at_least(best, gradient @ on_boundary, atol=rtol * length, what=f"gᵀΔ vs boundary direction {u}")
    x_t = torch.tensor(x, requires_grad=True)
    step_t = natural_step(x_t, torch.from_numpy(fisher) @ x_t, max_kl=max_kl)
    assert step_t.dtype == torch.float64 and step_t.requires_grad
    assert_identity(step_t.detach().numpy(), step, atol=0.0, rtol=rtol, what="torch step vs numpy step")


@pytest.mark.claim("STD-NG-2", "STD-NG-3")
def test_natural_step_refuses_bad_arguments():
    """STD-NG-2, STD-NG-3 (notes §TRPO): the ValueError names the argument: no curvature along x (xᵀFx ≤ 0, e.g. x in
    the null space of a singular F), a radius δ ≤ 0, shapes that differ or are not a flat vector; a negative NPG step
    η; probabilities that are not distributions."""
    x = np.array([1.0, -1.0])
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])  # x is in its null space
    with pytest.raises(ValueError, match=r"^fx: the curvature"):
        natural_step(x, singular @ x, max_kl=0.01)
    with pytest.raises(ValueError, match=r"^fx: the curvature"):
        natural_step(x, -x, max_kl=0.01)
    with pytest.raises(ValueError, match=r"^max_kl: must be > 0"):
        natural_step(x, x, max_kl=0.0)
    with pytest.raises(ValueError, match=r"^fx: expected shape"):
        natural_step(x, np.ones(3), max_kl=0.01)
    with pytest.raises(ValueError, match=r"^x: expected a flat parameter vector"):
        natural_step(np.ones((2, 2)), np.ones((2, 2)), max_kl=0.01)
    with pytest.raises(ValueError, match=r"^eta: must be >= 0"):
        npg_update(TabularMDP(np.ones((1, 2, 1)), np.zeros((1, 2)), np.ones(1), 0.5), np.full((1, 2), 0.5), -1.0)
    with pytest.raises(ValueError, match=r"^probabilities: entries must be >= 0"):
        categorical_fisher(np.array([0.7, 0.7]))


@pytest.mark.claim("STD-NG-3")
def test_npg_update_keeps_zero_probabilities():
    """STD-NG-3 (notes §TRPO): the multiplicative update π' ∝ π·exp(η A/(1 − γ)) keeps an action of probability 0 at
    0 even where its advantage is the largest, and stays finite when the exponents are large (η·A/(1 − γ) ≈ 10³)."""
    mdp = TabularMDP(np.ones((1, 3, 1)), np.array([[0.0, 0.5, 1.0]]), np.ones(1), 0.5)
    pi = np.array([[0.5, 0.5, 0.0]])  # the best action, a = 2, has probability 0
    updated = npg_update(mdp, pi, 1e3)
    advantage = mdp.R - 0.25  # V = r_π / (1 − γ) = 0.5, A = R + γV − V = R − 0.25
    expected = np.array([[0.0, 1.0, 0.0]])  # exp(1e3·(0.5 − 0)/(1 − γ)) overwhelms action 0
    assert_identity(advantage[0, :2] @ pi[0, :2], 0.0, atol=0.0, what="Σ π A = 0")
    assert_identity(updated, expected, atol=0.0, what="NPG update of a policy with a zero")


@pytest.mark.claim("STD-NG-1")
def test_categorical_fisher_follows_the_array_rule():
    """STD-NG-1 (notes §TRPO): a torch call gives a tensor of the input's dtype, differentiable in the probabilities,
    equal to the numpy call; F(p)·1 = 0."""
    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]])
    p_t = torch.tensor(p, dtype=torch.float32, requires_grad=True)
    fisher_t = categorical_fisher(p_t)
    assert fisher_t.dtype == torch.float32 and fisher_t.requires_grad and fisher_t.shape == (2, 3, 3)
    fisher = categorical_fisher(p)
    assert_identity(fisher_t.detach().numpy(), fisher, atol=1e-7, what="torch float32 vs numpy")
    assert_identity(fisher @ np.ones(3), 0.0, atol=ROUNDING_FACTOR * EPS, what="F(p)·1 = 0")
    assert_identity(np.diagonal(fisher, axis1=1, axis2=2), p * (1 - p), atol=0.0, what="F(p)_aa = p_a(1 − p_a)")


@pytest.mark.claim("PG-2", "STD-NG-3")
def test_optimal_values_beat_every_deterministic_policy():
    """PG-2, STD-NG-3 (notes §PG, §TRPO): lineage's V* (policy iteration) is the pointwise maximum of V^π over the
    A^S deterministic policies, attained by one of them, on seeded 3-state, 3-action MDPs."""
    for seed in range(3):
        mdp = random_mdp(np.random.default_rng(seed), 3, 3, gamma=0.9)
        optimal = optimal_values(mdp)
        deterministic = np.eye(3)[np.array(list(itertools.product(range(3), repeat=3)))]  # [27, S, A]
        values = np.array([state_values(mdp, pi) for pi in deterministic])
        assert_identity(optimal, values.max(axis=0), **solve_tolerance(mdp), what=f"V* vs max over policies ({seed})")
        attained = np.abs(values - optimal).max(axis=1).min()
        assert_at_least(0.0, attained, atol=solve_tolerance(mdp)["atol"], what="V* attained by one policy")
