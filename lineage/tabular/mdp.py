"""Finite MDPs (S, A, P, R, ν0, γ) as arrays, the ground truth every exact oracle is computed on.

``P[s, a, s']`` transition probabilities, ``R[s, a]`` expected reward, ``nu0[s]`` start distribution,
``gamma`` discount (spec §0.2). A policy is an array ``pi[s, a]`` whose rows are distributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array, check_unit_interval

_STOCHASTIC_ATOL = 1e-9


@dataclass(frozen=True, eq=False)
class TabularMDP:
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
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @property
    def reward_scale(self) -> float:
        """R_max / (1 − γ), the scale of values and of the tolerances of spec §0.4."""
        return max(float(np.abs(self.R).max()), 1.0) / (1.0 - min(self.gamma, 0.999999))

    def check_policy(self, pi) -> np.ndarray:
        """``pi`` as an [S, A] array of distributions, else ``ValueError``."""
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
    """Every slice along the last axis is non-negative and sums to one."""
    if np.any(p < 0) or not np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=_STOCHASTIC_ATOL):
        raise ValueError(f"{name}: entries must be >= 0 and sum to 1 along the last axis")


def random_mdp(rng: np.random.Generator, n_states: int, n_actions: int, gamma: float) -> TabularMDP:
    """A dense random MDP: P and ν0 from positive weights, R uniform in [−1, 1]."""
    P = rng.uniform(1e-3, 1.0, size=(n_states, n_actions, n_states))
    nu0 = rng.uniform(1e-3, 1.0, size=n_states)
    R = rng.uniform(-1.0, 1.0, size=(n_states, n_actions))
    return TabularMDP(P / P.sum(-1, keepdims=True), R, nu0 / nu0.sum(), gamma)
