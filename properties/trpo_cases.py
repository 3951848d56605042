"""Policy steps on small tabular MDPs for the TRPO properties (notes §TRPO), and the two teaching instances M5 and TC-8.

A step is an MDP with old and new tabular softmax logits, new = old + scale·noise, noise ∈ [-1, 1]^{S×A}, scale ∈
[0, 2] with both ends drawn: scale 0 is π' = π, where every bound of TRPO's theory is tight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lineage.laws.cases.mdps import softmax_logits, tabular_mdps
from lineage.tabular import TabularMDP, random_mdp, softmax

MAX_SCALE = 2.0
# The hypothesis.find searches: each must find its instance within the examples; no shrinking, which would cost more
# than the search (the instance is reported as found).
SEARCH = settings(database=None, max_examples=200, phases=[Phase.generate])
DIFFERENT = 1e-3  # a search counts two numbers as different beyond this, far above any rounding here


@dataclass(frozen=True, eq=False)
class PolicyStep:
    """An MDP, a step of tabular softmax logits from θ (old policy π) to θ' (new policy π'), and a direction u in
    logit space, u ∈ [-1, 1]^{S×A}, along which derivatives are taken."""

    mdp: TabularMDP
    logits_old: np.ndarray
    logits_new: np.ndarray
    direction: np.ndarray

    @property
    def pi_old(self) -> np.ndarray:
        return softmax(self.logits_old)

    @property
    def pi_new(self) -> np.ndarray:
        return softmax(self.logits_new)

    def __repr__(self) -> str:
        return (
            f"PolicyStep({self.mdp!r},\n  logits_old={self.logits_old.tolist()!r},\n"
            f"  logits_new={self.logits_new.tolist()!r},\n  direction={self.direction.tolist()!r})"
        )


@cache
def _noise(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, allow_subnormal=False))


SEEDS = st.integers(0, 2**32 - 1)
SCALES = st.one_of(st.sampled_from([0.0, MAX_SCALE]), st.floats(0.0, MAX_SCALE, allow_subnormal=False))


@st.composite
def policy_steps(draw, max_states: int = 3, max_actions: int = 3) -> PolicyStep:
    """An MDP of ``tabular_mdps`` (S ≤ 3, A ≤ 3: every law here is exact, and small tables keep 100 draws cheap), a
    step of its logits (old logits in [-4, 4]) and a direction."""
    mdp = draw(tabular_mdps(max_states=max_states, max_actions=max_actions))
    old = draw(softmax_logits(mdp))
    noise = draw(_noise(old.shape))
    return PolicyStep(mdp, old, old + draw(SCALES) * noise, draw(_noise(old.shape)))


def self_loop(R: list[float], gamma: float) -> TabularMDP:
    """One state that every action leads back to, with rewards R(a)."""
    return TabularMDP(np.ones((1, len(R), 1)), np.array([R]), np.ones(1), gamma)


# M5: one self-looping state, γ = 0.9; π = (0.5, 0.5), π' = (0.9, 0.1), R = (1, −1) so A^π = (1, −1) (V^π = 0).
M5 = PolicyStep(self_loop([1.0, -1.0], 0.9), np.zeros((1, 2)), np.log([[0.9, 0.1]]), np.array([[1.0, 0.0]]))

# TC-8 "switch or stay": two states, action 0 leads to state 0 and action 1 to state 1 from either state; the action
# that switches state earns +1, the one that stays −1; start in state 0, γ = 0.9. π is uniform (J = 0, A^π = R,
# ν^π = (0.55, 0.45)); π' takes action 1 with probability 0.9 in both states: it switches more in state 0, where π
# spends more time (surrogate gain +0.8), and stays more in state 1, where it then gets stuck (J(π') = −4.96).
TC8 = PolicyStep(
    TabularMDP(
        P=np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]),
        R=np.array([[-1.0, 1.0], [1.0, -1.0]]),
        nu0=np.array([1.0, 0.0]),
        gamma=0.9,
    ),
    np.zeros((2, 2)),
    np.log([[0.1, 0.9], [0.1, 0.9]]),
    np.array([[0.0, 1.0], [0.0, 1.0]]),
)
TC8_KL = math.log(5.0 / 3.0)  # KL((½, ½) ‖ (0.1, 0.9)) = ½ log(25/9), the same in both states


def seeded_steps(min_states: int = 1, max_states: int = 3) -> st.SearchStrategy[PolicyStep]:
    """For the searches: a step drawn from a seed, with ``random_mdp`` (S ∈ [min_states, max_states], A ∈ [2, 3], γ ∈
    {0.5, 0.9, 0.95}), old logits uniform in [-4, 4], new = old + scale·noise with scale uniform in [0, 2]. Hypothesis'
    array draws favour simple values (zero logits, equal rewards) where the searched-for behaviour is rare; a seed gives
    generic numbers at once, and the instance found is printed in full."""

    def build(seed: int) -> PolicyStep:
        rng = np.random.default_rng(seed)
        shape = (int(rng.integers(min_states, max_states + 1)), int(rng.integers(2, 4)))
        mdp = random_mdp(rng, *shape, float(rng.choice([0.5, 0.9, 0.95])))
        old = rng.uniform(-4.0, 4.0, shape)
        new = old + rng.uniform(0.0, MAX_SCALE) * rng.uniform(-1.0, 1.0, shape)
        return PolicyStep(mdp, old, new, rng.uniform(-1.0, 1.0, shape))

    return SEEDS.map(build)


def steering_steps() -> st.SearchStrategy[PolicyStep]:
    """TC-8's family, for its search, from a seed: S = A = 3, action a moves to state a from every state, rewards
    R(s, a) uniform in [-1, 1], a positive start distribution, γ = 0.95, and independent old and new logits uniform in
    [-4, 4] (a step of any size: the trust region is the realised KL). About one draw in ten has a positive surrogate
    gain with a lower return."""

    def build(seed: int) -> PolicyStep:
        rng, n = np.random.default_rng(seed), 3
        P = np.zeros((n, n, n))
        P[:, np.arange(n), np.arange(n)] = 1.0
        weights = rng.uniform(1e-3, 1.0, n)
        mdp = TabularMDP(P, rng.uniform(-1.0, 1.0, (n, n)), weights / weights.sum(), 0.95)
        return PolicyStep(mdp, rng.uniform(-4.0, 4.0, (n, n)), rng.uniform(-4.0, 4.0, (n, n)), np.zeros((n, n)))

    return SEEDS.map(build)
