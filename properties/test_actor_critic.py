"""The one-step actor-critic of the notes' TD section: what the one-step target estimates (AC-11, AC-13, AC-14), the
critic's loss gradient and update (AC-15, AC-16, AC-17), what the critic loss measures at the optimum (AC-18), and
what the actor step estimates (AC-19, with the λ = 1 shaping invariance of STD-GAE-4). Notes §TD, §AC.

Everything is exact: expectations over s' are sums against P, over episodes sums over enumerated paths, and the
critic run is the expected synchronous TD(0) iteration. Q^π comes from the state-action chain's own solve
(``state_action_values``, shared with the advantage properties). Teaching counterexamples TC-4, TC-5 and TC-6 are
pinned with their numbers, are @examples of the laws, and each has a ``hypothesis.find`` search beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import Phase, example, find, given, settings
from hypothesis import strategies as st

from lineage.actor_critic import (
    actor_direction,
    actor_update,
    critic_loss_gradient,
    critic_update,
    expected_td_steps,
    linear_critic_update,
)
from lineage.laws.cases.mdps import (
    episodic_mdps,
    policies,
    softmax_logits,
    tabular_mdps,
    value_functions,
)
from lineage.laws.cases.segments import magnitudes, unit_interval
from lineage.laws.tolerance import ROUNDING_FACTOR, scaled_tolerance, value_scale
from lineage.returns import gae, td_errors
from lineage.tabular import (
    LinearSoftmaxPolicy,
    TabularMDP,
    action_values,
    enumerate_trajectories,
    optimal_values,
    policy_transitions,
    random_mdp,
    softmax,
    softmax_policy_gradient,
    state_values,
)
from properties.assertions import EPS, assert_at_least, assert_identity, solve_tolerance
from properties.test_tabular_advantage import critic_tolerance, state_action_values

# find() only has to come back with some instance; shrinking it would cost more than the search.
SEARCH = settings(database=None, derandomize=True, max_examples=500, phases=(Phase.generate,))


# --------------------------------------------------------------------------------------------------------------------
# The one-step target r + γV(s') and the TD error on a tabular MDP (AC-11, AC-13, AC-14, AC-18)
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CriticCase:
    """A policy on an MDP and the critic V = V^π + ``error``."""

    mdp: TabularMDP
    pi: np.ndarray
    error: np.ndarray

    def __repr__(self) -> str:
        return f"CriticCase(pi={self.pi.tolist()!r}, error={self.error.tolist()!r},\n  mdp={self.mdp!r})"


@st.composite
def critic_cases(draw):
    mdp = draw(tabular_mdps(max_states=3, max_actions=2))
    return CriticCase(mdp, draw(policies(mdp)), draw(value_functions(mdp)))


def seeded_critic_case(seed: int) -> CriticCase:
    """A dense random MDP (``random_mdp``: S ∈ {2, 3}, A = 2, γ ∈ [0, 0.95]), a softmax policy with logits in
    [−4, 4] and a critic error in [−10, 10]^S, all from one seed: what the searches draw."""
    rng = np.random.default_rng(seed)
    n_states = int(rng.integers(2, 4))
    mdp = random_mdp(rng, n_states, 2, float(rng.uniform(0.0, 0.95)))
    return CriticCase(mdp, softmax(rng.uniform(-4, 4, (n_states, 2))), rng.uniform(-10, 10, n_states))


random_critic_cases = st.builds(seeded_critic_case, st.integers(0, 2**32 - 1))


RATES = st.one_of(st.just(1.0), st.floats(0.5, 1.0))  # α·max w
STATE_WEIGHTS = st.lists(st.floats(0.5, 1.0), min_size=4, max_size=4)  # w(s), the first S used


def one_action(P, R, gamma: float) -> TabularMDP:
    """An MDP with a single action everywhere, started in state 0."""
    P, R = np.asarray(P, dtype=float)[:, None, :], np.asarray(R, dtype=float)[:, None]
    nu0 = np.eye(len(P))[0]
    return TabularMDP(P, R, nu0, gamma)


# TC-4: (s, a) goes to x or y with probability ½, r = 0, V(x) = 0, V(y) = 1, γ = 0.9 (x, y absorbing, r = 0, so
# V^π = 0 and the critic's error is V itself).
TC4 = CriticCase(
    one_action([[0, 0.5, 0.5], [0, 1, 0], [0, 0, 1]], [0, 0, 0], 0.9), np.ones((3, 1)), np.array([0.0, 0.0, 1.0])
)
# TC-6: the fork s0 → x | y (½ each, r = 0), then +1 on leaving x and −1 on leaving y into the absorbing end; the
# exact critic V = (0, 1, −1, 0); one action, so the policy is optimal; γ = 0.9.
TC6 = CriticCase(
    one_action([[0, 0.5, 0.5, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]], [0, 1, -1, 0], 0.9),
    np.ones((4, 1)),
    np.zeros(4),
)


def transitions(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (s, a, s') once, flattened in the order of P's entries."""
    return tuple(np.indices(mdp.P.shape).reshape(3, -1))


