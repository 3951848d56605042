"""Finite-horizon evaluation by backward induction (spec §0.2; claims BASE-3, STD-TT-2).

V_H = terminal values (0 for an episode that ends at H, V^π to bootstrap a cut),
Q_h = R + γ P V_{h+1},   V_h(s) = Σ_a π(a|s) Q_h(s, a),   h = H − 1, …, 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array, check_positive_int
from lineage.tabular.mdp import TabularMDP


@dataclass(frozen=True)
class FiniteHorizonValues:
    V: np.ndarray  # [H + 1, S], V[H] = terminal values
    Q: np.ndarray  # [H, S, A]


def backward_induction(mdp: TabularMDP, pi, horizon: int, terminal_values=None) -> FiniteHorizonValues:
    """Time-indexed V_h and Q_h of a stationary policy over ``horizon`` steps."""
    pi = mdp.check_policy(pi)
    horizon = check_positive_int("horizon", horizon)
    V = np.zeros((horizon + 1, mdp.n_states))
    if terminal_values is not None:
        terminal = as_float_array("terminal_values", terminal_values)
        if terminal.shape != (mdp.n_states,):
            raise ValueError(f"terminal_values: expected shape ({mdp.n_states},), got {terminal.shape}")
        V[horizon] = terminal
    Q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    for h in reversed(range(horizon)):
        Q[h] = mdp.R + mdp.gamma * mdp.P @ V[h + 1]
        V[h] = (pi * Q[h]).sum(axis=1)
    return FiniteHorizonValues(V, Q)
