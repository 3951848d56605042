"""Finite-horizon policy evaluation by backward induction: the time-indexed values V_h and Q_h of a policy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lineage._validation import as_float_array, check_positive_int
from lineage.tabular.mdp import TabularMDP


@dataclass(frozen=True)
class FiniteHorizonValues:
    """The time-indexed values of a stationary policy over a horizon H, as computed by :func:`backward_induction`.

        V_h(s) = E[Σ_{h≤t<H} γ^{t−h} r_t + γ^{H−h} V_H(s_H) | s_h = s],   Q_h(s, a) = the same given s_h = s, a_h = a

    Unlike the stationary V^π, V_h depends on the steps left, H − h: it is the conditional mean return of
    BASE-3 in a finite horizon (notes §VAR). See Puterman (1994), *Markov Decision Processes*, ch. 4.

    Attributes:
        V: [H + 1, S] array, V[h, s] = V_h(s); V[H] holds the terminal values.
        Q: [H, S, A] array, Q[h, s, a] = Q_h(s, a).
    """

    V: np.ndarray  # [H + 1, S], V[H] = terminal values
    Q: np.ndarray  # [H, S, A]


def backward_induction(mdp: TabularMDP, pi, horizon: int, terminal_values=None) -> FiniteHorizonValues:
    """Time-indexed values V_h, Q_h of a stationary policy over ``horizon`` steps, by backward induction.

        V_H = terminal values (0 for an episode that ends at H; V^π to bootstrap a time-limit cut)
        Q_h(s, a) = R(s, a) + γ Σ_{s'} P(s'|s, a) V_{h+1}(s'),   V_h(s) = Σ_a π(a|s) Q_h(s, a),   h = H − 1, …, 0

    so V_h(s) = E[Σ_{h≤t<H} γ^{t−h} r_t + γ^{H−h} V_H(s_H) | s_h = s]. There is no linear solve, so γ = 1 is
    allowed. With V_H = 0, V_0 = Σ_{t<H} γ^t P_π^t r_π is the series of V^π truncated after H terms; with
    V_H = V^π every V_h equals V^π, which is why bootstrapping a cut with V^π leaves the value unbiased.

    See Puterman (1994), *Markov Decision Processes*, ch. 4 (finite-horizon policy evaluation, backward
    induction), and Sutton & Barto (2018), *Reinforcement Learning: An Introduction*, 2nd ed., §4.1. Serves
    BASE-3, E[G_t | s_t] = V_t(s_t) (notes §VAR), PG-1 through the truncated series (notes §PG), and the
    bootstrap of STD-TT-2 (notes §PPO).

    Args:
        mdp: the MDP, any γ in [0, 1].
        pi: [S, A] policy, rows on the simplex, used at every step.
        horizon: H ≥ 1, the number of steps.
        terminal_values: None for V_H = 0, or an [S] array of finite values V_H(s).

    Returns:
        :class:`FiniteHorizonValues` with V of shape [H + 1, S] and Q of shape [H, S, A].

    Raises:
        ValueError: if ``pi`` is not an [S, A] array of distributions, if ``horizon`` is not an integer ≥ 1, or
            if ``terminal_values`` is not a finite array of shape [S].
    """
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