def one_step_targets(mdp: TabularMDP, critic: np.ndarray) -> np.ndarray:
    """[S, A, S] table of lineage's r + γV(s'): the TD error of a step whose V(s) is 0."""
    s, a, s_next = transitions(mdp)
    no_end = np.zeros(len(s), dtype=bool)
    return td_errors(mdp.R[s, a], np.zeros(len(s)), critic[s_next], no_end, gamma=mdp.gamma).reshape(mdp.P.shape)


def lineage_td_table(mdp: TabularMDP, critic: np.ndarray) -> np.ndarray:
    """[S, A, S] table of lineage's δ = r + γV(s') − V(s)."""
    s, a, s_next = transitions(mdp)
    no_end = np.zeros(len(s), dtype=bool)
    return td_errors(mdp.R[s, a], critic[s], critic[s_next], no_end, gamma=mdp.gamma).reshape(mdp.P.shape)


def mean_squared_td_error(mdp: TabularMDP, pi: np.ndarray, critic: np.ndarray) -> np.ndarray:
    """E[δ² | s] = Σ_a π(a|s) Σ_{s'} P(s'|s, a) δ(s, a, s')², per state, with lineage's δ."""
    return np.einsum("sa,sat,sat->s", pi, mdp.P, lineage_td_table(mdp, critic) ** 2)


def deterministic_version(mdp: TabularMDP) -> TabularMDP:
    """The MDP whose (s, a) goes surely to the most likely s' of ``mdp``."""
    P = np.eye(mdp.n_states)[mdp.P.argmax(axis=2)]
    return TabularMDP(P, mdp.R, mdp.nu0, mdp.gamma)


