"""Finite MDPs held as arrays: the ground truth every exact oracle of the suite is computed on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array, check_unit_interval

_STOCHASTIC_ATOL = 1e-9


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A finite discounted MDP M = (S, A, P, R, ν0, γ) held as validated arrays.

        P[s, a, s'] = Pr(s_{t+1} = s' | s_t = s, a_t = a),   R[s, a] = E[r_t | s_t = s, a_t = a],
        nu0[s] = ν0(s) = Pr(s_0 = s),   γ ∈ [0, 1]

    A trajectory runs s_0 ~ ν0, a_t ~ π(·|s_t), s_{t+1} ~ P(·|s_t, a_t), and the criterion is the expected
    discounted reward E[Σ_t γ^t r_t]. Only the mean reward R(s, a) is stored: every expectation the toolkit
    computes (values, visitation, gradients) depends on the reward law through its mean alone, which is what
    AC-12 checks with rewards that are random given (s, a, s'). γ = 1 is allowed for the finite-horizon tools
    (:func:`lineage.tabular.backward_induction`, :func:`lineage.tabular.enumerate_trajectories`); the
    infinite-horizon solves refuse it.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., ch. 3 (finite MDPs), and
    Puterman (1994), *Markov Decision Processes*, ch. 2 (the model). It is the model under every tabular
    claim: PG-1, PG-3, STD-PG-1, BASE-1..BASE-3, AC-10, AC-12, TRPO-2, TRPO-3, TRPO-5, TRPO-7, TRPO-8,
    STD-PDL-1, OCC-1..OCC-4, GAE-2, GAE-4, STD-GAE-2, STD-GAE-5, STD-TT-2 (notes §PG, §VAR, §TD, §TRPO, §OCC,
    §GAE, §PPO).

    Args:
        P: [S, A, S] transition probabilities; every slice P[s, a, :] is non-negative and sums to 1 (to 1e-9).
        R: [S, A] expected rewards R(s, a), finite.
        nu0: [S] start distribution ν0, non-negative, summing to 1 (to 1e-9).
        gamma: discount γ, a real number in [0, 1].

    Raises:
        ValueError: naming the argument, if an array cannot be read as real numbers, has a non-finite entry or
            the wrong shape, if a slice of P or nu0 is not a distribution, or if gamma is not a real in [0, 1].
    """

    P: np.ndarray
    R: np.ndarray
    nu0: np.ndarray
    gamma: float

    def __post_init__(self) -> None:
        P = as_float_array("P", self.P)
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"P: expected shape [S, A, S], got {P.shape}")
        R = as_float_array("R", self.R)
        if R.shape != P.shape[:2]:
            raise ValueError(f"R: expected shape {P.shape[:2]} = [S, A], got {R.shape}")
        check_distributions("P", P)
        nu0 = as_float_array("nu0", self.nu0)
        if nu0.shape != (P.shape[0],):
            raise ValueError(f"nu0: expected shape ({P.shape[0]},), got {nu0.shape}")
        check_distributions("nu0", nu0)
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "nu0", nu0)
        object.__setattr__(self, "gamma", check_unit_interval("gamma", self.gamma))

    @property
    def n_states(self) -> int:
        """S, the number of states (``P.shape[0]``)."""
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        """A, the number of actions (``P.shape[1]``)."""
        return self.P.shape[1]

    def check_policy(self, pi) -> np.ndarray:
        """The policy ``pi`` as a validated [S, A] array whose rows lie on the simplex.

            π(a|s) ≥ 0 for every (s, a),   Σ_a π(a|s) = 1 (to 1e-9) for every s

        A stationary stochastic policy: π(a|s) = Pr(a_t = a | s_t = s) at every t (Sutton & Barto 2018,
        *Reinforcement Learning: An Introduction*, §3.5). Every function of the toolkit that takes a policy
        calls this first, so it guards every tabular claim (e.g. PG-1, OCC-1, TRPO-5; notes §PG, §OCC, §TRPO).

        Args:
            pi: [S, A] array-like of probabilities π(a|s).

        Returns:
            [S, A] floating array (integers are promoted to float64, float32 stays float32).

        Raises:
            ValueError: if ``pi`` is not numeric, has a non-finite entry, is not of shape [S, A], or has a row
                with a negative entry or a sum differing from 1 by more than 1e-9.
        """
        pi = as_float_array("pi", pi)
        if pi.shape != (self.n_states, self.n_actions):
            raise ValueError(f"pi: expected shape ({self.n_states}, {self.n_actions}), got {pi.shape}")
        check_distributions("pi", pi)
        return pi

    def __repr__(self) -> str:
        return (
            f"TabularMDP(S={self.n_states}, A={self.n_actions}, gamma={self.gamma!r},\n"
            f"  P={self.P.tolist()!r},\n  R={self.R.tolist()!r},\n  nu0={self.nu0.tolist()!r})"
        )


def check_distributions(name: str, p: np.ndarray) -> None:
    """Refuse (``ValueError`` naming ``name``) unless every slice along the last axis is ≥ 0 and sums to 1 ± 1e-9."""
    if np.any(p < 0) or not np.all(np.abs(p.sum(axis=-1) - 1.0) <= _STOCHASTIC_ATOL):  # NaN fails too
        raise ValueError(f"{name}: entries must be >= 0 and sum to 1 along the last axis")


def random_mdp(rng: np.random.Generator, n_states: int, n_actions: int, gamma: float) -> TabularMDP:
    """A dense random MDP: P(·|s, a) and ν0 normalised from uniform weights, R(s, a) ~ Uniform(−1, 1).

        P(s'|s, a) = w(s, a, s') / Σ_{s''} w(s, a, s''),   ν0(s) = u(s) / Σ_{s'} u(s'),   w, u i.i.d. ~ Uniform(10⁻³, 1)

    Every transition and start probability is at least 10⁻³ / S, so every state is reachable from every state
    in one step whatever the policy. The generator is consumed in a fixed order (P, then ν0, then R), so a seed
    fixes the MDP.

    A test fixture, not taken from a paper: it builds the MDPs of the toolkit's unit tests and of the Gymnasium
    collection test of the segment contract (STD-TT-1, STD-TT-2; notes §PPO). The properties draw their MDPs
    with Hypothesis instead.

    Args:
        rng: NumPy random generator the weights and rewards are drawn from.
        n_states: S ≥ 1.
        n_actions: A ≥ 1.
        gamma: discount γ in [0, 1].

    Returns:
        A :class:`TabularMDP` with [S, A, S] P, [S, A] R, [S] ν0 and discount γ.

    Raises:
        ValueError: if gamma is not a real number in [0, 1].
    """
    P = rng.uniform(1e-3, 1.0, size=(n_states, n_actions, n_states))
    nu0 = rng.uniform(1e-3, 1.0, size=n_states)
    R = rng.uniform(-1.0, 1.0, size=(n_states, n_actions))
    return TabularMDP(P / P.sum(-1, keepdims=True), R, nu0 / nu0.sum(), gamma)
