"""Exact policy evaluation on a tabular MDP: the policy's Markov chain, V^π, Q^π, A^π and J(π)."""

from __future__ import annotations

import numpy as np

from lineage.tabular.mdp import TabularMDP


def policy_transitions(mdp: TabularMDP, pi) -> np.ndarray:
    """The state-to-state transition matrix of the chain the policy induces, P_π[s, s'] = Σ_a π(a|s) P(s'|s, a).

        P_π(s'|s) = Pr(s_{t+1} = s' | s_t = s) = Σ_a π(a|s) P(s'|s, a)

    Under a stationary policy the states form a Markov chain with kernel P_π, so the law of s_t is
    ν0ᵀ P_π^t; this is the matrix of the linear solves for V^π and d^π.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §3.5 (the sum over actions
    and next states in the Bellman equation), and Puterman (1994), *Markov Decision Processes*, ch. 6. Serves
    PG-1 (J = ν0ᵀ(I − γP_π)⁻¹r_π), OCC-1, OCC-2 and TRPO-2 (notes §PG, §OCC, §TRPO).

    Args:
        mdp: the MDP, P of shape [S, A, S].
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S, S] row-stochastic array, entry [s, s'] = P_π(s'|s).

    Raises:
        ValueError: if ``pi`` is not an [S, A] array of distributions.
    """
    return np.einsum("sa,sat->st", mdp.check_policy(pi), mdp.P)


def policy_rewards(mdp: TabularMDP, pi) -> np.ndarray:
    """The expected one-step reward in each state under the policy, r_π[s] = Σ_a π(a|s) R(s, a).

        r_π(s) = E[r_t | s_t = s] = Σ_a π(a|s) R(s, a)

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §3.5, and Puterman (1994),
    *Markov Decision Processes*, ch. 6. The reward vector of PG-1, J = ν0ᵀ(I − γP_π)⁻¹r_π (notes §PG).

    Args:
        mdp: the MDP, R of shape [S, A].
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S] array, r_π(s).

    Raises:
        ValueError: if ``pi`` is not an [S, A] array of distributions.
    """
    return (mdp.check_policy(pi) * mdp.R).sum(axis=1)


def state_values(mdp: TabularMDP, pi) -> np.ndarray:
    """State values of a stationary policy, V^π = (I − γP_π)⁻¹ r_π, by one linear solve (needs γ < 1).

        V^π(s) = E[Σ_t γ^t r_t | s_0 = s] = r_π(s) + γ Σ_{s'} P_π(s'|s) V^π(s')
        V^π = (I − γP_π)⁻¹ r_π = Σ_t γ^t P_π^t r_π

    The second line solves the Bellman expectation equation of the first: P_π is row-stochastic, so for
    γ < 1 the Neumann series converges and I − γP_π is invertible.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §3.5 (Bellman equation for
    v_π) and §4.1 (policy evaluation); Puterman (1994), *Markov Decision Processes*, ch. 6. Serves PG-1,
    BASE-1, BASE-2, AC-10, AC-12, GAE-2 and, as the old policy's values, TRPO-2, TRPO-3, TRPO-8 (notes §PG,
    §VAR, §TD, §GAE, §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S] array, V^π(s).

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    require_discounting(mdp)
    identity = np.eye(mdp.n_states)
    return np.linalg.solve(identity - mdp.gamma * policy_transitions(mdp, pi), policy_rewards(mdp, pi))


def action_values(mdp: TabularMDP, pi) -> np.ndarray:
    """Action values of a stationary policy, Q^π(s, a) = R(s, a) + γ Σ_{s'} P(s'|s, a) V^π(s') (needs γ < 1).

        Q^π(s, a) = E[Σ_t γ^t r_t | s_0 = s, a_0 = a] = R(s, a) + γ (P V^π)(s, a),   V^π(s) = Σ_a π(a|s) Q^π(s, a)

    One step of the model on top of :func:`state_values`.

    See Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §3.5 (q_π in terms of v_π).
    Serves AC-10 and AC-12 (Bellman expectation equation, notes §TD), PG-3 (∇J = Σ_s ν Σ_a Q ∇π / (1 − γ),
    notes §PG) and the GAE expectation laws STD-GAE-2, STD-GAE-5 (notes §GAE).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S, A] array, Q^π(s, a).

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    return mdp.R + mdp.gamma * mdp.P @ state_values(mdp, pi)


def advantages(mdp: TabularMDP, pi) -> np.ndarray:
    """Advantages of a stationary policy, A^π(s, a) = Q^π(s, a) − V^π(s) (needs γ < 1).

        A^π(s, a) = Q^π(s, a) − V^π(s) = E_{s'~P(·|s, a)}[R(s, a) + γV^π(s') − V^π(s)]
        Σ_a π(a|s) A^π(s, a) = 0

    The advantage is the expected TD error of the exact critic, and has mean zero under the policy itself.

    See Kakade & Langford (2002), "Approximately Optimal Approximate Reinforcement Learning" (the advantage in
    the performance-difference lemma), and Schulman et al. (2016), "High-Dimensional Continuous Control Using
    Generalized Advantage Estimation", §2. Serves BASE-1, BASE-2 (notes §VAR), AC-10, GAE-2 (notes §TD, §GAE),
    the performance-difference claims TRPO-5, TRPO-7, TRPO-8, STD-PDL-1 (notes §TRPO) and the gradient of
    STD-PG-1 (notes §PG).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        [S, A] array, A^π(s, a).

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    return action_values(mdp, pi) - state_values(mdp, pi)[:, None]


def objective(mdp: TabularMDP, pi) -> float:
    """The expected discounted return from the start distribution, J(π) = ν0ᵀ V^π (needs γ < 1).

        J(π) = E[Σ_t γ^t r_t] = E_{s_0~ν0}[V^π(s_0)] = ν0ᵀ(I − γP_π)⁻¹ r_π = ⟨ρ^π, R⟩ / (1 − γ)

    with ρ^π the normalised occupancy measure of :func:`lineage.tabular.occupancy`.

    See Sutton et al. (2000), "Policy Gradient Methods for Reinforcement Learning with Function
    Approximation" (the start-state formulation), and Sutton & Barto (2018), *Reinforcement Learning: An
    Introduction*, 2nd ed., §13.2 (J(θ) = v_{π_θ}(s_0)). Serves PG-1 (notes §PG), OCC-3 (notes §OCC) and, as
    J(π') − J(π), TRPO-2, TRPO-3, TRPO-5, TRPO-7, TRPO-8 and STD-PDL-1 (notes §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.
        pi: [S, A] policy, rows on the simplex.

    Returns:
        J(π) as a Python float.

    Raises:
        ValueError: if γ = 1, or if ``pi`` is not an [S, A] array of distributions.
    """
    return float(mdp.nu0 @ state_values(mdp, pi))


def require_discounting(mdp: TabularMDP) -> None:
    """Refuse γ = 1 (``ValueError``): the infinite-horizon solves need I − γP_π invertible."""
    if mdp.gamma >= 1.0:
        raise ValueError("gamma: infinite-horizon quantities need gamma < 1; use finite_horizon for gamma = 1")