@pytest.mark.claim("AC-11", "AC-13", "AC-14", "AC-17", "AC-18", "AC-20")
@given(case=critic_cases(), rate=RATES, weights=STATE_WEIGHTS)
@example(case=TC4, rate=1.0, weights=[1.0] * 4)
@example(case=TC6, rate=0.5, weights=[0.5, 1.0, 0.75, 1.0])
def test_one_step_target_and_the_expected_critic_run(case, rate, weights):
    """With the critic V = V^π + e (notes §TD):

    * AC-11: lineage's TD error is the one-step target minus V(s): δ = (r + γV(s')) − V(s);
    * AC-14: E[r + γV(s') | s, a] = Q^π(s, a) + γ(Pe)(s, a), so the target is unbiased for Q^π iff Pe = 0 there;
    * AC-13 (corrected): on the deterministic version of the MDP, r + γV^π(s') = Q^π(s, a) for the one s' there is;
    * AC-18 (corrected): with V = V^π, E[δ² | s] = E_a[Var(r + γV^π(s') | s, a)] + E_a[A^π(s, a)²];
    * AC-17: expected synchronous TD(0) from V_0 = V, V ← V + αD(r_π + γP_πV − V) with state weights w ∈ [½, 1] and
      α = rate / max w (so α max w ≤ 1, α min w ≥ ¼): ‖V_k − V^π‖_∞ never increases, shrinks at least by
      c = 1 − α min w (1 − γ) per step, and after the K steps with c^K ‖V_0 − V^π‖_∞ ≤ 1e-10 is below 1e-8.
    """
    mdp, pi = case.mdp, case.pi
    exact = state_values(mdp, pi)
    critic = exact + case.error
    targets, deltas = one_step_targets(mdp, critic), lineage_td_table(mdp, critic)
    tol = critic_tolerance(mdp, case.error)
    assert_identity(deltas, targets - critic[:, None, None], **tol, what="AC-11: δ vs target − V(s)")

    Q = state_action_values(mdp, pi)
    mean_target = (mdp.P * targets).sum(axis=2)
    assert_identity(mean_target, Q + mdp.gamma * mdp.P @ case.error, **tol, what="AC-14: E[target | s, a]")
    exact_targets = one_step_targets(mdp, exact)
    assert_identity((mdp.P * exact_targets).sum(axis=2), Q, **solve_tolerance(mdp), what="AC-14: with V^π")

    det = deterministic_version(mdp)
    successor = det.P.argmax(axis=2)
    pointwise = np.take_along_axis(one_step_targets(det, state_values(det, pi)), successor[..., None], 2)[..., 0]
    assert_identity(pointwise, state_action_values(det, pi), **solve_tolerance(det), what="AC-13: deterministic P")

    scale = value_scale(mdp.R, mdp.gamma)
    A = Q - exact[:, None]
    spread = np.einsum("sa,sat,sat->s", pi, mdp.P, (exact_targets - Q[..., None]) ** 2)
    decomposition = spread + (pi * A**2).sum(axis=1)
    second_moment = np.einsum("sa,sat,sat->s", pi, mdp.P, (exact_targets - exact[:, None, None]) ** 2)
    assert_identity(second_moment, decomposition, **solve_tolerance(mdp, 1e-9 * scale**2), what="AC-18: E[δ² | s]")

    weights = np.array(weights[: mdp.n_states])
    step_size = rate / weights.max()
    factor = 1.0 - step_size * weights.min() * (1.0 - mdp.gamma)
    initial = float(np.abs(case.error).max())
    shrinking = initial > 1e-10 and factor > 0.0
    steps = max(1, math.ceil(math.log(1e-10 / initial) / math.log(factor))) if shrinking else 1
    iterates = expected_td_steps(mdp, pi, critic, step_size=step_size, steps=steps, state_weights=weights)
    errors = np.abs(iterates - exact).max(axis=1)
    # each step rounds by a few eps of the values it adds (|V| ≤ scale + max|e|); the rounding piles up to 1/(1 − c)
    rounding = ROUNDING_FACTOR * EPS * (mdp.n_states + 2) * (scale + initial) / (1 - factor)
    assert_at_least(errors[:-1], errors[1:], atol=rounding, what="AC-17: ‖V_k − V^π‖ non-increasing")
    assert_at_least(factor * errors[:-1] + rounding, errors[1:], atol=0.0, what="AC-17: contraction by c")
    assert errors[-1] < 1e-8, f"AC-17: after {steps} steps ‖V − V^π‖ = {errors[-1]}"


@pytest.mark.refutes("AC-13")
def test_ac13_teaching_counterexample_tc4(result):
    """AC-13 (notes §TD, TC-4): Q = E[r + γV(s')] = 0.45, yet the sampled target is 0 or 0.9, never 0.45."""
    targets = one_step_targets(TC4.mdp, TC4.error)[0, 0, 1:]
    assert targets.tolist() == pytest.approx([0.0, 0.9], abs=1e-15)
    q = float(TC4.mdp.P[0, 0] @ one_step_targets(TC4.mdp, TC4.error)[0, 0])
    assert q == pytest.approx(0.45, abs=1e-15)
    result("AC-13", f"TC-4: Q = E[r + γV(s')] = {q:.2f} but the sample r + γV(s') is {targets[0]:g} or {targets[1]:g}")


