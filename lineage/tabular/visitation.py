"""Discounted state visitation (unnormalised d^π and normalised ν^π) and occupancy measures of a policy."""

from __future__ import annotations

import numpy as np

from lineage.tabular.evaluation import policy_transitions, require_discounting
from lineage.tabular.mdp import TabularMDP


def discounted_visitation(mdp: TabularMDP, pi) -> np.ndarray:
    """The unnormalised discounted visitation d^π = Σ_t γ^t Pr(s_t = ·) = (I − γP_πᵀ)⁻¹ ν0 (needs γ < 1).

        d^π(s) = Σ_t γ^t Pr(s_t = s | s_0 ~ ν0, π),   d^π = ν0 + γ P_πᵀ d^π = (I − γP_πᵀ)⁻¹ ν0,   Σ_s d^π(s) = 1/(1 − γ)

    The law of s_t is ν0ᵀP_π^t, so the series is ν0ᵀ Σ_t (γP_π)^t, solved here in one step. This is the
    weighting of the policy-gradient theorem in Sutton et al. and of TRPO's ρ_π: with it no factor 1/(1 − γ)
    appears; :func:`state_visitation` is the normalised (1 − γ) d^π.

    See Sutton et al. (2000), "Policy Gradient Methods for Reinforcement Learning with Function
    Approximation", Theorem 1 (d^π in the start-state formulation), and Schulman et al. (2015), "Trust Region
    Policy Optimization", §2 (ρ_π). Serves STD-PG-1 (notes §PG), STD-PDL-1 and TRPO-2 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S] non-negative array summing to 1/(1 − γ), d^π(s).

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    require_discounting(mdp)
    identity = np.eye(mdp.n_states)
    return np.linalg.solve(identity - mdp.gamma * policy_transitions(mdp, pi).T, mdp.nu0)


def state_visitation(mdp: TabularMDP, pi) -> np.ndarray:
    """The normalised discounted visitation ν^π = (1 − γ) Σ_t γ^t Pr(s_t = ·), a distribution (needs γ < 1).

        ν^π(s) = (1 − γ) Σ_t γ^t Pr(s_t = s) = (1 − γ) d^π(s),   ν^π = (1 − γ) ν0 + γ P_πᵀ ν^π

    ν^π is the law of s_T for a random time T independent of the trajectory with Pr(T = t) = (1 − γ) γ^t,
    t = 0, 1, …, and the fixed point of the flow recursion on the right. With this normalisation the
    policy-gradient theorem and the performance-difference lemma carry the factor 1/(1 − γ).

    See Kakade & Langford (2002), "Approximately Optimal Approximate Reinforcement Learning" (the γ-discounted
    future-state distribution). Serves OCC-1, OCC-2 (notes §OCC), PG-3 (notes §PG), TRPO-5, TRPO-7 and TRPO-8
    (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S] distribution, ν^π(s).

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    return (1.0 - mdp.gamma) * discounted_visitation(mdp, pi)


def occupancy(mdp: TabularMDP, pi) -> np.ndarray:
    """The normalised occupancy measure ρ^π(s, a) = ν^π(s) π(a|s) of state-action pairs (needs γ < 1).

        ρ^π(s, a) = (1 − γ) Σ_t γ^t Pr(s_t = s, a_t = a) = ν^π(s) π(a|s)
        Σ_a ρ^π(s', a) = (1 − γ) ν0(s') + γ Σ_{s,a} P(s'|s, a) ρ^π(s, a),   J(π) = ⟨ρ^π, R⟩ / (1 − γ)

    ρ^π is a distribution on S × A satisfying the flow constraints of the second line, and it gives the
    policy back where ν^π(s) > 0: π(a|s) = ρ^π(s, a) / Σ_b ρ^π(s, b).

    See Puterman (1994), *Markov Decision Processes*, §6.9 (the dual linear program, whose variables are the
    discounted state-action frequencies; these are ρ^π / (1 − γ) when the initial weights are ν0). Serves
    OCC-3, OCC-4 (notes §OCC) and PG-1, J = ⟨ρ, R⟩/(1 − γ) (notes §PG).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S, A] non-negative array summing to 1, ρ^π(s, a).

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    return state_visitation(mdp, pi)[:, None] * mdp.check_policy(pi)
