"""Exact policy evaluation on a tabular MDP (spec §0.2).

    P_π = Σ_a π(a|s) P(s'|s, a),  r_π = Σ_a π(a|s) R(s, a),  V^π = (I − γP_π)⁻¹ r_π,
    Q^π = R + γ P V^π,  A^π = Q^π − V^π,  J(π) = ν0ᵀ V^π

(notes §PG, §AC, §TD; claims PG-1, BASE-1, AC-10, AC-12).
"""

from __future__ import annotations

import numpy as np

from lineage.tabular.mdp import TabularMDP


def policy_transitions(mdp: TabularMDP, pi) -> np.ndarray:
    """P_π[s, s'] = Σ_a π(a|s) P(s'|s, a)."""
    return np.einsum("sa,sat->st", mdp.check_policy(pi), mdp.P)


def policy_rewards(mdp: TabularMDP, pi) -> np.ndarray:
    """r_π[s] = Σ_a π(a|s) R(s, a)."""
    return (mdp.check_policy(pi) * mdp.R).sum(axis=1)


def state_values(mdp: TabularMDP, pi) -> np.ndarray:
    """V^π = (I − γP_π)⁻¹ r_π (needs γ < 1)."""
    require_discounting(mdp)
    identity = np.eye(mdp.n_states)
    return np.linalg.solve(identity - mdp.gamma * policy_transitions(mdp, pi), policy_rewards(mdp, pi))


def action_values(mdp: TabularMDP, pi) -> np.ndarray:
    """Q^π(s, a) = R(s, a) + γ Σ_{s'} P(s'|s, a) V^π(s')."""
    return mdp.R + mdp.gamma * mdp.P @ state_values(mdp, pi)


def advantages(mdp: TabularMDP, pi) -> np.ndarray:
    """A^π(s, a) = Q^π(s, a) − V^π(s)."""
    return action_values(mdp, pi) - state_values(mdp, pi)[:, None]


def objective(mdp: TabularMDP, pi) -> float:
    """J(π) = E_{s0 ~ ν0}[V^π(s0)]."""
    return float(mdp.nu0 @ state_values(mdp, pi))


def require_discounting(mdp: TabularMDP) -> None:
    if mdp.gamma >= 1.0:
        raise ValueError("gamma: infinite-horizon quantities need gamma < 1; use finite_horizon for gamma = 1")