def target_misses_q(case: CriticCase) -> bool:
    """Whether some reachable (s, a, s') has r + γV(s') off E[r + γV(s') | s, a] beyond rounding."""
    mdp = case.mdp
    targets = one_step_targets(mdp, state_values(mdp, case.pi) + case.error)
    miss = np.abs(targets - (mdp.P * targets).sum(axis=2)[..., None])
    return bool(np.any(miss[mdp.P > 0] > 1e3 * critic_tolerance(mdp, case.error)["atol"]))


@pytest.mark.refutes("AC-13")
def test_ac13_search_finds_a_counterexample():
    """AC-13: on random MDPs hypothesis.find comes back with a transition whose one-step target is not Q; there the
    next state is random given (s, a)."""
    found = find(random_critic_cases, target_misses_q, settings=SEARCH)
    assert np.count_nonzero(found.mdp.P > 0) > found.mdp.n_states * found.mdp.n_actions, found


def optimal_policy(mdp: TabularMDP) -> np.ndarray:
    """A deterministic optimal policy: greedy in Q* = R + γPV*, V* from lineage's policy iteration."""
    q = mdp.R + mdp.gamma * mdp.P @ optimal_values(mdp)
    return np.eye(mdp.n_actions)[q.argmax(axis=1)]


@pytest.mark.refutes("AC-18")
def test_ac18_teaching_counterexample_tc6(result):
    """AC-18 (notes §TD, TC-6): the only policy is optimal and the critic exact, yet δ at s0 is ±0.9 and
    E[δ² | s0] = 0.81."""
    pi = optimal_policy(TC6.mdp)
    second_moment = mean_squared_td_error(TC6.mdp, pi, state_values(TC6.mdp, pi))[0]
    assert second_moment == pytest.approx(0.81, abs=1e-14)
    result("AC-18", f"TC-6: optimal policy and exact critic, yet E[δ² | s0] = {second_moment:.2f}")


@pytest.mark.refutes("AC-18")
def test_ac18_search_finds_an_optimal_policy_with_a_large_critic_loss():
    """AC-18: hypothesis.find comes back with a random MDP where the optimal policy (policy iteration) and its exact
    critic still have E_{s~ν0}[δ²] > 0 beyond rounding."""

    def loss_at_optimum(mdp: TabularMDP) -> float:
        pi = optimal_policy(mdp)
        return float(mdp.nu0 @ mean_squared_td_error(mdp, pi, state_values(mdp, pi)))

    def large(case: CriticCase) -> bool:
        return loss_at_optimum(case.mdp) > 1e-6 * value_scale(case.mdp.R, case.mdp.gamma) ** 2

    found = find(random_critic_cases, large, settings=SEARCH)
    assert loss_at_optimum(found.mdp) > 0, found


# --------------------------------------------------------------------------------------------------------------------
# The critic's loss gradient and update (AC-15, AC-16)
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearStep:
    """One transition scored by a linear critic V_w(s) = φ(s)ᵀw with two features."""

    reward: float
    features: tuple[float, float]
    next_features: tuple[float, float]
    weights: tuple[float, float]
    gamma: float
    terminated: bool = False

    def exact(self) -> tuple[Fraction, list[Fraction]]:
        """δ and ∇_w V_w(s) = φ(s) in exact arithmetic."""
        w = [Fraction(x) for x in self.weights]
        v = sum(Fraction(f) * x for f, x in zip(self.features, w, strict=True))
        v_next = 0 if self.terminated else sum(Fraction(f) * x for f, x in zip(self.next_features, w, strict=True))
        return Fraction(self.reward) + Fraction(self.gamma) * v_next - v, [Fraction(f) for f in self.features]

    def lineage_gradient(self) -> np.ndarray:
        w, phi, phi_next = (np.array(x) for x in (self.weights, self.features, self.next_features))
        return critic_loss_gradient(
            [self.reward], [phi @ w], [phi_next @ w], np.array([self.terminated]), phi[None], gamma=self.gamma
        )

    def magnitude(self) -> float:
        """A bound on |δ·φ| and on every term that δ·φ rounds with."""
        w = np.abs(self.weights)
        terms = abs(self.reward) + np.abs(self.features) @ w + np.abs(self.next_features) @ w
        return float(terms * max(np.abs(self.features).max(), 1.0))


