"""Discounted state visitation and occupancy measures (notes §OCC; claims OCC-1..OCC-4).

d^π = Σ_t γ^t P_t^π = (I − γP_πᵀ)⁻¹ ν0          unnormalised (Sutton et al. 2000; TRPO's ρ_π)
ν^π = (1 − γ) d^π                                the notes' normalised visitation, a distribution
ρ^π(s, a) = ν^π(s) π(a|s)                        occupancy measure, J = ⟨ρ^π, R⟩ / (1 − γ)
"""

from __future__ import annotations

import numpy as np

from lineage.tabular.evaluation import policy_transitions, require_discounting
from lineage.tabular.mdp import TabularMDP


def discounted_visitation(mdp: TabularMDP, pi) -> np.ndarray:
    """d^π(s) = Σ_t γ^t Pr(s_t = s), which sums to 1 / (1 − γ)."""
    require_discounting(mdp)
    identity = np.eye(mdp.n_states)
    return np.linalg.solve(identity - mdp.gamma * policy_transitions(mdp, pi).T, mdp.nu0)


def state_visitation(mdp: TabularMDP, pi) -> np.ndarray:
    """ν^π(s) = (1 − γ) Σ_t γ^t Pr(s_t = s): the law of s_T for T ~ Geometric(1 − γ)."""
    return (1.0 - mdp.gamma) * discounted_visitation(mdp, pi)


def occupancy(mdp: TabularMDP, pi) -> np.ndarray:
    """ρ^π(s, a) = ν^π(s) π(a|s)."""
    return state_visitation(mdp, pi)[:, None] * mdp.check_policy(pi)
