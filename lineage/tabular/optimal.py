"""The optimal values V* of a tabular MDP, by policy iteration with exact evaluation."""

from __future__ import annotations

import numpy as np

from lineage.tabular.evaluation import require_discounting, state_values
from lineage.tabular.mdp import TabularMDP


def optimal_values(mdp: TabularMDP) -> np.ndarray:
    """The optimal state values V*(s) = max_π V^π(s), the fixed point of the Bellman optimality equation.

        V*(s) = max_a [R(s, a) + γ Σ_{s'} P(s'|s, a) V*(s')],   V* ≥ V^π pointwise for every policy π,
        J* = ν0ᵀ V* = max_π J(π)

    Computed by policy iteration (Howard 1960): evaluate the current deterministic policy exactly
    (:func:`lineage.tabular.state_values`), switch each state to a greedy action of Q = R + γPV only where it
    beats the current action, and stop when no state switches. Each switch raises V (weakly in every state,
    strictly somewhere), so no policy repeats and the loop ends after at most A^S evaluations (in practice a
    handful); the values of the last policy solve the optimality equation up to the rounding of one linear
    solve. A single deterministic policy is optimal from every start state at once, so V* is attained and
    J* = ν0ᵀV*.

    See Puterman (1994), *Markov Decision Processes*, §6.4 (policy iteration), and Sutton & Barto (2018),
    *Reinforcement Learning: An Introduction*, 2nd ed., §4.3. The optimum of PG-2 (gradient ascent reaches
    J*) and of STD-NG-3 (the NPG rate bound in V*(ρ)) (notes §PG, §TRPO).

    Args:
        mdp: the MDP; needs ``mdp.gamma < 1``.

    Returns:
        [S] array, V*(s).

    Raises:
        ValueError: if γ = 1.
    """
    require_discounting(mdp)
    rows = np.arange(mdp.n_states)
    actions = mdp.R.argmax(axis=1)
    for _ in range(mdp.n_actions**mdp.n_states):
        policy = np.zeros((mdp.n_states, mdp.n_actions))
        policy[rows, actions] = 1.0
        values = state_values(mdp, policy)
        q = mdp.R + mdp.gamma * mdp.P @ values
        switch = q.max(axis=1) > q[rows, actions]
        if not switch.any():
            break
        actions = np.where(switch, q.argmax(axis=1), actions)
    return values