pairs = st.tuples(magnitudes(), magnitudes())
linear_steps = st.builds(LinearStep, magnitudes(), pairs, pairs, pairs, unit_interval(), st.booleans())
# TC-5: r = 0, V(s') = 1, V(s) = 0, γ = 0.9, with φ(s) = (0, 1), φ(s') = (1, 0), w = (1, 0).
TC5 = LinearStep(0.0, (0.0, 1.0), (1.0, 0.0), (1.0, 0.0), 0.9)


def printed_gradient(step: LinearStep) -> list[Fraction]:
    """The notes' ∇_w L = −r·δ·∇_w V_w(s_t), exactly."""
    delta, grad = step.exact()
    return [-Fraction(step.reward) * delta * g for g in grad]


@pytest.mark.claim("AC-15", "AC-16")
@given(step=linear_steps, step_size=st.floats(1e-3, 1.0))
@example(step=TC5, step_size=0.5)
def test_critic_gradient_is_minus_delta_grad_v(step, step_size):
    """AC-16 (corrected) and AC-15 (notes §TD): lineage's critic loss gradient is −δ∇_w V_w(s) (no factor r), the
    printed −rδ∇V misses it by (1 − r)δ∇V, and the update is w + αδ∇V_w(s) (δ without bootstrap after a
    termination)."""
    delta, grad = step.exact()
    got = step.lineage_gradient()
    printed = np.array([float(p) for p in printed_gradient(step)])
    # lineage's gradient, and by how much the printed form misses it: −δ∇V and (1 − r)δ∇V, exactly
    expected = np.array(
        [float(-delta * g) for g in grad] + [float((1 - Fraction(step.reward)) * delta * g) for g in grad]
    )
    allowance = scaled_tolerance(EPS, step.magnitude(), 6) + EPS * np.abs(printed).max()
    assert np.all(np.abs(np.concatenate([got, printed - got]) - expected) <= allowance), (got, printed, expected)
    w = np.array(step.weights)
    updated = linear_critic_update(
        w,
        np.array([step.features]),
        np.array([step.next_features]),
        [step.reward],
        np.array([step.terminated]),
        gamma=step.gamma,
        step_size=step_size,
    )
    slack = allowance + 4 * EPS * np.abs(w).max()
    assert np.all(np.abs(updated - (w - step_size * expected[:2])) <= slack), (updated, w, expected[:2])


@pytest.mark.refutes("AC-16")
def test_ac16_teaching_counterexample_tc5(result):
    """AC-16 (notes §TD, TC-5): r = 0, V(s') = 1, V(s) = 0, γ = 0.9: δ = 0.9, the gradient is −0.9·∇V(s) and the
    printed −rδ∇V is 0, so zero-reward steps would never move the critic."""
    got = TC5.lineage_gradient()
    assert got.tolist() == pytest.approx([0.0, -0.9], abs=1e-15)
    assert printed_gradient(TC5) == [0, 0]
    shown = ", ".join(f"{x + 0.0:g}" for x in got)  # + 0.0 prints −0.0 as 0
    result("AC-16", f"TC-5: ∇L = −δ∇V(s) = ({shown}) with ∇V(s) = (0, 1); the printed −rδ∇V is (0, 0)")


