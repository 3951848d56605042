"""The random MDPs and the Gymnasium environment behind the collection tests of the segment contract (claims
STD-TT-1, STD-TT-2; notes §PPO): ``random_mdp`` builds a valid MDP that its generator alone determines, and
``TabularEnv`` samples start states and transitions from (ν0, P) and pays R exactly, by inverting the CDF at one
uniform number of its own generator per draw.

No Monte-Carlo frequency is compared with a probability. The sampler is held pointwise to the exact running sums of
the probabilities (fractions of the given floats) for every u, boundaries included: the set of u ∈ [0, 1) mapped to
outcome i is then an interval whose length is p_i / Σ p up to the rounding of the running sums, which is the exact
distribution of the outcome under a uniform u. The environment is replayed draw by draw from the generator Gymnasium
seeds ``reset`` with.

Tolerances: a running sum of n float64 probabilities and its product with u round within (n + 1)·eps of the exact
total; a normalised row of n weights sums to 1 within (n + 1)·eps.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from gymnasium.utils import seeding
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import distributions
from lineage.tabular import TabularMDP, random_mdp
from lineage.tabular.env import TabularEnv, sample_outcome

EPS = float(np.finfo(np.float64).eps)
WEIGHT_FLOOR = 1e-3  # random_mdp's weights are uniform in [1e-3, 1)
LARGEST_BELOW_ONE = float(np.nextafter(1.0, 0.0))

seeds = st.integers(0, 2**32 - 1)
unit_gammas = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))


# --------------------------------------------------------------------------------------------------------
# random_mdp
# --------------------------------------------------------------------------------------------------------


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@given(seed=seeds, n_states=st.integers(1, 5), n_actions=st.integers(1, 4), gamma=unit_gammas)
def test_random_mdp_is_a_valid_mdp_fixed_by_its_generator(seed, n_states, n_actions, gamma):
    """STD-TT-1, STD-TT-2 (notes §PPO; the MDPs of the Gymnasium collection tests): random_mdp(rng, S, A, γ) has
    P [S, A, S] with every row a distribution whose entries exceed 10⁻³/S, ν0 likewise, R [S, A] in [−1, 1) and the
    given γ (both ends of [0, 1] included); two generators of the same seed give the same MDP bit for bit, and it is
    the documented construction: weights of P, then of ν0, then R, drawn in that order from the generator."""
    mdp = random_mdp(np.random.default_rng(seed), n_states, n_actions, gamma)
    assert mdp.P.shape == (n_states, n_actions, n_states), mdp.P.shape
    assert mdp.R.shape == (n_states, n_actions) and mdp.nu0.shape == (n_states,), (mdp.R.shape, mdp.nu0.shape)
    assert mdp.gamma == gamma, (mdp.gamma, gamma)
    atol = (n_states + 1) * EPS
    floor = WEIGHT_FLOOR / n_states * (1 - atol)
    for name, probabilities in (("P", mdp.P), ("nu0", mdp.nu0)):
        sums = probabilities.sum(axis=-1)
        assert np.all(np.abs(sums - 1) <= atol), f"{name}: sums {sums!r} differ from 1 by more than {atol:.3g}"
        assert np.all(probabilities > floor), f"{name}: an entry below 1e-3/S = {floor:.3g}: {probabilities!r}"
    assert np.all((mdp.R >= -1) & (mdp.R < 1)), f"R outside [−1, 1): {mdp.R!r}"

    again = random_mdp(np.random.default_rng(seed), n_states, n_actions, gamma)
    for name in ("P", "R", "nu0"):
        assert np.array_equal(getattr(again, name), getattr(mdp, name)), (
            f"{name} differs between two runs of seed {seed}"
        )

    rng = np.random.default_rng(seed)
    weights = rng.uniform(WEIGHT_FLOOR, 1.0, size=(n_states, n_actions, n_states))
    start = rng.uniform(WEIGHT_FLOOR, 1.0, size=n_states)
    rewards = rng.uniform(-1.0, 1.0, size=(n_states, n_actions))
    assert np.array_equal(mdp.P, weights / weights.sum(axis=-1, keepdims=True)), "P is not the normalised first draw"
    assert np.array_equal(mdp.nu0, start / start.sum()), "ν0 is not the normalised second draw"
    assert np.array_equal(mdp.R, rewards), "R is not the third draw"


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@given(seed=seeds, gamma=st.sampled_from([-0.1, -5e-324, float(np.nextafter(1.0, 2.0)), 1.5, math.nan, math.inf]))
def test_random_mdp_refuses_a_discount_outside_the_unit_interval(seed, gamma):
    """STD-TT-1, STD-TT-2 (notes §PPO): γ just outside [0, 1] (the nearest floats on either side), NaN or ∞ raises
    ValueError naming gamma."""
    with pytest.raises(ValueError, match=r"^gamma:"):
        random_mdp(np.random.default_rng(seed), 2, 2, gamma)


# --------------------------------------------------------------------------------------------------------
# The inverse-CDF sampler
# --------------------------------------------------------------------------------------------------------


@st.composite
def outcomes_and_uniforms(draw) -> tuple[np.ndarray, float]:
    """Weights over 1..5 outcomes: a distribution (zeros allowed, leading and trailing ones too) or the same scaled
    by 1/4 or 3, as the sampler takes any non-negative weights with a positive sum; and u ∈ [0, 1): 0, the largest
    float below 1, a running sum of the probabilities or one of its float neighbours, or any float in between."""
    scale = draw(st.sampled_from([1.0, 0.25, 3.0]), label="scale")
    probabilities = scale * draw(distributions(draw(st.integers(1, 5), label="n")), label="p")
    boundaries = np.cumsum(probabilities)[:-1]
    near = [x for b in boundaries for x in (np.nextafter(b, 0.0), b, np.nextafter(b, 1.0))]
    special = st.sampled_from([0.0, LARGEST_BELOW_ONE, *[float(x) for x in near if x < 1.0]])
    u = draw(st.one_of(special, st.floats(0.0, 1.0, exclude_max=True)), label="u")
    return probabilities, u


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@given(case=outcomes_and_uniforms())
@example(case=(np.array([0.0, 1.0, 0.0]), 0.0))
@example(case=(np.array([0.0, 1.0, 0.0]), LARGEST_BELOW_ONE))
def test_the_sampler_inverts_the_exact_cdf_and_never_returns_an_impossible_outcome(case):
    """STD-TT-1, STD-TT-2 (notes §PPO): sample_outcome(p, u) is the outcome i with F_{i−1} ≤ u·F_{n−1} < F_i for the
    exact running sums F_i = p_0 + … + p_i (up to their float64 rounding), and p_i > 0 without any tolerance: an
    outcome of probability 0 is never drawn, not even at u = 0 or u just below 1."""
    probabilities, u = case
    outcome = sample_outcome(probabilities, u)
    assert 0 <= outcome < len(probabilities), (outcome, probabilities)
    assert probabilities[outcome] > 0, f"u = {u!r} drew outcome {outcome} of probability 0 from {probabilities!r}"
    running = np.cumsum([Fraction(0), *(Fraction(float(p)) for p in probabilities)])  # F_{−1} = 0, F_0, …
    total = running[-1]
    position = Fraction(u) * total
    rounding = Fraction((len(probabilities) + 1) * EPS) * total
    assert running[outcome] - rounding <= position < running[outcome + 1] + rounding, (
        f"u·F = {float(position)!r} drew outcome {outcome}, whose interval is [{float(running[outcome])!r}, "
        f"{float(running[outcome + 1])!r}) of the exact CDF of {probabilities!r}"
    )


# --------------------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------------------


@st.composite
def sparse_mdps(draw) -> TabularMDP:
    """S ∈ [1, 4] states, A ∈ [1, 3] actions; every row of P and ν0 any distribution, zeros allowed; R in [−1, 1]."""
    n_states, n_actions = draw(st.integers(1, 4), label="S"), draw(st.integers(1, 3), label="A")
    rows = distributions(n_states)
    P = np.array([[draw(rows) for _ in range(n_actions)] for _ in range(n_states)])
    R = draw(arrays(np.float64, (n_states, n_actions), elements=st.floats(-1.0, 1.0)), label="R")
    return TabularMDP(P, R, draw(rows, label="nu0"), 0.9)


@st.composite
def rollouts(draw) -> tuple[TabularMDP, frozenset, int, list[int]]:
    mdp = draw(sparse_mdps())
    terminal = draw(st.frozensets(st.integers(0, mdp.n_states - 1)), label="terminal states")
    actions = draw(st.lists(st.integers(0, mdp.n_actions - 1), max_size=8), label="actions")
    return mdp, terminal, draw(seeds, label="seed"), actions


@pytest.mark.claim("STD-TT-1", "STD-TT-2")
@given(rollout=rollouts())
def test_the_env_replays_from_its_seed_through_p_and_r(rollout):
    """STD-TT-1, STD-TT-2 (notes §PPO): after reset(seed=k) the environment's generator is the one Gymnasium seeds
    with k, and each draw consumes one uniform u of it: s_0 = sample_outcome(ν0, u), and step(a) from s pays exactly
    R(s, a), moves to s' = sample_outcome(P(·|s, a), u), reports terminated iff s' is terminal and never truncates.
    Every state visited has positive probability (ν0(s_0) > 0, P(s'|s, a) > 0)."""
    mdp, terminal, seed, actions = rollout
    env = TabularEnv(mdp, terminal_states=tuple(terminal))
    replay, _ = seeding.np_random(seed)
    state, info = env.reset(seed=seed)
    expected = sample_outcome(mdp.nu0, replay.random())
    assert (state, info) == (expected, {}), f"reset(seed={seed}) gave {state}, the replay {expected}"
    assert mdp.nu0[state] > 0, f"start state {state} has ν0 = 0: {mdp.nu0!r}"
    for t, action in enumerate(actions):
        transition = (mdp.P[state, action], mdp.R[state, action])
        got = env.step(action)
        following = sample_outcome(transition[0], replay.random())
        assert got == (following, float(transition[1]), following in terminal, False, {}), (
            f"step {t} (a = {action} from s = {state}): got {got}, the replay gives s' = {following}, "
            f"r = {transition[1]!r}, terminated = {following in terminal}"
        )
        assert transition[0][following] > 0, f"step {t}: moved to {following}, of probability 0 under {transition[0]!r}"
        state = following
