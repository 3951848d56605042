"""Bias and variance of the n-step and GAE advantage estimators, exactly, over every path from a fixed (s_0, a_0)
(notes §GAE; claims GAE-5, GAE-9, STD-GAE-6).

Paths of H ≤ 4 steps of a small dense MDP are enumerated from (s, a); the segment is cut by a time limit after H
steps, so its last step bootstraps from the critic. Each estimator is lineage's (``n_step_advantages``, ``gae``) in
one batched call, one column per path. The bias is taken against Q^π(s, a) − V(s), the part that reaches the
policy gradient; the variance of an estimator Â is Σ_τ p(τ)(Â(τ) − E Â)². Teaching counterexamples TC-10 (the
2-step estimator more biased than the 1-step one) and TC-11 (the TD error with more variance than the Monte-Carlo
advantage) are pinned with their numbers, are @examples of the law, and each has a ``hypothesis.find`` search.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import Phase, example, find, given, settings
from hypothesis import strategies as st

from lineage.laws.cases.mdps import policies, tabular_mdps, value_functions
from lineage.laws.gae_expectation import StartedRollouts
from lineage.laws.tolerance import value_scale
from lineage.returns import gae, n_step_advantages
from lineage.tabular import (
    TabularMDP,
    Trajectories,
    action_values,
    policy_transitions,
    random_mdp,
    softmax,
    state_values,
)
from properties.assertions import assert_at_least, assert_identity

SEARCH = settings(database=None, derandomize=True, max_examples=500, phases=(Phase.generate,))
LAMBDAS = (0.0, 0.5, 0.9, 1.0)


@st.composite
def wrong_critic_rollouts(draw):
    """Rollouts of H ≤ 4 steps from (s, a) on a dense MDP (S ≤ 3, A ≤ 2), scored by V = V^π + e, e ∈ [−10, 10]^S."""
    mdp = draw(tabular_mdps(max_states=3, max_actions=2))
    pi = draw(policies(mdp))
    state, action = draw(st.integers(0, mdp.n_states - 1)), draw(st.integers(0, mdp.n_actions - 1))
    horizon = draw(st.integers(1, 4))
    critic = state_values(mdp, pi) + draw(value_functions(mdp))
    return StartedRollouts(mdp, pi, state, action, horizon, 0.0, critic)


def seeded_rollouts(seed: int) -> StartedRollouts:
    """What the searches draw, all from one seed: a dense random MDP (``random_mdp``: S ∈ {2, 3}, A = 2,
    γ ∈ [0, 0.95]), a softmax policy with logits in [−4, 4], a start (s, a), H ∈ {2, 3, 4} and V = V^π + e with
    e ∈ [−10, 10]^S."""
    rng = np.random.default_rng(seed)
    n_states = int(rng.integers(2, 4))
    mdp = random_mdp(rng, n_states, 2, float(rng.uniform(0.0, 0.95)))
    pi = softmax(rng.uniform(-4, 4, (n_states, 2)))
    state, action, horizon = int(rng.integers(n_states)), int(rng.integers(2)), int(rng.integers(2, 5))
    critic = state_values(mdp, pi) + rng.uniform(-10, 10, n_states)
    return StartedRollouts(mdp, pi, state, action, horizon, 0.0, critic)


random_rollouts = st.builds(seeded_rollouts, st.integers(0, 2**32 - 1))


def one_action_chain(P, gamma: float, critic) -> StartedRollouts:
    """Paths of two steps from state 0 of a one-action MDP with zero rewards (V^π = 0), scored by ``critic``."""
    P = np.asarray(P, dtype=float)[:, None, :]
    mdp = TabularMDP(P, np.zeros(P.shape[:2]), np.eye(len(P))[0], gamma)
    return StartedRollouts(mdp, np.ones((len(P), 1)), 0, 0, 2, 0.0, np.asarray(critic, dtype=float))


# TC-10: the deterministic chain s0 → s1 → s2 → end, r ≡ 0, V(s1) = 0 (right), V(s2) = 1 (wrong), γ = 0.9.
TC10 = one_action_chain([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]], 0.9, [0, 0, 1, 0])
# TC-11: the fork M3, s0 → x | y (½ each) → end, r ≡ 0, the wrong critic V = (0, 10, −10) (and 0 at the end).
TC11 = one_action_chain([[0, 0.5, 0.5, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]], 0.9, [0, 10, -10, 0])


@dataclasses.dataclass(frozen=True)
class Estimators:
    """What one critic makes of the enumerated paths: the segment lineage gets, and the exact TD errors."""

    rollouts: StartedRollouts
    critic: np.ndarray
    paths: Trajectories
    q_value: float  # Q^π(s, a) of the start

    @classmethod
    def of(cls, rollouts: StartedRollouts, critic: np.ndarray | None = None, paths: Trajectories | None = None):
        """The estimators of ``critic`` (default: the rollouts' own critic) on the rollouts' paths."""
        q_value = action_values(rollouts.mdp, rollouts.pi)[rollouts.state, rollouts.action]
        critic = rollouts.critic() if critic is None else critic
        return cls(rollouts, critic, rollouts.paths() if paths is None else paths, float(q_value))

    @property
    def probabilities(self) -> np.ndarray:
        return self.paths.probabilities

    @property
    def states(self) -> np.ndarray:
        """[H + 1, N], time-major."""
        return self.paths.states.T

    @property
    def rewards(self) -> np.ndarray:
        return self.paths.rewards(self.rollouts.mdp).T

    @property
    def cut(self) -> np.ndarray:
        """The time limit's flags: True at the last step of every path."""
        cut = np.zeros(self.paths.actions.T.shape, dtype=bool)
        cut[-1] = True
        return cut

    def segment(self) -> tuple:
        V = self.critic
        return self.rewards, V[self.states[:-1]], V[self.states[1:]], np.zeros_like(self.cut), self.cut

    def td_errors(self) -> np.ndarray:
        """[H, N] δ_l = r_l + γV(s_{l+1}) − V(s_l) in numpy (no termination inside the paths)."""
        V, gamma = self.critic, self.rollouts.mdp.gamma
        return self.rewards + gamma * V[self.states[1:]] - V[self.states[:-1]]

    def n_step(self, n: int) -> np.ndarray:
        """lineage's A^(n)_0 on every path."""
        return n_step_advantages(*self.segment(), gamma=self.rollouts.mdp.gamma, n=n)[0]

    def gae(self, lam: float) -> np.ndarray:
        """lineage's GAE(γ, λ) Â_0 on every path."""
        return gae(*self.segment(), gamma=self.rollouts.mdp.gamma, lam=lam)[0]

    def mean(self, x: np.ndarray) -> float:
        return float(self.probabilities @ x)

    def variance(self, x: np.ndarray) -> float:
        return float(self.probabilities @ (x - self.mean(x)) ** 2)

    def bias(self, x: np.ndarray) -> float:
        """E[Â | s, a] − (Q^π(s, a) − V(s))."""
        return self.mean(x) - (self.q_value - self.critic[self.rollouts.state])


def scale_of(rollouts: StartedRollouts) -> float:
    """A bound on |r| + |V^π| + |V| on the paths: what a TD error, and so every estimator here, is made of."""
    mdp = rollouts.mdp
    return float(np.abs(mdp.R).max()) + value_scale(mdp.R, mdp.gamma) + float(np.abs(rollouts.critic()).max())


def covariance(deltas: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """[H, H] Cov(δ_l, δ_m) over the paths."""
    centred = deltas - deltas @ probabilities[:, None]
    return (centred * probabilities) @ centred.T


@pytest.mark.claim("GAE-5", "GAE-9", "STD-GAE-6")
@given(rollouts=wrong_critic_rollouts())
@example(rollouts=TC10)
@example(rollouts=TC11)
def test_n_step_and_gae_bias_and_variance(rollouts):
    """From (s, a), cut after H steps with a bootstrap (notes §GAE):

    * GAE-5 (bias): with V = V^π + e, bias(A^(n)) = γ^n E[e(s_n) | s, a] = γ^n (P P_π^{n−1} e)(s, a), at most
      γ^n‖e‖_∞ (the bound falls with n; the bias itself need not);
    * GAE-9 (variance, any V): Var(Â^λ_0) = Σ_{l,m} (γλ)^{l+m} Cov(δ_l, δ_m), which may fall with λ;
    * STD-GAE-6 and GAE-5 (exact critic V^π): Var(Â^λ_0) = Var(δ_0) + Σ_{l≥1} (γλ)^{2l} E[δ_l²], non-decreasing on
      λ ∈ {0, ½, 0.9, 1}, and Var(A^(n)) is non-decreasing in n.
    """
    mdp, pi, horizon = rollouts.mdp, rollouts.pi, rollouts.horizon
    exact = state_values(mdp, pi)
    wrong = Estimators.of(rollouts)
    right = Estimators.of(rollouts, exact, wrong.paths)
    error = wrong.critic - exact
    scale = scale_of(rollouts)
    atol = 1e-9 * scale
    steps = np.arange(1, horizon + 1)
    biases = np.array([wrong.bias(wrong.n_step(n)) for n in steps])
    kernel = policy_transitions(mdp, pi)
    reached = [mdp.P[rollouts.state, rollouts.action] @ np.linalg.matrix_power(kernel, n - 1) for n in steps]
    discounts = mdp.gamma**steps
    assert_identity(biases, discounts * (np.array(reached) @ error), atol=atol, what="GAE-5: bias of A^(n), n = 1..H")
    assert_at_least(discounts * np.abs(error).max(), np.abs(biases), atol=atol, what="GAE-5: |bias| ≤ γ^n‖e‖")

    square_atol = 1e-9 * horizon**2 * scale**2
    weights = (mdp.gamma * np.array(LAMBDAS))[:, None] ** np.arange(horizon)  # [λ, l] = (γλ)^l
    variances = [wrong.variance(wrong.gae(lam)) for lam in LAMBDAS]
    quadratic = np.einsum("kl,lm,km->k", weights, covariance(wrong.td_errors(), wrong.probabilities), weights)
    assert_identity(variances, quadratic, atol=square_atol, what="GAE-9: Var(Â^λ) vs Σ (γλ)^{l+m} Cov(δ_l, δ_m)")
    deltas = right.td_errors()
    exact_variances = np.array([right.variance(right.gae(lam)) for lam in LAMBDAS])
    closed = right.variance(deltas[0]) + weights[:, 1:] ** 2 @ (deltas[1:] ** 2 @ right.probabilities)
    assert_identity(exact_variances, closed, atol=square_atol, what="STD-GAE-6: Var(Â^λ) with V^π")
    assert_at_least(exact_variances[1:], exact_variances[:-1], atol=square_atol, what="STD-GAE-6: monotone in λ")
    if horizon > 1:
        n_step_variances = np.array([right.variance(right.n_step(n)) for n in steps])
        assert_at_least(n_step_variances[1:], n_step_variances[:-1], atol=square_atol, what="GAE-5: V^π, monotone in n")


@pytest.mark.refutes("GAE-5")
def test_gae5_teaching_counterexample_tc10(result):
    """GAE-5 (notes §GAE, TC-10): on the chain with V(s1) = 0 and V(s2) = 1 the 1-step estimator is unbiased at s0
    and the 2-step one has bias γ² = 0.81: more steps, more bias."""
    estimators = Estimators.of(TC10)
    one, two = estimators.bias(estimators.n_step(1)), estimators.bias(estimators.n_step(2))
    assert one == 0.0 and two == pytest.approx(0.81, abs=1e-15), (one, two)
    result("GAE-5", f"TC-10: the 1-step bias is {one:g}, the 2-step bias γ² = {two:.2f}")


@pytest.mark.refutes("GAE-5", "GAE-9")
def test_gae5_teaching_counterexample_tc11(result):
    """GAE-5, GAE-9 (notes §GAE, TC-11): on the fork M3 with V = (0, 10, −10) the TD error (λ = 0, n = 1) has
    variance 81 and the Monte-Carlo advantage (λ = 1, n = 2) has variance 0."""
    estimators = Estimators.of(TC11)
    td, mc = estimators.variance(estimators.gae(0.0)), estimators.variance(estimators.gae(1.0))
    assert td == pytest.approx(81.0, abs=1e-12) and mc == pytest.approx(0.0, abs=1e-12), (td, mc)
    one, two = estimators.variance(estimators.n_step(1)), estimators.variance(estimators.n_step(2))
    assert (one, two) == pytest.approx((81.0, 0.0), abs=1e-12)
    result("GAE-9", f"TC-11: Var(TD, λ = 0) = {td:g} > Var(Monte Carlo, λ = 1) = {mc:g}")


def bias_grows(rollouts: StartedRollouts) -> bool:
    """Whether |bias(A^(n+1))| exceeds |bias(A^(n))| beyond rounding for some n < H."""
    estimators = Estimators.of(rollouts)
    biases = [abs(estimators.bias(estimators.n_step(n))) for n in range(1, rollouts.horizon + 1)]
    return any(later > earlier + 1e-6 * scale_of(rollouts) for earlier, later in itertools.pairwise(biases))


@pytest.mark.refutes("GAE-5")
def test_gae5_search_finds_a_bias_that_grows_with_n():
    """GAE-5: hypothesis.find comes back with a random MDP and critic where a longer n-step estimator is more
    biased; there the critic is wrong (with V^π every n-step estimator is unbiased)."""
    found = find(random_rollouts, bias_grows, settings=SEARCH)
    assert np.abs(found.critic() - state_values(found.mdp, found.pi)).max() > 0, found


def variance_falls(rollouts: StartedRollouts) -> bool:
    """Whether Var(TD error) > Var(Monte-Carlo advantage) beyond rounding: λ = 0 noisier than λ = 1."""
    estimators = Estimators.of(rollouts)
    td, mc = estimators.variance(estimators.gae(0.0)), estimators.variance(estimators.gae(1.0))
    return td > mc + 1e-6 * scale_of(rollouts) ** 2


@pytest.mark.refutes("GAE-5", "GAE-9")
def test_gae9_search_finds_variance_falling_in_lambda():
    """GAE-5, GAE-9: hypothesis.find comes back with a random MDP and critic where the TD error has more variance
    than the Monte-Carlo advantage; the critic there is not V^π (with V^π the variance rises with λ)."""
    found = find(random_rollouts, variance_falls, settings=SEARCH)
    assert np.abs(found.critic() - state_values(found.mdp, found.pi)).max() > 0, found