@pytest.mark.refutes("AC-16")
def test_ac16_search_finds_a_counterexample():
    """AC-16: hypothesis.find comes back with a transition where the printed gradient misses lineage's beyond
    rounding; exact arithmetic confirms (1 − r)δ∇V ≠ 0 there."""

    def misses(step: LinearStep) -> bool:
        printed = np.array([float(p) for p in printed_gradient(step)])
        return bool(np.any(np.abs(printed - step.lineage_gradient()) > 2 * scaled_tolerance(EPS, step.magnitude(), 6)))

    found = find(linear_steps, misses, settings=SEARCH)
    delta, grad = found.exact()
    assert (1 - Fraction(found.reward)) * delta != 0 and any(grad), found


def test_critic_gradient_follows_the_array_rule_and_is_the_stop_gradient_derivative():
    """AC-15, AC-16 (notes §TD): with torch in, the loss gradient is a tensor of the input dtype and equals autograd's
    derivative of ½Σ_t (y_t − φ(s_t)ᵀw)² with the target y_t detached; without the detach autograd gives the
    residual gradient, which differs by γΣ_t δ_t φ(s_{t+1}) on the steps that bootstrap. The update stays
    differentiable in w."""
    generator = torch.Generator().manual_seed(0)
    for dtype, terminated in ((torch.float64, [False, True, False]), (torch.float32, [False, False, False])):
        phi, phi_next = torch.randn(3, 2, generator=generator, dtype=dtype), torch.randn(3, 2, generator=generator)
        phi_next, rewards, gamma = phi_next.to(dtype), torch.randn(3, generator=generator, dtype=dtype), 0.9
        w = torch.randn(2, generator=generator, dtype=dtype, requires_grad=True)
        mask = 1.0 - torch.tensor(terminated, dtype=dtype)
        target = rewards + gamma * mask * (phi_next @ w)
        semi = torch.autograd.grad((0.5 * (target.detach() - phi @ w) ** 2).sum(), w)[0]
        full = torch.autograd.grad((0.5 * (target - phi @ w) ** 2).sum(), w)[0]
        got = critic_loss_gradient(rewards, phi @ w, phi_next @ w, torch.tensor(terminated), phi, gamma=gamma)
        assert isinstance(got, torch.Tensor) and got.dtype == dtype
        tol = (
            64
            * torch.finfo(dtype).eps
            * float(1 + phi.abs().max() ** 2 * (1 + w.detach().abs().max()) + rewards.abs().max())
        )
        assert torch.allclose(got.detach(), semi, rtol=0, atol=tol), (got, semi)
        delta = (target - phi @ w).detach()
        residual = gamma * (mask * delta) @ phi_next
        assert torch.allclose(full - semi, residual, rtol=0, atol=tol), (full - semi, residual)
        updated = critic_update(
            w, rewards, phi @ w, phi_next @ w, torch.tensor(terminated), phi, gamma=0.9, step_size=1
        )
        assert updated.requires_grad and updated.dtype == dtype


# --------------------------------------------------------------------------------------------------------------------
# AC-19 and STD-GAE-4: the expected actor step over whole episodes
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EpisodeCase:
    mdp: TabularMDP
    logits: np.ndarray
    potential: np.ndarray  # an arbitrary critic Φ
    lam: float

    def __repr__(self) -> str:
        return (
            f"EpisodeCase(lam={self.lam!r}, logits={self.logits.tolist()!r},\n"
            f"  Φ={self.potential.tolist()!r}, mdp={self.mdp!r})"
        )


@st.composite
def episode_cases(draw):
    mdp = draw(episodic_mdps(max_states=4, max_actions=2))
    return EpisodeCase(mdp, draw(softmax_logits(mdp)), draw(value_functions(mdp)), draw(unit_interval()))


def time_major(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, 0, 1)


@pytest.mark.claim("AC-19", "STD-GAE-4", "GAE-9")
@given(case=episode_cases(), step_size=st.floats(0.01, 10.0))
def test_expected_actor_step_and_shaping_over_whole_episodes(case, step_size):
    """Over every episode of an absorbing MDP (notes §AC, §GAE), with the exact critic V^π:

    * AC-19: E[θ + αΣ_t δ_t ∇log π(a_t|s_t)] = θ + α g^γ, g^γ[s, a] = η(s)π(a|s)A^π(s, a), η the undiscounted
      expected visits (convention C2); with I_t = γ^t it is θ + α∇J_γ (convention C1, Sutton & Barto's I ← γI);
    * STD-GAE-4: GAE(γ, λ) with an arbitrary critic Φ is GAE of the shaped rewards r + γΦ(s') − Φ(s) with a zero
      critic, and at λ = 1 the expected direction is g^γ whatever Φ is;
    * GAE-9 (bias): |E[Â_0 − (Q^π(s_0, a_0) − Φ(s_0)) | s_0, a_0]| ≤ γ(1 − λ)/(1 − γλ)‖Φ − V^π‖_∞ for λ ∈ {0,
      the drawn λ, 1}.
    """
    mdp, theta = case.mdp, case.logits.ravel()
    end = mdp.n_states - 1
    pi = softmax(case.logits)
    paths = enumerate_trajectories(mdp, pi, mdp.n_states - 1)
    states, actions, p = paths.states, paths.actions, paths.probabilities
    alive = time_major(states[:, :-1] != end)
    flags = time_major(states[:, 1:] == end)
    rewards = time_major(paths.rewards(mdp))
    exact = state_values(mdp, pi)
    features = np.eye(mdp.n_states * mdp.n_actions).reshape(mdp.n_states, mdp.n_actions, -1)
    scores = time_major(LinearSoftmaxPolicy(features).score(theta)[states[:, :-1], actions])

    def segment(critic: np.ndarray):
        return rewards, critic[time_major(states[:, :-1])], critic[time_major(states[:, 1:])], flags

    deltas = td_errors(*segment(exact), gamma=mdp.gamma) * alive
    A = action_values(mdp, pi) - exact[:, None]
    kernel = policy_transitions(mdp, pi)[:end, :end]
    visits = np.linalg.solve(np.eye(end) - kernel.T, mdp.nu0[:end])
    g2 = np.zeros_like(A)
    g2[:end] = visits[:, None] * pi[:end] * A[:end]
    scale = value_scale(mdp.R, mdp.gamma) + float(np.abs(case.potential).max())
    tol = solve_tolerance(mdp, 1e-9 * scale * mdp.n_states * (1 + step_size))
    c2 = actor_update(theta, scores, p * deltas, step_size=step_size)
    assert_identity(c2, theta + step_size * g2.ravel(), **tol, what="AC-19: E[actor step], C2")
    c1 = actor_update(theta, scores, p * deltas, step_size=step_size, discount=mdp.gamma)
    gradient = softmax_policy_gradient(mdp, case.logits).ravel()
    assert_identity(c1, theta + step_size * gradient, **tol, what="AC-19: E[actor step] with γ^t, C1")

    none = np.zeros_like(flags)
    grid = sorted({0.0, case.lam, 1.0})
    advantages = {lam: gae(*segment(case.potential), none, gamma=mdp.gamma, lam=lam) for lam in grid}
    shaped = rewards + mdp.gamma * ~flags * case.potential[time_major(states[:, 1:])]
    shaped -= case.potential[time_major(states[:, :-1])]
    zero = np.zeros_like(rewards)
    assert_identity(
        advantages[case.lam],
        gae(shaped, zero, zero, flags, none, gamma=mdp.gamma, lam=case.lam),
        atol=1e-9 * scale,
        what="STD-GAE-4: GAE vs shaped rewards",
    )
    direction = actor_direction(scores, p * advantages[1.0] * alive)
    assert_identity(direction, g2.ravel(), **tol, what="STD-GAE-4: λ = 1 direction with critic Φ")

    # GAE-9: E[(Â_0 − Q^π(s_0, a_0) + Φ(s_0)) 1{s_0 = s, a_0 = a}] against Pr(s_0 = s, a_0 = a) times the bound
    first = (states[:, 0], actions[:, 0])
    misses, reach = np.zeros((len(grid), *A.shape)), np.zeros(A.shape)
    np.add.at(reach, first, p)
    for k, lam in enumerate(grid):
        np.add.at(misses[k], first, p * (advantages[lam][0] - A[first] - exact[first[0]] + case.potential[first[0]]))
    factors = np.array([mdp.gamma * (1 - lam) / (1 - mdp.gamma * lam) for lam in grid])
    bounds = factors[:, None, None] * reach * np.abs(case.potential - exact)[:end].max()
    assert_at_least(bounds, np.abs(misses), atol=tol["atol"], what=f"GAE-9: bias bound on λ = {grid}")


def test_actor_step_follows_the_array_rule():
    """AC-19 (notes §AC): numpy in → numpy out; torch float32 in → a float32 tensor whose derivative in δ_t is
    I_t ∇log π(a_t|s_t) = discount^t · score_t, by autograd."""
    scores = np.array([[1.0, -1.0], [0.5, 2.0], [-3.0, 0.25]])
    deltas = np.array([1.0, -2.0, 0.5])
    direction = actor_direction(scores, deltas, discount=0.5)
    assert isinstance(direction, np.ndarray) and direction.tolist() == [1.0 - 0.5 - 0.375, -1.0 - 2.0 + 0.03125]
    tensor_deltas = torch.tensor(deltas, dtype=torch.float32, requires_grad=True)
    stepped = actor_update(torch.zeros(2), torch.tensor(scores, dtype=torch.float32), tensor_deltas, step_size=2.0)
    assert stepped.dtype == torch.float32 and torch.equal(
        stepped.detach(), 2 * torch.tensor(scores.T @ deltas, dtype=torch.float32)
    )
    (gradient,) = torch.autograd.grad(
        actor_direction(torch.tensor(scores), tensor_deltas, discount=0.5)[1], tensor_deltas
    )
    assert gradient.tolist() == [-1.0, 1.0, 0.0625]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: critic_loss_gradient([0.0], [0.0], [0.0], np.array([False]), [1.0], gamma=0.9), "value_gradients"),
        (lambda: critic_loss_gradient([0.0], [0.0], [0.0], np.array([False]), [[1.0]], gamma=1.5), "gamma"),
        (
            lambda: critic_update([0.0, 0.0], [0.0], [0.0], [0.0], np.array([False]), [[1.0]], gamma=0.9, step_size=1),
            "weights",
        ),
        (
            lambda: linear_critic_update([0.0], [[1.0]], [[1.0]], [0.0], np.array([False]), gamma=0.9, step_size=0),
            "step_size",
        ),
        (
            lambda: linear_critic_update(
                [0.0], [[1.0, 2.0]], [[1.0, 2.0]], [0.0], np.array([False]), gamma=0.9, step_size=1
            ),
            "features",
        ),
        (lambda: actor_direction([[1.0]], [1.0, 2.0]), "scores"),
        (lambda: actor_direction([[1.0]], [1.0], discount=2.0), "discount"),
        (lambda: actor_update([0.0, 0.0], [[1.0]], [1.0], step_size=1.0), "theta"),
        (
            lambda: expected_td_steps(TC4.mdp, TC4.pi, [0.0] * 3, step_size=1.0, steps=2, state_weights=[1, -1, 1]),
            "state_weights",
        ),
        (lambda: expected_td_steps(TC4.mdp, TC4.pi, [0.0] * 2, step_size=1.0, steps=2), "values"),
        (lambda: expected_td_steps(TC4.mdp, TC4.pi, [0.0] * 3, step_size=1.0, steps=0), "steps"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()
